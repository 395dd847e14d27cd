#!/usr/bin/env bash
# Installs the throw-away Hive Metastores the Hive catalog tests run against (idempotent; a re-run
# with nothing to do takes well under a second): for each version, Maven resolves the standalone
# metastore and the Hadoop jars it needs into .cache/m2 and copies them to
# .cache/hive-metastore/<version>/lib; the binary tarball from Maven Central gives only
# schematool's SQL scripts (it carries no Hadoop). Everything is git-ignored.
# Versions: 3.1.3 (hive-standalone-metastore) and 4.0.1 (hive-standalone-metastore-server).
# Needs: java >= 17, mvn. Env: IMSYNC_HIVE_VERSIONS (default "3.1.3 4.0.1"), IMSYNC_HIVE_FORCE=1.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
pom="$root/scripts/hive-metastore/pom.xml"

say() { echo "setup-hive: $*" >&2; }
die() {
  echo "setup-hive: ERROR: $*" >&2
  exit 1
}

artifact_for() {
  case "$1" in
  3.*) echo hive-standalone-metastore ;;
  *) echo hive-standalone-metastore-server ;;
  esac
}

install_one() {
  local version="$1" artifact out digest start
  artifact="$(artifact_for "$version")"
  out="$root/.cache/hive-metastore/$version"
  digest="$(sha256sum "$pom" "$0" | sha256sum | cut -c1-16)"
  if [ "${IMSYNC_HIVE_FORCE:-0}" != 1 ] && [ -d "$out/lib" ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$digest" ]; then
    say "Hive Metastore $version up to date (.cache/hive-metastore/$version)"
    return 0
  fi
  command -v java >/dev/null 2>&1 || die "java not found; a JDK >= 17 is needed for the Hive tests"
  command -v mvn >/dev/null 2>&1 || die "mvn not found; Maven is needed once to fetch the metastore"
  start=$SECONDS
  say "resolving $artifact $version from Maven Central into .cache/m2 (once)"
  rm -rf "$out"
  mkdir -p "$out/lib" "$root/.cache/m2"
  local mvn=(mvn -B -q -Dstyle.color=never -f "$pom" -Dmaven.repo.local="$root/.cache/m2"
    -Dhms.artifact="$artifact" -Dhms.version="$version")
  "${mvn[@]}" dependency:copy-dependencies -DoutputDirectory="$out/lib" -DincludeScope=runtime \
    >"$out/mvn.log" 2>&1 || {
    sed 's/^/  mvn: /' "$out/mvn.log" >&2
    die "mvn dependency:copy-dependencies failed for $version"
  }
  # Two SLF4J bindings would fight; log4j2's stays.
  rm -f "$out"/lib/slf4j-log4j12-*.jar "$out"/lib/slf4j-reload4j-*.jar
  "${mvn[@]}" dependency:copy -Dartifact="org.apache.hive:$artifact:$version:tar.gz:bin" \
    -DoutputDirectory="$out" >>"$out/mvn.log" 2>&1 || {
    sed 's/^/  mvn: /' "$out/mvn.log" >&2
    die "mvn could not fetch the $version tarball"
  }
  mkdir -p "$out/dist"
  tar xzf "$out/$artifact-$version-bin.tar.gz" -C "$out/dist" --strip-components=1 --wildcards '*/scripts/*'
  rm -f "$out/$artifact-$version-bin.tar.gz"
  echo "$digest" >"$out/.stamp"
  say "installed Hive Metastore $version in $((SECONDS - start)) s"
}

pids=()
for v in ${IMSYNC_HIVE_VERSIONS:-3.1.3 4.0.1}; do
  install_one "$v" &
  pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
exit $rc
