#!/usr/bin/env bash
# Source this file: `build_java_tool NAME SRC OUT FORCE` builds a small Java main of the test tooling
# (a pom.xml, src/main/java/imsync/*.java, src/main/resources/*) into OUT: Maven resolves the
# pom's classpath from Maven Central into .cache/m2 (once) and javac compiles the sources into
# OUT/classes. Idempotent: a stamp (a digest of the sources) skips the build when nothing
# changed, unless FORCE is 1. Messages are prefixed with NAME. Needs java >= 17 (javac) and mvn.
build_java_tool() {
  local name="$1" src="$2" out="$3" force="${4:-0}"
  local root stamp digest start
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  stamp="$out/.stamp"
  digest="$(cat "$src/pom.xml" "$src"/src/main/java/imsync/*.java "$src"/src/main/resources/* | sha256sum | cut -c1-16)"
  if [ "$force" != 1 ] && [ -f "$out/classpath.txt" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$digest" ]; then
    echo "$name: up to date (${out#"$root"/})" >&2
    return 0
  fi
  command -v java >/dev/null 2>&1 || { echo "$name: ERROR: java not found; a JDK >= 17 is needed" >&2; return 1; }
  command -v javac >/dev/null 2>&1 || { echo "$name: ERROR: javac not found; a JDK (not only a JRE) >= 17 is needed" >&2; return 1; }
  command -v mvn >/dev/null 2>&1 || { echo "$name: ERROR: mvn not found; Maven is needed once to fetch the classpath" >&2; return 1; }
  start=$SECONDS
  echo "$name: resolving the classpath from Maven Central into .cache/m2 (once)" >&2
  rm -rf "$out"
  mkdir -p "$out/classes" "$root/.cache/m2"
  mvn -B -q -Dstyle.color=never -f "$src/pom.xml" -Dmaven.repo.local="$root/.cache/m2" \
    dependency:build-classpath -Dmdep.outputFile="$out/classpath.txt" >"$out/mvn.log" 2>&1 || {
    sed 's/^/  mvn: /' "$out/mvn.log" >&2
    echo "$name: ERROR: mvn dependency:build-classpath failed" >&2
    return 1
  }
  javac -nowarn -d "$out/classes" -cp "$(cat "$out/classpath.txt")" "$src"/src/main/java/imsync/*.java || {
    echo "$name: ERROR: javac failed" >&2
    return 1
  }
  cp "$src"/src/main/resources/* "$out/classes/"
  echo "$digest" >"$stamp"
  echo "$name: built in $((SECONDS - start)) s" >&2
}
