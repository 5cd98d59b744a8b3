#!/usr/bin/env bash
# Drives the `serve` example with LangGraph's own Python SDK (langgraph-sdk 0.4.14 from
# PyPI) through the pytest suite in clients/python. The venv is built once from the pinned
# requirements, cached under ~/.cache/stategraph/ keyed by their hash. Fails, never skips,
# when the venv cannot be built.
set -euo pipefail
cd "$(dirname "$0")/.."

requirements=clients/python/requirements.txt
cache="${XDG_CACHE_HOME:-$HOME/.cache}/stategraph"
venv="$cache/python-sdk-venv-$(sha256sum "$requirements" | cut -c1-16)"
python="${PYTHON:-python3}"

# `.complete` is written last, so a build cut short is redone rather than used.
if [[ ! -f "$venv/.complete" ]]; then
  echo "scripts/python-sdk-tests.sh: building the venv in $venv" >&2
  rm -rf "$venv"
  mkdir -p "$cache"
  if ! "$python" -m venv "$venv" \
    || ! "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"; then
    echo "scripts/python-sdk-tests.sh: could not build the venv (python3 -m venv, then pip install from PyPI); see above" >&2
    rm -rf "$venv"
    exit 1
  fi
  touch "$venv/.complete"
fi

cargo build --example serve
target_dir="$(cargo metadata --format-version 1 --no-deps | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
export STATEGRAPH_SERVE_BIN="$target_dir/debug/examples/serve"
exec "$venv/bin/pytest" -q -p no:cacheprovider clients/python "$@"
