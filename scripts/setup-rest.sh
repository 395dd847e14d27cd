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
root="$(pwd)"
src="$root/scripts/rest-catalog"
out="$root/.cache/rest-catalog"
stamp="$out/.stamp"

say() { echo "setup-rest: $*" >&2; }
die() {
  echo "setup-rest: ERROR: $*" >&2
  exit 1
}

# The stamp is a digest of the sources: editing the pom or the main class rebuilds.
digest="$(cat "$src/pom.xml" "$src"/src/main/java/imsync/*.java "$src"/src/main/resources/* | sha256sum | cut -c1-16)"
if [ "${IMSYNC_REST_FORCE:-0}" != 1 ] && [ -f "$out/classpath.txt" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$digest" ]; then
  say "REST catalog up to date (.cache/rest-catalog)"
  exit 0
fi
command -v java >/dev/null 2>&1 || die "java not found; a JDK >= 17 is needed for the REST catalog tests"
command -v javac >/dev/null 2>&1 || die "javac not found; a JDK (not only a JRE) >= 17 is needed"
command -v mvn >/dev/null 2>&1 || die "mvn not found; Maven is needed once to fetch Iceberg's REST catalog"
start=$SECONDS
say "resolving Iceberg's REST catalog from Maven Central into .cache/m2 (once)"
rm -rf "$out"
mkdir -p "$out/classes" "$root/.cache/m2"
mvn -B -q -Dstyle.color=never -f "$src/pom.xml" -Dmaven.repo.local="$root/.cache/m2" \
  dependency:build-classpath -Dmdep.outputFile="$out/classpath.txt" >"$out/mvn.log" 2>&1 || {
  sed 's/^/  mvn: /' "$out/mvn.log" >&2
  die "mvn dependency:build-classpath failed"
}
javac -nowarn -d "$out/classes" -cp "$(cat "$out/classpath.txt")" "$src"/src/main/java/imsync/*.java ||
  die "javac failed"
cp "$src"/src/main/resources/* "$out/classes/"
echo "$digest" >"$stamp"
say "built the REST catalog in $((SECONDS - start)) s"
