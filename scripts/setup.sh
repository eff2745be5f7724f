#!/usr/bin/env bash
# Install what is missing, and nothing else, so that a second run takes about a second:
#   1. Debian packages (checked with dpkg-query; apt-get only when one is missing; sudo only when not root)
#   2. .venv with the pinned Python packages (rebuilt only when pyproject.toml/constraints.txt change)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

APT_PACKAGES=(
  python3-venv          # the virtual environment below
  libharfbuzz-subset0   # fast font subsetting in WeasyPrint (~50x faster Chinese PDFs)
  fonts-noto-cjk        # Chinese glyphs in PDFs and in the browser tests
  poppler-utils         # pdftotext / pdftoppm / pdffonts (tests look inside PDFs)
  redis-server          # job queue and rate-limit counters (started by make run / make test)
  chromium              # browser tests (Playwright drives Debian's Chromium)
  postgresql            # the production database; make test runs the suite on a throwaway cluster
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "not root and no sudo: install as root: apt-get install ${missing[*]}"
    SUDO=(sudo)
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update
  "${SUDO[@]}" apt-get install -y "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
STAMP="$VENV/.incubator-installed"
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
if [ ! -x "$PY" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  if [ ! -x "$PY" ]; then
    say "creating .venv with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
  fi
  say "installing Python packages (pinned by constraints.txt)"
  "$PY" -m pip install --disable-pip-version-check --quiet -c constraints.txt -e '.[test]'
  # WeasyPrint silently falls back to a slow pure-Python subsetter without libharfbuzz-subset0.
  "$PY" -c 'from weasyprint.text.ffi import harfbuzz_subset; assert harfbuzz_subset is not None, "libharfbuzz-subset0 missing"'
  echo "$want" >"$STAMP"
fi
