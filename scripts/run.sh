#!/usr/bin/env bash
# make run: install what is missing, migrate, load demo data on the first run, then serve
#   Redis (127.0.0.1:$REDIS_PORT, no persistence), the RQ worker and gunicorn on http://127.0.0.1:$PORT
# until Ctrl-C, which stops all of them (and their children).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh"

export INCUBATOR_ENV="${INCUBATOR_ENV:-development}"
export INSTANCE_DIR="${INSTANCE_DIR:-$ROOT/instance}"
mkdir -p "$INSTANCE_DIR"
# A random SECRET_KEY generated once and kept in the instance folder (not in git), so sessions
# survive restarts; an explicit SECRET_KEY in the environment wins.
if [ -z "${SECRET_KEY:-}" ]; then
  if [ ! -s "$INSTANCE_DIR/secret_key" ]; then
    (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(48))' >"$INSTANCE_DIR/secret_key")
  fi
  SECRET_KEY="$(cat "$INSTANCE_DIR/secret_key")"
  export SECRET_KEY
fi
REDIS_PORT="${REDIS_PORT:-6390}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT/0}"
PORT="${PORT:-5000}"
WEB_WORKERS="${WEB_WORKERS:-3}"
FLASK=("$VENV/bin/flask" --app incubator)

cleanup() {
  if ((${#SERVICE_PIDS[@]})); then
    say "stopping ${SERVICE_NAMES[*]}"
    stop_services
  fi
}
on_exit cleanup

# Redis first: the demo data queues jobs (mail, PDFs) that should go straight to the queue.
mkdir -p "$ROOT/var"
say "starting redis-server on 127.0.0.1:$REDIS_PORT"
start_redis "$REDIS_PORT" "$ROOT/var/redis" -

say "migrating the database"
"${FLASK[@]}" db upgrade ||
  die "migration failed. If the initial migration was regenerated since this database was made, start over: rm -rf instance/ && make run"

app_facts
if [[ "$APP_COMMANDS" != *" demo-data "* ]]; then
  warn "no 'flask demo-data' command yet: starting with an empty database"
elif [ "$APP_USERS" = "0" ]; then
  say "first run: loading demo data"
  "${FLASK[@]}" demo-data
fi

read -r -a WORKER <<<"$(worker_command)"
say "starting the worker: ${WORKER[*]}"
start_service worker - "${WORKER[@]}"

say "starting gunicorn on http://127.0.0.1:$PORT ($WEB_WORKERS workers); Ctrl-C stops everything"
start_service web - "$VENV/bin/gunicorn" --bind "127.0.0.1:$PORT" --workers "$WEB_WORKERS" \
  --graceful-timeout 5 --no-control-socket --access-logfile - "incubator:create_app()"

# Until Ctrl-C or until one of the services dies (then stop the others too).
set +e
wait -n "${SERVICE_PIDS[@]}"
rc=$?
set -e
warn "a service exited (status $rc): stopping the others"
exit "$rc"
