#!/usr/bin/env bash
# Builds the throw-away HDFS the WebHDFS storage tests run against (idempotent; a re-run with
# nothing to do takes well under a second): a small Java main (scripts/hdfs-minicluster) around
# Hadoop's MiniDFSCluster, which runs the real NameNode and DataNode code in one JVM. Maven
# resolves hadoop-minicluster and its dependencies from Maven Central into .cache/m2 (about
# 130 MB, once; under a minute on a fast link); javac compiles the main class into
# .cache/hdfs-minicluster. Everything is git-ignored.
#
# Why MiniDFSCluster: it is Hadoop's own test cluster, so WebHDFS answers exactly as a production
# NameNode does (RemoteException JSON, the 307 to a DataNode, LISTSTATUS_BATCH, permissions), and
# it also starts an HA pair (a real StandbyException, a real failover) in a few seconds.
# Needs: java >= 17 (javac), mvn. Env: IMSYNC_HDFS_FORCE=1 rebuilds even when the stamp matches.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
src="$root/scripts/hdfs-minicluster"
out="$root/.cache/hdfs-minicluster"
stamp="$out/.stamp"

say() { echo "setup-hdfs: $*" >&2; }
die() {
  echo "setup-hdfs: ERROR: $*" >&2
  exit 1
}

# The stamp is a digest of the sources: editing the pom or the main class rebuilds.
digest="$(cat "$src/pom.xml" "$src"/src/main/java/imsync/*.java "$src"/src/main/resources/* | sha256sum | cut -c1-16)"
if [ "${IMSYNC_HDFS_FORCE:-0}" != 1 ] && [ -f "$out/classpath.txt" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$digest" ]; then
  say "HDFS minicluster up to date (.cache/hdfs-minicluster)"
  exit 0
fi
command -v java >/dev/null 2>&1 || die "java not found; a JDK >= 17 is needed for the HDFS tests"
command -v javac >/dev/null 2>&1 || die "javac not found; a JDK (not only a JRE) >= 17 is needed"
command -v mvn >/dev/null 2>&1 || die "mvn not found; Maven is needed once to fetch hadoop-minicluster"
start=$SECONDS
say "resolving hadoop-minicluster from Maven Central into .cache/m2 (once)"
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
say "built the HDFS minicluster in $((SECONDS - start)) s"
