#!/usr/bin/env bash
# Starts a throwaway Postgres on 127.0.0.1 for the tests: installs Debian's package when
# initdb is missing, runs initdb into a new temporary directory as the `postgres` user
# (initdb refuses root), starts the server on a free port and prints its URL as the last
# line. scripts/postgres-stop.sh stops it and removes the directory.
set -euo pipefail
STATE="${XDG_CACHE_HOME:-$HOME/.cache}/stategraph/postgres"
mkdir -p "$STATE"

find_bin() {
  command -v "$1" 2>/dev/null || ls /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1
}
if [[ -z "$(find_bin initdb)" ]]; then
  echo "[postgres] installing Debian's postgresql package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
initdb="$(find_bin initdb)"
pg_ctl="$(find_bin pg_ctl)"
[[ -n "$initdb" && -n "$pg_ctl" ]] || { echo "[postgres] no initdb/pg_ctl after install" >&2; exit 1; }

as_postgres() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [[ -f "$STATE/port" && -f "$STATE/dir" ]] && as_postgres "$pg_ctl" -D "$(cat "$STATE/dir")" status >/dev/null 2>&1; then
  echo "[postgres] already running" >&2
  echo "postgres://postgres@127.0.0.1:$(cat "$STATE/port")/postgres"
  exit 0
fi

dir="$(mktemp -d /tmp/stategraph-postgres.XXXXXX)"
[[ "$(id -u)" == 0 ]] && chown postgres: "$dir"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
as_postgres "$initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
as_postgres "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off" start >&2 \
  || { cat "$dir/server.log" >&2; exit 1; }
echo "$dir/data" >"$STATE/dir"
echo "$port" >"$STATE/port"
echo "[postgres] started on 127.0.0.1:$port, data in $dir/data" >&2
echo "postgres://postgres@127.0.0.1:$port/postgres"
