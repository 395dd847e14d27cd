#!/usr/bin/env bash
# The whole test suite: lint, type check, unit tests, and interop tests against real peers
# (Apache Iceberg's Spark runtime, PyIceberg, DuckDB). Installs everything it needs on first run
# (Node LTS if the machine's is older than 22.18, npm packages, a Python venv, jars), cached in
# git-ignored folders so reruns are fast.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-node.sh
bash scripts/setup.sh
echo "== lint and type check"
npx --no-install biome check src test bench bin
npx --no-install tsc -p tsconfig.json --noEmit
echo "== interop harness (Python venv, Spark and Iceberg jars)"
bash scripts/setup-harness.sh
echo "== PostgreSQL for the SQL catalog tests"
source scripts/start-postgres.sh
trap stop_postgres EXIT
echo "== tests"
export IMSYNC_INTEROP=1
node --test --test-reporter=spec --test-timeout=1800000 \
  'test/unit/**/*.test.ts' 'test/interop/**/*.test.ts'
