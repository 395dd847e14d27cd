#!/usr/bin/env bash
# Installs the Node dependencies and builds the CLI (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-node.sh
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
