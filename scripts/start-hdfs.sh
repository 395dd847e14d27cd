#!/usr/bin/env bash
# Source this file: starts a private, throw-away HDFS (Hadoop's MiniDFSCluster, built by
# scripts/setup-hdfs.sh: one NameNode and one DataNode in one JVM, over a temporary directory) with
# WebHDFS on a loopback port, for the WebHDFS storage tests, and exports
#   IMSYNC_HDFS_NAMENODE  http://127.0.0.1:<port>   the NameNode's HTTP (WebHDFS) address
#   IMSYNC_HDFS_RPC       127.0.0.1:<port>   the NameNode's RPC address (for Hadoop clients: Spark)
#   IMSYNC_HDFS_USER      the HDFS superuser (the user running the JVM), for user.name=
#   IMSYNC_HDFS_CLASSPATH the minicluster's Java classpath (tests start private clusters with it,
#                         an HA pair among them)
# and registers stop_hdfs (call it on exit). Without a cluster the HDFS tests are skipped (they
# say so). Startup takes a few seconds (the JVM, formatting, the DataNode registering).
stop_hdfs() { :; }
_hdfs_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_hdfs_cp_file="$_hdfs_root/.cache/hdfs-minicluster/classpath.txt"
if [ -f "$_hdfs_cp_file" ] && command -v java >/dev/null 2>&1; then
  _hdfs_dir="$(mktemp -d /tmp/imsync-hdfs.XXXXXX)"
  _hdfs_cp="$_hdfs_root/.cache/hdfs-minicluster/classes:$(cat "$_hdfs_cp_file")"
  _hdfs_start=$SECONDS
  # stdin from a fifo held open by this shell: the cluster stops when it closes (or on SIGTERM).
  mkfifo "$_hdfs_dir/in"
  # --add-opens: Hadoop's web stack (Jersey's JAXB) needs reflection that Java 17 denies by default.
  java --add-opens java.base/java.lang=ALL-UNNAMED -Xmx1g -cp "$_hdfs_cp" imsync.HdfsMiniCluster \
    "$_hdfs_dir/data" <"$_hdfs_dir/in" >"$_hdfs_dir/out" 2>"$_hdfs_dir/server.log" &
  _hdfs_pid=$!
  exec {_hdfs_fd}>"$_hdfs_dir/in"
  _hdfs_info=""
  for _ in $(seq 1 600); do
    if ! kill -0 "$_hdfs_pid" 2>/dev/null; then break; fi
    _hdfs_info="$(head -n1 "$_hdfs_dir/out" 2>/dev/null || true)"
    [ -n "$_hdfs_info" ] && break
    sleep 0.1
  done
  if [ -n "$_hdfs_info" ]; then
    export IMSYNC_HDFS_NAMENODE="$(sed -E 's/.*"namenodes":\["([^"]+)".*/\1/' <<<"$_hdfs_info")"
    export IMSYNC_HDFS_RPC="$(sed -E 's/.*"rpc":\["([^"]+)".*/\1/' <<<"$_hdfs_info")"
    export IMSYNC_HDFS_USER="$(sed -E 's/.*"user":"([^"]*)".*/\1/' <<<"$_hdfs_info")"
    export IMSYNC_HDFS_CLASSPATH="$_hdfs_cp"
    stop_hdfs() {
      exec {_hdfs_fd}>&-
      kill "$_hdfs_pid" 2>/dev/null && wait "$_hdfs_pid" 2>/dev/null
      rm -rf "$_hdfs_dir"
    }
    echo "HDFS minicluster started in $((SECONDS - _hdfs_start)) s; WebHDFS at $IMSYNC_HDFS_NAMENODE" >&2
  else
    exec {_hdfs_fd}>&-
    kill "$_hdfs_pid" 2>/dev/null
    echo "the HDFS minicluster did not start; the HDFS tests will be skipped" >&2
    grep -v '^\s*at ' "$_hdfs_dir/server.log" | tail -n 20 | sed 's/^/  minicluster: /' >&2
    rm -rf "$_hdfs_dir"
  fi
else
  echo "no HDFS minicluster in .cache/hdfs-minicluster (run scripts/setup-hdfs.sh); the HDFS tests will be skipped" >&2
fi
