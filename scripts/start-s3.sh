#!/usr/bin/env bash
# Source this file: starts a private, throw-away S3 server (versitygw over a temporary directory,
# built by scripts/setup-s3.sh) on a loopback port for the S3 storage tests, and exports
#   IMSYNC_S3_ENDPOINT    http://127.0.0.1:<port>
#   IMSYNC_S3_ACCESS_KEY  IMSYNC_S3_SECRET_KEY   its credentials
#   IMSYNC_S3_BIN         the server binary (tests start private instances of their own with it)
# and registers stop_s3 (call it on exit). Without a server the S3 tests are skipped (they say so).
# Env: IMSYNC_S3_PORT (default: a free port the OS picks, else 57070).
stop_s3() { :; }
# A free loopback port: another test run's server on a fixed port would otherwise answer in ours.
_s3_free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null ||
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null ||
    echo 57070
}
_s3_bin="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools/bin/versitygw"
if [ -x "$_s3_bin" ]; then
  _s3_dir="$(mktemp -d /tmp/imsync-s3.XXXXXX)"
  _s3_port="${IMSYNC_S3_PORT:-$(_s3_free_port)}"
  _s3_key="imsync-test"
  _s3_secret="imsync-test-secret-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  mkdir -p "$_s3_dir/data" "$_s3_dir/meta"
  # Object metadata in a sidecar directory, not in xattrs, which some /tmp file systems lack.
  "$_s3_bin" --port "127.0.0.1:$_s3_port" --access "$_s3_key" --secret "$_s3_secret" --quiet \
    posix --sidecar "$_s3_dir/meta" "$_s3_dir/data" >"$_s3_dir/server.log" 2>&1 &
  _s3_pid=$!
  _s3_up=0
  for _ in $(seq 1 100); do
    if ! kill -0 "$_s3_pid" 2>/dev/null; then break; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$_s3_port") 2>/dev/null; then
      # Still ours a moment later: a server that lost the port to another process exits at once.
      sleep 0.2
      kill -0 "$_s3_pid" 2>/dev/null && _s3_up=1
      break
    fi
    sleep 0.1
  done
  if [ "$_s3_up" = 1 ]; then
    export IMSYNC_S3_ENDPOINT="http://127.0.0.1:$_s3_port"
    export IMSYNC_S3_ACCESS_KEY="$_s3_key"
    export IMSYNC_S3_SECRET_KEY="$_s3_secret"
    export IMSYNC_S3_BIN="$_s3_bin"
    stop_s3() {
      kill "$_s3_pid" 2>/dev/null && wait "$_s3_pid" 2>/dev/null
      rm -rf "$_s3_dir"
    }
    echo "S3 server (versitygw) started on 127.0.0.1:$_s3_port" >&2
  else
    kill "$_s3_pid" 2>/dev/null
    echo "S3 server could not be started on 127.0.0.1:$_s3_port; the S3 tests will be skipped" >&2
    sed 's/^/  versitygw: /' "$_s3_dir/server.log" >&2 2>/dev/null
    rm -rf "$_s3_dir"
  fi
else
  echo "no S3 server in .tools/bin (run scripts/setup-s3.sh); the S3 tests will be skipped" >&2
fi
