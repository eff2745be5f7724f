#!/usr/bin/env bash
# make test: install what is missing, then run the whole suite twice against real services:
#   1. SQLite    (a file database, shared with a real RQ worker) — browser tests excluded
#   2. PostgreSQL (a throwaway cluster on a free port)           — everything, browser tests included
# A throwaway Redis on a free loopback port serves both runs. Every process and temporary directory
# started here is removed on exit, whatever happens. Extra pytest arguments: PYTEST_ARGS="-k foo -x".
#
# Environment seen by the tests (and, with the names in brackets, by the worker's app):
#   TEST_DATABASE_URL  the database of the run              [DATABASE_URL]
#   TEST_UPLOAD_DIR    the upload folder of the run         [UPLOAD_DIR]
#   TEST_REDIS_URL     the real Redis                       [REDIS_URL]
# TEST_REDIS_URL is set only here: integration tests skip without it. The worker also gets
# RQ_QUEUE (default "incubator") from the same environment as the suite.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

"$ROOT/scripts/setup.sh"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/incubator-test.XXXXXX")"
chmod 755 "$WORK" # the postgres user must reach its data directory inside
LOGS="$ROOT/var/test-logs"
rm -rf "$LOGS"
mkdir -p "$LOGS"
PGDATA_DIR=""

stop_postgres() {
  [ -n "$PGDATA_DIR" ] && [ -f "$PGDATA_DIR/postmaster.pid" ] || return 0
  local pid i
  pid="$(head -1 "$PGDATA_DIR/postmaster.pid")"
  kill -INT "$pid" 2>/dev/null || true # fast shutdown: ends client sessions
  for i in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  PGDATA_DIR=""
}

cleanup() {
  stop_services
  stop_postgres
  rm -rf "$WORK"
}
on_exit cleanup

export INCUBATOR_ENV=test
unset DATABASE_URL REDIS_URL UPLOAD_DIR # the suite must not reach a developer's real services

INSTANCE_DIR="$WORK/facts" DATABASE_URL="sqlite:///$WORK/facts.db" app_facts # which worker command exists
REDIS_PORT="$(free_port)"
say "starting a throwaway redis-server on 127.0.0.1:$REDIS_PORT"
start_redis "$REDIS_PORT" "$WORK/redis" "$LOGS/redis.log"
export TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"

# run_suite LABEL DATABASE_URL [pytest args...]: a real worker on the same database, uploads and
# Redis as the suite, then pytest (in its own session so that Ctrl-C / cleanup end Chromium too).
run_suite() {
  local label="$1" url="$2" uploads="$WORK/$1/uploads" rc=0 worker_pid pytest_pid
  shift 2
  mkdir -p "$uploads"
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" flushall >/dev/null
  read -r -a WORKER <<<"$(REDIS_URL="$TEST_REDIS_URL" worker_command)"
  start_service "worker-$label" "$LOGS/worker-$label.log" \
    env DATABASE_URL="$url" UPLOAD_DIR="$uploads" REDIS_URL="$TEST_REDIS_URL" INSTANCE_DIR="$WORK/$label/instance" \
    "${WORKER[@]}"
  worker_pid="${SERVICE_PIDS[-1]}"
  say "[$label] pytest (worker: ${WORKER[*]})"
  start_service "pytest-$label" - env TEST_DATABASE_URL="$url" TEST_UPLOAD_DIR="$uploads" \
    "$PY" -m pytest -ra --continue-on-collection-errors --basetemp="$WORK/$label/pytest" "$@" ${PYTEST_ARGS:-}
  pytest_pid="${SERVICE_PIDS[-1]}"
  wait "$pytest_pid" || rc=$?
  forget_service "$pytest_pid"
  if ! kill -0 "$worker_pid" 2>/dev/null; then
    warn "[$label] the worker died during the run:"
    tail -n 40 "$LOGS/worker-$label.log" >&2
    [ "$rc" = 0 ] && rc=1
  fi
  stop_service "$worker_pid"
  forget_service "$worker_pid"
  return "$rc"
}

T0=$SECONDS
rc_sqlite=0
mkdir -p "$WORK/sqlite"
run_suite sqlite "sqlite:///$WORK/sqlite/test.db" -m "not browser" || rc_sqlite=$?
T1=$SECONDS

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
[ -x "$PG_BIN/initdb" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin"
PG_PORT="$(free_port)"
PGDATA_DIR="$WORK/pg/data"
PG_SOCK="$WORK/pg/run"
mkdir -p "$PGDATA_DIR" "$PG_SOCK"
AS_PG=()
cd "$WORK" # the postgres user cannot enter the repository when it lives in root's home
if [ "$(id -u)" -eq 0 ]; then
  chown -R postgres: "$WORK/pg"
  AS_PG=(runuser -u postgres --)
fi
say "starting a throwaway PostgreSQL cluster on 127.0.0.1:$PG_PORT"
"${AS_PG[@]}" "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync \
  >"$LOGS/initdb.log" 2>&1 || { cat "$LOGS/initdb.log" >&2; die "initdb failed"; }
# setsid: the postmaster must not receive the terminal's Ctrl-C before cleanup stops it.
"${AS_PG[@]}" setsid "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$WORK/pg/server.log" -w -t 60 \
  -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_SOCK -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { cat "$WORK/pg/server.log" >&2; die "PostgreSQL did not start"; }
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres incubator_test
cd "$ROOT"

rc_pg=0
run_suite postgres "postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/incubator_test" || rc_pg=$?
cp "$WORK/pg/server.log" "$LOGS/postgres.log" 2>/dev/null || true
T2=$SECONDS

echo
say "SQLite run:     $([ $rc_sqlite = 0 ] && echo passed || echo "FAILED ($rc_sqlite)") in $((T1 - T0)) s"
say "PostgreSQL run: $([ $rc_pg = 0 ] && echo passed || echo "FAILED ($rc_pg)") in $((T2 - T1)) s"
say "service logs: var/test-logs/"
[ "$rc_sqlite" = 0 ] && [ "$rc_pg" = 0 ]
