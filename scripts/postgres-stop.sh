#!/usr/bin/env bash
# Stops the Postgres that postgres-start.sh started and removes its data directory.
set -euo pipefail
STATE="${XDG_CACHE_HOME:-$HOME/.cache}/stategraph/postgres"
[[ -f "$STATE/dir" ]] || { echo "[postgres] nothing to stop" >&2; exit 0; }
data="$(cat "$STATE/dir")"
pg_ctl="$(command -v pg_ctl 2>/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n 1)"
if [[ "$(id -u)" == 0 ]]; then
  runuser -u postgres -- "$pg_ctl" -D "$data" -m fast -w stop >&2 || true
else
  "$pg_ctl" -D "$data" -m fast -w stop >&2 || true
fi
case "$data" in /tmp/stategraph-postgres.*/data) rm -rf "$(dirname "$data")" ;; esac
rm -f "$STATE/dir" "$STATE/port"
