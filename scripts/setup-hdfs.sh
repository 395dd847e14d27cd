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
source scripts/java-tool.sh
build_java_tool setup-hdfs "$(pwd)/scripts/hdfs-minicluster" "$(pwd)/.cache/hdfs-minicluster" "${IMSYNC_HDFS_FORCE:-0}"
