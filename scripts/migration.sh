#!/usr/bin/env bash
# Alembic revisions generated from the models against a scratch SQLite database.
#   scripts/migration.sh "add tranche table"   a new revision on top of the existing ones
#   scripts/migration.sh --initial             delete migrations/versions/* and write one initial migration
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"

msg="${1:-}"
if [ "$msg" = "--initial" ]; then
  rm -f migrations/versions/*.py
  mkdir -p migrations/versions
  msg="initial schema"
fi
[ -n "$msg" ] || die 'say what the revision does: make migration MSG="add tranche table"'

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/incubator-migration.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
export INCUBATOR_ENV=development DATABASE_URL="sqlite:///$SCRATCH/scratch.db" INSTANCE_DIR="$SCRATCH/instance"
FLASK=("$VENV/bin/flask" --app incubator)
"${FLASK[@]}" db upgrade
"${FLASK[@]}" db migrate -m "$msg"
ls -1 migrations/versions/*.py
