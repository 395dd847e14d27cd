#!/usr/bin/env bash
# Source this file: starts a private, throw-away AWS Glue emulator (moto's server through
# scripts/glue-emulator.py, which makes it enforce UpdateTable's VersionId; installed by
# scripts/setup-glue.sh) on a loopback port for the Glue catalog tests, and exports
#   IMSYNC_GLUE_ENDPOINT  http://127.0.0.1:<port>
#   IMSYNC_GLUE_PYTHON    the Python that runs it (tests start private instances with it)
# and registers stop_glue (call it on exit). Without it the Glue tests are skipped (they say so).
# The emulator keeps everything in memory and accepts any credentials.
# Env: IMSYNC_GLUE_PORT (default: a free port the OS picks, else 57080).
stop_glue() { :; }
_glue_free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null ||
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null ||
    echo 57080
}
_glue_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_glue_py=""
for _p in "$_glue_root/.tools/py/bin/python" "$_glue_root/.cache/glue-emulator/venv/bin/python"; do
  if [ -x "$_p" ] && "$_p" -c 'import moto.glue, moto.server, flask' >/dev/null 2>&1; then
    _glue_py="$_p"
    break
  fi
done
if [ -n "$_glue_py" ]; then
  _glue_log="$(mktemp /tmp/imsync-glue.XXXXXX)"
  _glue_port="${IMSYNC_GLUE_PORT:-$(_glue_free_port)}"
  "$_glue_py" "$_glue_root/scripts/glue-emulator.py" "$_glue_port" >"$_glue_log" 2>&1 &
  _glue_pid=$!
  _glue_up=0
  for _ in $(seq 1 150); do
    if ! kill -0 "$_glue_pid" 2>/dev/null; then break; fi
    if grep -q '^ready' "$_glue_log" 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$_glue_port") 2>/dev/null; then
      # Still ours a moment later: a server that lost the port to another process exits at once.
      sleep 0.2
      kill -0 "$_glue_pid" 2>/dev/null && _glue_up=1
      break
    fi
    sleep 0.1
  done
  if [ "$_glue_up" = 1 ]; then
    export IMSYNC_GLUE_ENDPOINT="http://127.0.0.1:$_glue_port"
    export IMSYNC_GLUE_PYTHON="$_glue_py"
    stop_glue() {
      kill "$_glue_pid" 2>/dev/null && wait "$_glue_pid" 2>/dev/null
      rm -f "$_glue_log"
    }
    echo "Glue emulator (moto) started on 127.0.0.1:$_glue_port" >&2
  else
    kill "$_glue_pid" 2>/dev/null
    echo "Glue emulator could not be started on 127.0.0.1:$_glue_port; the Glue tests will be skipped" >&2
    sed 's/^/  glue-emulator: /' "$_glue_log" >&2 2>/dev/null
    rm -f "$_glue_log"
  fi
else
  echo "no moto for the Glue emulator (run scripts/setup-glue.sh); the Glue tests will be skipped" >&2
fi
