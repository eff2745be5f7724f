# Shared helpers for scripts/*.sh (sourced, not executed).
# Every long-running service is started in its own session (setsid) so that stop_services can end it
# together with all of its children (gunicorn workers, RQ work horses, Chromium) by process group.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
SERVICE_PIDS=()
SERVICE_NAMES=()

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33m!!\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }

# A free TCP port on the loopback interface.
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_service NAME LOGFILE CMD... : run CMD in the background in a session of its own.
# With LOGFILE "-" output goes to this terminal.
start_service() {
  local name="$1" log="$2"
  shift 2
  if [ "$log" = "-" ]; then
    setsid "$@" &
  else
    setsid "$@" >"$log" 2>&1 &
  fi
  SERVICE_PIDS+=("$!")
  SERVICE_NAMES+=("$name")
}

# Is the process group led by PID still alive?
_group_alive() { kill -0 -- "-$1" 2>/dev/null; }

# stop_service PID [SIGNAL]: TERM (or SIGNAL) to the whole group, wait up to 15 s, then KILL.
stop_service() {
  local pid="$1" sig="${2:-TERM}" i
  _group_alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
  kill "-$sig" -- "-$pid" 2>/dev/null || true
  for i in $(seq 1 150); do
    _group_alive "$pid" || break
    sleep 0.1
  done
  if _group_alive "$pid"; then
    warn "process group $pid did not stop in time: killing it"
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# Stop every service started by start_service, newest first.
stop_services() {
  local i
  for ((i = ${#SERVICE_PIDS[@]} - 1; i >= 0; i--)); do
    stop_service "${SERVICE_PIDS[$i]}"
  done
  SERVICE_PIDS=()
  SERVICE_NAMES=()
}

# Forget a service stopped by hand (stop_service PID) so stop_services does not wait for it again.
forget_service() {
  local pid="$1" i pids=() names=()
  for i in "${!SERVICE_PIDS[@]}"; do
    if [ "${SERVICE_PIDS[$i]}" != "$pid" ]; then
      pids+=("${SERVICE_PIDS[$i]}")
      names+=("${SERVICE_NAMES[$i]}")
    fi
  done
  SERVICE_PIDS=("${pids[@]+"${pids[@]}"}")
  SERVICE_NAMES=("${names[@]+"${names[@]}"}")
}

# start_redis PORT DIR LOGFILE: a private, non-persistent Redis on loopback; waits until it answers.
start_redis() {
  local port="$1" dir="$2" log="$3" i
  if redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then
    die "something already answers on 127.0.0.1:$port (another 'make run'?); set REDIS_PORT to another port"
  fi
  mkdir -p "$dir"
  start_service redis "$log" redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --loglevel warning \
    --dir "$dir" --protected-mode yes
  REDIS_PID="${SERVICE_PIDS[-1]}"
  for i in $(seq 1 100); do
    if redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
      return 0
    fi
    _group_alive "$REDIS_PID" || break
    sleep 0.1
  done
  [ "$log" != "-" ] && cat "$log" >&2
  die "redis-server did not answer on 127.0.0.1:$port"
}

# app_facts: one Python start-up instead of several `flask … --help` probes. Sets APP_COMMANDS
# (the app's CLI commands, space-separated) and APP_USERS (users in the database, or "?").
app_facts() {
  local facts
  facts="$("$PY" - <<'PY'
from sqlalchemy import func, inspect, select

from incubator import create_app
from incubator.extensions import db

app = create_app()
users = "?"
with app.app_context():
    try:
        if "user_account" in inspect(db.engine).get_table_names():
            from incubator.accounts.models import User

            users = db.session.scalar(select(func.count()).select_from(User))
    except Exception:  # noqa: BLE001 - a fact we could not learn
        pass
print(users, " ".join(sorted(app.cli.commands)))
PY
)" || die "the app does not start (see the traceback above)"
  APP_USERS="${facts%% *}"
  APP_COMMANDS=" ${facts#* } "
}

# The RQ worker command: the app's own `flask worker` (it builds its own app and listens to
# RQ_QUEUE) when it exists, otherwise plain `rq worker` on the same Redis and queue.
worker_command() {
  [ -n "${APP_COMMANDS:-}" ] || app_facts
  if [[ "$APP_COMMANDS" == *" worker "* ]]; then
    echo "$VENV/bin/flask --app incubator worker"
  else
    echo "$VENV/bin/rq worker --url ${REDIS_URL:?} ${RQ_QUEUE:-incubator}"
  fi
}

# on_exit FUNC: run FUNC exactly once when the script ends — normal exit, error, Ctrl-C (INT), TERM
# or HUP. Further signals are ignored while it runs: make forwards a second TERM to its child, and an
# impatient second Ctrl-C must not cut the clean-up short and leave services behind.
on_exit() {
  _CLEANUP_FN="$1"
  trap '_exit_trap' EXIT
  trap '_signal_trap 130' INT
  trap '_signal_trap 143' TERM
  trap '_signal_trap 129' HUP
}
_cleanup_once() {
  [ -z "${_CLEANING:-}" ] || return 0
  _CLEANING=1
  trap '' INT TERM HUP
  "$_CLEANUP_FN" || true
}
_signal_trap() {
  [ -z "${_CLEANING:-}" ] || return 0
  _cleanup_once
  exit "$1"
}
_exit_trap() {
  local rc=$?
  _cleanup_once
  exit "$rc"
}
