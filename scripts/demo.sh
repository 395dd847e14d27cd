#!/usr/bin/env bash
# The README's first command: set-up, then sync the bundled sample replicated table
# (examples/replica, see examples/README.md) into a DR warehouse with the embedded SQLite catalog,
# show that a second run is a no-op, verify the result and inspect what was committed.
# Needs only Node.js + npm (no Python, no Java). Repeatable: .work/demo is wiped at the start.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
source scripts/ensure-node.sh
bash scripts/setup.sh

REPLICA="$ROOT/examples/replica/warehouse"   # what the DR site received from production
DEMO="$ROOT/.work/demo"
WAREHOUSE="$DEMO/warehouse"                  # the DR warehouse: rewritten metadata + iceberg_catalog.db
SOURCE_PREFIX="hdfs://prod-nn:8020/warehouse" # where production keeps its warehouse
rm -rf "$DEMO"
mkdir -p "$DEMO"

step() { printf '\n== %s\n' "$*"; }
# The CLI as a user runs it from the repository root; the command is echoed first.
# (npm's own notices are kept off the demo's output; the CLI's output is untouched.)
iceberg_sync() {
  printf '$ npx --no-install iceberg-sync %s\n' "$*" | sed "s#$ROOT/##g"
  npm_config_loglevel=error npx --no-install iceberg-sync "$@"
}
SYNC_ARGS=(--replicated-path "$REPLICA" --database sales --table orders
  --warehouse "$WAREHOUSE" --map "$SOURCE_PREFIX=$REPLICA")

step "1. The replica as it arrived at the DR site: every path still names production ($SOURCE_PREFIX)"
iceberg_sync inspect "$REPLICA/sales/orders"

step "2. Sync: pick the newest complete version, rewrite its metadata into ${WAREHOUSE#"$ROOT"/}, commit to SQLite"
iceberg_sync sync "${SYNC_ARGS[@]}"

step "3. Sync again: nothing changed in the replica, so nothing is written"
iceberg_sync sync "${SYNC_ARGS[@]}"

step "4. Verify the committed table: every file present with its size, no production path left"
verify_out="$(iceberg_sync verify --database sales --table orders --warehouse "$WAREHOUSE" \
  --map "$SOURCE_PREFIX=$REPLICA" --json)"
printf '%s\n' "$verify_out" | sed '$d'
metadata="$(printf '%s\n' "$verify_out" | tail -n 1 |
  node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).metadataLocation))')"

step "5. The committed DR metadata: same snapshots and refs, paths now point at the DR copy"
iceberg_sync inspect "$metadata"

step "Open it with PyIceberg (pip install 'pyiceberg[sql-sqlite,pyarrow]'):"
cat <<EOF
from pyiceberg.catalog.sql import SqlCatalog
catalog = SqlCatalog("dr", uri="sqlite:///$WAREHOUSE/iceberg_catalog.db", warehouse="file://$WAREHOUSE")
table = catalog.load_table("sales.orders")
print(table.scan().to_arrow())
EOF
