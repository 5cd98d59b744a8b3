#!/usr/bin/env bash
# Stop the llama-server that start.sh started (by its saved PID only).
set -euo pipefail
DIR="${REAL_LLM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/stategraph/real-llm}"
PIDFILE="$DIR/server.pid"
if [[ ! -f "$PIDFILE" ]]; then
  echo "[real-llm] no pid file at $PIDFILE; nothing to stop" >&2
  exit 0
fi
pid="$(cat "$PIDFILE")"
if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
   && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "llama-server"; then
  kill "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  echo "[real-llm] stopped pid $pid" >&2
else
  echo "[real-llm] pid $pid is not a running llama-server; removing stale pid file" >&2
fi
rm -f "$PIDFILE" "$DIR/server.port"
