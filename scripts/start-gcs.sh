#!/usr/bin/env bash
# Source this file: starts a private, throw-away GCS emulator (fake-gcs-server, built by
# scripts/setup-gcs.sh, over a temporary directory) on a loopback port for the GCS storage tests,
# and exports
#   IMSYNC_GCS_ENDPOINT  http://127.0.0.1:<port>   (the JSON API endpoint, gcs.service.host)
#   IMSYNC_GCS_BIN       the server binary (tests start private instances of their own with it)
# and registers stop_gcs (call it on exit). Without a server the GCS tests are skipped.
# Env: IMSYNC_GCS_PORT (default: a free port the OS picks).
stop_gcs() { :; }
_gcs_bin="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tools/bin/fake-gcs-server"
if [ -x "$_gcs_bin" ]; then
  _gcs_dir="$(mktemp -d /tmp/imsync-gcs.XXXXXX)"
  _gcs_port="${IMSYNC_GCS_PORT:-$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null ||
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')}"
  mkdir -p "$_gcs_dir/root"
  # -external-url: resumable uploads hand it back as their upload location.
  "$_gcs_bin" -scheme http -host 127.0.0.1 -port "$_gcs_port" -backend filesystem \
    -filesystem-root "$_gcs_dir/root" -external-url "http://127.0.0.1:$_gcs_port" \
    -public-host "127.0.0.1:$_gcs_port" -log-level error >"$_gcs_dir/server.log" 2>&1 &
  _gcs_pid=$!
  _gcs_up=0
  for _ in $(seq 1 100); do
    if ! kill -0 "$_gcs_pid" 2>/dev/null; then break; fi
    # Ready when the JSON API answers (the port alone opens a moment earlier).
    if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' \
      "http://127.0.0.1:$_gcs_port/storage/v1/b" 2>/dev/null; then
      _gcs_up=1
      break
    fi
    sleep 0.1
  done
  if [ "$_gcs_up" = 1 ]; then
    export IMSYNC_GCS_ENDPOINT="http://127.0.0.1:$_gcs_port"
    export IMSYNC_GCS_BIN="$_gcs_bin"
    stop_gcs() {
      kill "$_gcs_pid" 2>/dev/null && wait "$_gcs_pid" 2>/dev/null
      rm -rf "$_gcs_dir"
    }
    echo "GCS emulator (fake-gcs-server) started on 127.0.0.1:$_gcs_port" >&2
  else
    kill "$_gcs_pid" 2>/dev/null
    echo "fake-gcs-server could not be started on 127.0.0.1:$_gcs_port; the GCS tests will be skipped" >&2
    sed 's/^/  fake-gcs-server: /' "$_gcs_dir/server.log" >&2 2>/dev/null
    rm -rf "$_gcs_dir"
  fi
else
  echo "no fake-gcs-server in .tools/bin (run scripts/setup-gcs.sh); the GCS tests will be skipped" >&2
fi
