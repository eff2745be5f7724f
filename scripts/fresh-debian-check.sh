#!/usr/bin/env bash
# Prove the README on a bare Debian 12: debootstrap a minimal bookworm, install only what a user's
# bare machine has (python3 python3-venv make git ca-certificates), clone this repository's HEAD
# into it and run .ci/run there as root, without stdin, with CI=true; then `make run`, a request to
# the home page, Ctrl-C, and a check that nothing it started is left. Needs root and debootstrap.
#   scripts/fresh-debian-check.sh [DIR]      (default /tmp/incubator-fresh; reused when present)
#   SKIP_CI_RUN=1 scripts/fresh-debian-check.sh DIR    only the `make run` part
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and chroot)"
command -v debootstrap >/dev/null || die "apt-get install -y debootstrap"
DIR="${1:-/tmp/incubator-fresh}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if [ ! -x "$DIR/usr/bin/apt-get" ]; then
  say "debootstrap bookworm into $DIR"
  debootstrap --variant=minbase bookworm "$DIR" "$MIRROR" >/dev/null
fi
cp /etc/resolv.conf "$DIR/etc/resolv.conf"
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
  "$MIRROR" "$MIRROR" >"$DIR/etc/apt/sources.list"
# Services must not start inside the chroot while packages install (a real machine starts them).
printf '#!/bin/sh\nexit 101\n' >"$DIR/usr/sbin/policy-rc.d"
chmod +x "$DIR/usr/sbin/policy-rc.d"
# A network that inspects TLS needs its certificate authority on the "fresh" machine too.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$DIR/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$DIR/usr/local/share/ca-certificates/"
fi
mountpoint -q "$DIR/proc" || mount -t proc proc "$DIR/proc"
trap 'umount "$DIR/proc" 2>/dev/null || true' EXIT

IN_CHROOT=(chroot "$DIR" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
say "a user's bare machine: python3 python3-venv make git ca-certificates"
"${IN_CHROOT[@]}" bash -c 'apt-get update -qq && apt-get install -y -qq python3 python3-venv make git ca-certificates >/dev/null && update-ca-certificates >/dev/null'

rm -rf "$DIR/root/incubator"
git clone -q "$ROOT" "$DIR/root/incubator"
say "in the chroot: .ci/run on $(git -C "$DIR/root/incubator" log --oneline -1)"
rc=0
if [ -z "${SKIP_CI_RUN:-}" ]; then # SKIP_CI_RUN=1: only the make run part
  "${IN_CHROOT[@]}" CI=true bash -c 'cd /root/incubator && time .ci/run' </dev/null || rc=$?
  say ".ci/run exited with $rc"
fi

PORT="${CHECK_PORT:-5099}"
say "in the chroot: make run on port $PORT, the home page, then Ctrl-C"
"${IN_CHROOT[@]}" PORT="$PORT" REDIS_PORT="${CHECK_REDIS_PORT:-6399}" python3 - <<PY || rc=$?
import os, signal, subprocess, time, urllib.request
run = subprocess.Popen(["make", "run"], cwd="/root/incubator", start_new_session=True, stdin=subprocess.DEVNULL)
deadline, status = time.time() + 300, None
while time.time() < deadline and run.poll() is None:
    try:
        with urllib.request.urlopen("http://127.0.0.1:$PORT/", timeout=5) as response:
            status = response.status
            body = response.read().decode()
        break
    except OSError:
        time.sleep(1)
print("home page:", status, "社会组织孵化与资助管理平台" in (body if status else ""))
os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
run.wait(timeout=60)
raise SystemExit(0 if status == 200 else 1)
PY
sleep 1
left=()
for p in /proc/[0-9]*; do
  [ "$(readlink "$p/root" 2>/dev/null)" = "$(readlink -f "$DIR")" ] && left+=("${p#/proc/} $(tr '\0' ' ' <"$p/cmdline")")
done
if ((${#left[@]})); then
  warn "processes left in the chroot:"
  printf '  %s\n' "${left[@]}" >&2
  rc=1
fi
say "fresh Debian check: $([ "$rc" = 0 ] && echo passed || echo "FAILED ($rc)")"
exit "$rc"
