#!/usr/bin/env bash
# Drives the `serve` example with LangGraph's own JS SDK (@langchain/langgraph-sdk 1.15.0
# from npm) and its chat page (useStream) in headless Chromium, through the node --test suite
# in clients/js. Installs what is missing with apt-get (nodejs, npm, chromium: Debian's
# packages; no step downloads a browser build), then `npm ci` from the committed lockfile
# into ~/.cache/stategraph/ keyed by the lockfile's hash. Rebuilds the page's bundle and
# fails when it differs from the one committed under examples/serve_page/. Fails, never
# skips.
set -euo pipefail
cd "$(dirname "$0")/.."

js=clients/js
chromium="${CHROMIUM_BIN:-/usr/bin/chromium}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/stategraph"
fail() {
  echo "scripts/js-sdk-tests.sh: $*" >&2
  exit 1
}

missing=()
command -v node > /dev/null || missing+=(nodejs)
command -v npm > /dev/null || missing+=(npm)
[[ -x "$chromium" ]] || missing+=(chromium)
if ((${#missing[@]} > 0)); then
  sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  echo "scripts/js-sdk-tests.sh: installing ${missing[*]} with apt-get" >&2
  "${sudo[@]}" apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" \
    || fail "could not install ${missing[*]} with apt-get; see above"
fi
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || fail "node $(node -v) is too old: playwright-core and the SDK need node 20 or newer"

# node_modules lives outside the clone, built once per lockfile; `.complete` is written last,
# so an install cut short is redone rather than used.
modules="$cache/js-sdk-node-modules-$(sha256sum "$js/package-lock.json" | cut -c1-16)"
if [[ ! -f "$modules/.complete" ]]; then
  echo "scripts/js-sdk-tests.sh: npm ci into $modules" >&2
  rm -rf "$modules"
  mkdir -p "$modules"
  cp "$js/package.json" "$js/package-lock.json" "$modules/"
  # --ignore-scripts: esbuild finds its platform binary (a locked optional dependency)
  # without its postinstall check.
  (cd "$modules" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) \
    || { rm -rf "$modules"; fail "npm ci failed (the npm registry, from $js/package-lock.json); see above"; }
  touch "$modules/.complete"
fi
if [[ -e "$js/node_modules" && ! -L "$js/node_modules" ]]; then
  echo "scripts/js-sdk-tests.sh: replacing $js/node_modules with the cached install" >&2
  rm -rf "$js/node_modules"
fi
ln -sfn "$modules/node_modules" "$js/node_modules"

# The committed bundle must be what the sources and the lockfile build.
built="$(mktemp -d)"
trap 'rm -rf "$built"' EXIT
node "$js/build.mjs" --out "$built"
diff -r "$built" examples/serve_page > /dev/null \
  || fail "examples/serve_page/ differs from what clients/js/page builds: run \`node clients/js/build.mjs\` and commit the result"

cargo build --example serve
target_dir="$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')"
export STATEGRAPH_SERVE_BIN="$target_dir/debug/examples/serve"
export CHROMIUM_BIN="$chromium"
cd "$js"
exec node --test --test-concurrency=1 --test-timeout=120000 test/*.test.mjs "$@"
