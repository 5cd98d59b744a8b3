#!/usr/bin/env bash
# Stops (`stop`) or starts again (`start`) the Postgres that postgres-start.sh started,
# keeping its data, port and socket directory: for tests of a database lost mid-run.
set -euo pipefail
STATE="${XDG_CACHE_HOME:-$HOME/.cache}/stategraph/postgres"
[[ -f "$STATE/dir" && -f "$STATE/port" ]] || { echo "[postgres] not started by postgres-start.sh" >&2; exit 1; }
data="$(cat "$STATE/dir")"
port="$(cat "$STATE/port")"
dir="$(dirname "$data")"
pg_ctl="$(command -v pg_ctl 2>/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)"
as_postgres() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "${1:-}" in
  stop) as_postgres "$pg_ctl" -D "$data" -m fast -w stop >&2 ;;
  start)
    as_postgres "$pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
      -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off" start >&2 ;;
  *) echo "usage: $0 stop|start" >&2; exit 2 ;;
esac
