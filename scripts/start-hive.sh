#!/usr/bin/env bash
# Source this file: starts two private, throw-away Hive Metastores on loopback ports for the Hive
# catalog tests, in parallel (installed by scripts/setup-hive.sh), and exports
#   IMSYNC_HIVE3_URI   thrift://127.0.0.1:<port>  Hive Metastore 3.1.3 on Derby
#   IMSYNC_HIVE4_URI   thrift://127.0.0.1:<port>  Hive Metastore 4.0.1 on the PostgreSQL of
#                      start-postgres.sh when IMSYNC_PG_URL is set (Hive's conditional alter
#                      needs a database other than Derby), else on Derby
#   IMSYNC_HIVE_RUN    scripts/hive-metastore/run.sh (tests start private metastores with it)
# and registers stop_hive (call it on exit). Without a metastore its tests are skipped (they say so).
# Both listen on 127.0.0.1 only (3.1 through run.sh's loopback launcher, as 3.1 has no bind
# setting); a metastore that `ss` shows listening on any other address is stopped, not used.
stop_hive() { :; }
_hive_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_hive_free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null ||
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}
_hive_dir="$(mktemp -d /tmp/imsync-hive.XXXXXX)"
_hive_pids=()
_hive_start() { # version major [pg-url]
  local port
  port="$(_hive_free_port)"
  mkdir -p "$_hive_dir/$2"
  bash "$_hive_root/scripts/hive-metastore/run.sh" "$1" "$_hive_dir/$2" "$port" "${3:-}" >"$_hive_dir/$2.out" 2>&1 &
  _hive_pids+=($!)
  echo "$port" >"$_hive_dir/$2.port"
  echo "$!" >"$_hive_dir/$2.pid"
}
export IMSYNC_HIVE_RUN="$_hive_root/scripts/hive-metastore/run.sh"
[ -d "$_hive_root/.cache/hive-metastore/3.1.3/lib" ] && _hive_start 3.1.3 3
[ -d "$_hive_root/.cache/hive-metastore/4.0.1/lib" ] && _hive_start 4.0.1 4 "${IMSYNC_PG_URL:-}"
for _hive_v in 3 4; do
  [ -f "$_hive_dir/$_hive_v.pid" ] || { echo "Hive Metastore $_hive_v.x is not installed (scripts/setup-hive.sh); its tests will be skipped" >&2; continue; }
  _hive_pid="$(cat "$_hive_dir/$_hive_v.pid")" _hive_port="$(cat "$_hive_dir/$_hive_v.port")" _hive_up=0
  for _ in $(seq 1 1200); do
    kill -0 "$_hive_pid" 2>/dev/null || break
    if (exec 3<>"/dev/tcp/127.0.0.1/$_hive_port") 2>/dev/null; then _hive_up=1; break; fi
    sleep 0.1
  done
  # Test servers listen on loopback only: a metastore listening on another address is stopped.
  _hive_listen="$(ss -Hltn "sport = :$_hive_port" 2>/dev/null | awk '{print $4}' | sort -u | tr '\n' ' ')"
  _hive_wide=""
  for _hive_a in $_hive_listen; do
    case "$_hive_a" in 127.0.0.1:* | "[::ffff:127.0.0.1]:"*) ;; *) _hive_wide=1 ;; esac
  done
  if [ "$_hive_up" = 1 ] && [ -n "$_hive_wide" ]; then
    echo "Hive Metastore $_hive_v.x listens on $_hive_listen, not only on 127.0.0.1: stopped; its tests will be skipped" >&2
    kill "$_hive_pid" 2>/dev/null
    _hive_up=0
  fi
  if [ "$_hive_up" = 1 ]; then
    export "IMSYNC_HIVE${_hive_v}_URI=thrift://127.0.0.1:$_hive_port"
    echo "Hive Metastore $_hive_v.x started, listening on ${_hive_listen:-127.0.0.1:$_hive_port (ss not found to check)}" >&2
  else
    echo "Hive Metastore $_hive_v.x could not be started; its tests will be skipped" >&2
    sed 's/^/  hive: /' "$_hive_dir/$_hive_v.out" "$_hive_dir/$_hive_v/metastore.log" 2>/dev/null | tail -30 >&2
  fi
done
stop_hive() {
  local p
  for p in "${_hive_pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${_hive_pids[@]}"; do wait "$p" 2>/dev/null; done
  if [ -n "${IMSYNC_PG_URL:-}" ] && [ -f "$_hive_dir/4/postgres-db" ]; then
    "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql" -q "$IMSYNC_PG_URL" \
      -c "DROP DATABASE IF EXISTS $(cat "$_hive_dir/4/postgres-db")" >/dev/null 2>&1 || true
  fi
  rm -rf "$_hive_dir"
}
