#!/usr/bin/env bash
# Builds the throw-away Iceberg REST catalog the REST catalog tests run against (idempotent; a
# re-run with nothing to do takes well under a second): a small Java main (scripts/rest-catalog)
# that serves Apache Iceberg's reference REST implementation (iceberg-core's RESTCatalogAdapter
# and RESTCatalogServlet, as iceberg-open-api's RESTCatalogServer does) on 127.0.0.1. Maven
# resolves its classpath from Maven Central into .cache/m2 (about 85 MB, once); javac compiles
# the main class into .cache/rest-catalog. Everything is git-ignored.
# Needs: java >= 17 (javac), mvn. Env: IMSYNC_REST_FORCE=1 rebuilds even when the stamp matches.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/java-tool.sh
build_java_tool setup-rest "$(pwd)/scripts/rest-catalog" "$(pwd)/.cache/rest-catalog" "${IMSYNC_REST_FORCE:-0}"
