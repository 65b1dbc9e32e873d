#!/usr/bin/env bash
# pg_server.sh - a throwaway PostgreSQL 15 for the quarantine tests: initdb in a fresh folder,
# unix socket only (listen_addresses=''), stopped by its pid however the test ends.
#   pg_server.sh run DIR -- CMD...   init + start, run CMD with AVSINK_PG_* set, stop, rm DIR
#   pg_server.sh stop DIR | start DIR   (for tests that take the server away mid-load)
# AVSINK_PG_FSYNC=on makes the server durable (benchmarks); tests run with fsync off.
# As root the server runs as `nobody` (initdb refuses root); the folder is made for that user.
set -euo pipefail
bin=${AVSINK_PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=$1 dir=$2
shift 2

as_owner() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups --reset-env -- "$@"
  else
    "$@"
  fi
}

start() {
  # -w: wait until it accepts connections; -t bounds that wait.
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses='' -k $dir/sock -c fsync=${AVSINK_PG_FSYNC:-off} -c max_connections=60" start >/dev/null
}

stop() {
  local pidfile="$dir/data/postmaster.pid" pid i
  [ -f "$pidfile" ] || return 0
  pid=$(head -n1 "$pidfile")
  case "$pid" in '' | *[!0-9]*) return 0 ;; esac
  kill -INT "$pid" 2>/dev/null || return 0  # fast shutdown
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  run)
    [ "${1:-}" = "--" ] && shift
    [ -x "$bin/initdb" ] || { echo "pg_server.sh: no $bin/initdb (apt-get install postgresql)" >&2; exit 1; }
    rm -rf "$dir"
    mkdir -p "$dir/sock"
    [ "$(id -u)" = 0 ] && chown -R nobody:nogroup "$dir"
    chmod 0755 "$dir"
    trap 'stop; rm -rf "$dir"' EXIT
    as_owner "$bin/initdb" -D "$dir/data" -U avsink --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    start || { cat "$dir/server.log" >&2; exit 1; }
    export AVSINK_PG_SOCKET_DIR="$dir/sock"
    export AVSINK_PG_CONNINFO="host=$dir/sock user=avsink dbname=postgres"
    export AVSINK_PG_CTL="$0"
    export AVSINK_PG_DIR="$dir"
    "$@"
    ;;
  *) echo "usage: pg_server.sh run|start|stop DIR [-- CMD...]" >&2; exit 2 ;;
esac
