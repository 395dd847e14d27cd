#!/usr/bin/env bash
# One DR sync of the whole replicated warehouse, for cron (or any scheduler that runs a command):
# runs `iceberg-sync sync-all` over the policy of the configuration file, writes the metrics
# textfile for node_exporter, keeps a JSON-lines log and the JSON report of each run, prunes old
# ones, and exits with sync-all's exit code (0 ok, 3 behind, others: docs/usage.md).
#
#   iceberg-sync-run.sh [more sync-all flags, e.g. --shard 0/4]
#
# Settings (environment; defaults in brackets):
#   ICEBERG_SYNC_CONFIG        the configuration file with the replication: policy [/etc/iceberg-sync/dr.yaml]
#   ICEBERG_SYNC_BIN           the iceberg-sync command [iceberg-sync on PATH]
#   ICEBERG_SYNC_METRICS_FILE  node_exporter textfile [/var/lib/prometheus/node-exporter/iceberg-sync.prom]
#                              (empty: none)
#   ICEBERG_SYNC_LOG_DIR       logs and reports [/var/log/iceberg-sync]
#   ICEBERG_SYNC_KEEP_DAYS     days of logs and reports kept [14]
#
# A run still going when the next one is due is left alone: the new one logs that and exits 0
# (every table has its own lock too, so two runs could not harm a table, but would report the
# tables the other holds as skipped).
set -uo pipefail

config="${ICEBERG_SYNC_CONFIG:-/etc/iceberg-sync/dr.yaml}"
bin="${ICEBERG_SYNC_BIN:-iceberg-sync}"
metrics="${ICEBERG_SYNC_METRICS_FILE-/var/lib/prometheus/node-exporter/iceberg-sync.prom}"
log_dir="${ICEBERG_SYNC_LOG_DIR:-/var/log/iceberg-sync}"
keep_days="${ICEBERG_SYNC_KEEP_DAYS:-14}"

say() { echo "iceberg-sync-run: $*" >&2; }

if [ ! -r "$config" ]; then
  say "cannot read the configuration $config (set ICEBERG_SYNC_CONFIG)"
  exit 2
fi
if ! command -v "$bin" >/dev/null 2>&1; then
  say "no iceberg-sync command '$bin' (install the package, or set ICEBERG_SYNC_BIN)"
  exit 2
fi
if ! mkdir -p "$log_dir"; then
  say "cannot create the log directory $log_dir (set ICEBERG_SYNC_LOG_DIR)"
  exit 2
fi

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
log="$log_dir/sync-all-$stamp.log"
report="$log_dir/sync-all-$stamp.json"
runs="$log_dir/runs.log"

# One run at a time on this host: the lock is held by the file descriptor, so a killed run frees it.
exec 9>"$log_dir/.run.lock"
if command -v flock >/dev/null 2>&1 && ! flock -n 9; then
  echo "$stamp skipped: the previous run is still going" >>"$runs"
  say "the previous run is still going; not starting another"
  exit 0
fi

args=(sync-all --config "$config" --json --log-format json)
[ -n "$metrics" ] && args+=(--metrics-file "$metrics")
args+=("$@")

start=$SECONDS
# stdout: the human summary and, last, the JSON report; stderr: one JSON object per line.
"$bin" "${args[@]}" >"$report.out" 2>"$log"
code=$?
# The report is the last line of stdout.
tail -n 1 "$report.out" >"$report" 2>/dev/null || true
rm -f "$report.out"
echo "$stamp exit=$code seconds=$((SECONDS - start)) log=$log report=$report" >>"$runs"

# Old logs and reports go; runs.log stays (one short line per run).
find "$log_dir" -maxdepth 1 -type f \( -name 'sync-all-*.log' -o -name 'sync-all-*.json' \) \
  -mtime +"$keep_days" -delete 2>/dev/null || true

exit "$code"
