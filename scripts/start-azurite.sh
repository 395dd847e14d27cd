#!/usr/bin/env bash
# Source this file: starts a private, throw-away Azurite Blob server (the npm devDependency, over
# a temporary directory) on a loopback port for the Azure storage tests, and exports
#   IMSYNC_AZURITE_BLOB_ENDPOINT    http://127.0.0.1:<port>/devstoreaccount1
#   IMSYNC_AZURITE_CONNECTION_STRING  the emulator's connection string for that endpoint
# and registers stop_azurite (call it on exit). Without a server the Azure tests are skipped.
# Azurite serves the Blob API only (no dfs endpoint): see docs/usage.md for what that leaves out.
# Env: IMSYNC_AZURITE_PORT (default: a free port the OS picks).
stop_azurite() { :; }
_az_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_az_main="$_az_root/node_modules/azurite/dist/src/blob/main.js"
if [ -f "$_az_main" ] && command -v node >/dev/null 2>&1; then
  _az_dir="$(mktemp -d /tmp/imsync-azurite.XXXXXX)"
  _az_port="${IMSYNC_AZURITE_PORT:-$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}"
  # --disableTelemetry: Azurite otherwise reports usage to an outside service.
  node "$_az_main" --blobHost 127.0.0.1 --blobPort "$_az_port" --location "$_az_dir/data" \
    --skipApiVersionCheck --loose --disableTelemetry --silent >"$_az_dir/server.log" 2>&1 &
  _az_pid=$!
  _az_up=0
  for _ in $(seq 1 150); do
    if ! kill -0 "$_az_pid" 2>/dev/null; then break; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$_az_port") 2>/dev/null; then
      sleep 0.2
      kill -0 "$_az_pid" 2>/dev/null && _az_up=1
      break
    fi
    sleep 0.1
  done
  if [ "$_az_up" = 1 ]; then
    export IMSYNC_AZURITE_BLOB_ENDPOINT="http://127.0.0.1:$_az_port/devstoreaccount1"
    # The emulator's well-known development account and key (public; not a secret).
    export IMSYNC_AZURITE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=$IMSYNC_AZURITE_BLOB_ENDPOINT;"
    export IMSYNC_AZURITE_MAIN="$_az_main"
    stop_azurite() {
      kill "$_az_pid" 2>/dev/null && wait "$_az_pid" 2>/dev/null
      rm -rf "$_az_dir"
    }
    echo "Azure Blob server (Azurite) started on 127.0.0.1:$_az_port" >&2
  else
    kill "$_az_pid" 2>/dev/null
    echo "Azurite could not be started on 127.0.0.1:$_az_port; the Azure tests will be skipped" >&2
    sed 's/^/  azurite: /' "$_az_dir/server.log" >&2 2>/dev/null
    rm -rf "$_az_dir"
  fi
else
  echo "no Azurite in node_modules (npm ci installs it); the Azure tests will be skipped" >&2
fi
