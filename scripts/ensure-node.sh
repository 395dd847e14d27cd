#!/usr/bin/env bash
# Source this file: it puts a Node.js >= 22.18 first on PATH.
# Where the machine's node is older (or missing), a current Node LTS is
# installed from the npm registry (the `node` package) into .tools/node.
_imsync_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_imsync_node_ok() {
  command -v node >/dev/null 2>&1 || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=18)?0:1)'
}
if ! _imsync_node_ok; then
  _imsync_tools="$_imsync_root/.tools/node"
  if [ ! -x "$_imsync_tools/node_modules/.bin/node" ]; then
    echo "Node.js >= 22.18 not found; installing Node 24 LTS from the npm registry into .tools/node" >&2
    mkdir -p "$_imsync_tools"
    npm install --no-save --no-audit --no-fund --prefix "$_imsync_tools" node@24 >&2
  fi
  export PATH="$_imsync_tools/node_modules/.bin:$PATH"
  _imsync_node_ok || { echo "could not provide Node.js >= 22.18" >&2; return 1 2>/dev/null || exit 1; }
fi
unset -f _imsync_node_ok
