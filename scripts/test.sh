#!/usr/bin/env bash
# The whole test suite: lint, type check, unit tests, and interop tests against real peers
# (Apache Iceberg's Spark runtime, PyIceberg, DuckDB) and servers (PostgreSQL, an S3 server, an
# HDFS minicluster, Iceberg's reference REST catalog, an AWS Glue emulator, Hive Metastores 3.1 and 4.0,
# Azurite for Azure Blob, fake-gcs-server for GCS).
# Installs everything it needs on first run (Node LTS if the machine's is older than 22.18, npm
# packages, a Python venv, jars, the versitygw S3 server built with Go, Hadoop's minicluster from
# Maven Central), cached in git-ignored folders so reruns are fast.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-node.sh
bash scripts/setup.sh
echo "== lint and type check"
npx --no-install biome check src test bench bin examples
npx --no-install tsc -p tsconfig.json --noEmit
echo "== interop harness (Python venv, Spark and Iceberg jars)"
bash scripts/setup-harness.sh
echo "== operations validators (promtool, chromium, systemd-analyze; apt, as root)"
bash scripts/setup-ops.sh
# Every server started below is stopped on exit, whatever happened. The stops run without -e (a
# server killed by SIGTERM makes its `wait` return 143, which must neither skip the other stops
# nor change the result), and the run's own exit code is kept.
for _s in postgres s3 hdfs rest glue hive azurite gcs; do eval "stop_$_s() { :; }"; done
_stop_servers() {
  local rc=$?
  set +e
  stop_gcs; stop_azurite; stop_hive; stop_glue; stop_rest; stop_hdfs; stop_s3; stop_postgres
  exit "$rc"
}
trap _stop_servers EXIT
echo "== PostgreSQL for the SQL catalog tests"
source scripts/start-postgres.sh
echo "== S3 server (versitygw) for the S3 storage tests"
bash scripts/setup-s3.sh
source scripts/start-s3.sh
[ -n "${IMSYNC_S3_ENDPOINT:-}" ] || { echo "test.sh: the S3 server did not start" >&2; exit 1; }
echo "== HDFS (Hadoop MiniDFSCluster) for the WebHDFS storage tests"
bash scripts/setup-hdfs.sh
source scripts/start-hdfs.sh
[ -n "${IMSYNC_HDFS_NAMENODE:-}" ] || { echo "test.sh: the HDFS minicluster did not start" >&2; exit 1; }
echo "== Iceberg REST catalog (the reference implementation) for the REST catalog tests"
bash scripts/setup-rest.sh
source scripts/start-rest.sh
[ -n "${IMSYNC_REST_URI:-}" ] || { echo "test.sh: the REST catalog did not start" >&2; exit 1; }
echo "== AWS Glue emulator (moto) for the Glue catalog tests"
bash scripts/setup-glue.sh
source scripts/start-glue.sh
[ -n "${IMSYNC_GLUE_ENDPOINT:-}" ] || { echo "test.sh: the Glue emulator did not start" >&2; exit 1; }
echo "== Hive Metastores 3.1 and 4.0 for the Hive catalog tests (4.0 on the PostgreSQL above)"
bash scripts/setup-hive.sh
source scripts/start-hive.sh
[ -n "${IMSYNC_HIVE3_URI:-}" ] && [ -n "${IMSYNC_HIVE4_URI:-}" ] || { echo "test.sh: a Hive Metastore did not start" >&2; exit 1; }
echo "== Azure Blob (Azurite) and GCS (fake-gcs-server) for the cloud storage tests"
source scripts/start-azurite.sh
[ -n "${IMSYNC_AZURITE_BLOB_ENDPOINT:-}" ] || { echo "test.sh: Azurite did not start" >&2; exit 1; }
bash scripts/setup-gcs.sh
source scripts/start-gcs.sh
[ -n "${IMSYNC_GCS_ENDPOINT:-}" ] || { echo "test.sh: fake-gcs-server did not start" >&2; exit 1; }
echo "== tests"
export IMSYNC_INTEROP=1
node --test --test-reporter=spec --test-timeout=1800000 \
  'test/unit/**/*.test.ts' 'test/contract/**/*.test.ts' 'test/interop/**/*.test.ts'
