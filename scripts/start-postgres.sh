#!/usr/bin/env bash
# Source this file: starts a private, throw-away PostgreSQL server on a loopback port for the SQL
# catalog tests, exports IMSYNC_PG_URL, and registers stop_postgres (call it on exit).
# Installs Debian's postgresql package first when it is missing and we are root.
# Without a server the PostgreSQL tests are skipped (they say so).
_pg_bin=""
_pg_find() { _pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"; }
_pg_find
if [ -z "$_pg_bin" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing PostgreSQL (Debian package) for the SQL catalog tests" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) >&2 || true
  _pg_find
fi
stop_postgres() { :; }
if [ -n "$_pg_bin" ]; then
  _pg_dir="$(mktemp -d /tmp/imsync-pg.XXXXXX)"
  # A free loopback port (IMSYNC_PG_PORT to choose one): a server left by another run on a fixed
  # port would otherwise make this one fail to bind.
  _pg_port="${IMSYNC_PG_PORT:-$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})' 2>/dev/null ||
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])' 2>/dev/null || echo 55432)}"
  _pg_run() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
  [ "$(id -u)" = 0 ] && chown postgres "$_pg_dir"
  if _pg_run "'$_pg_bin/initdb' -D '$_pg_dir/data' -U postgres -A trust >'$_pg_dir/initdb.log' 2>&1" &&
     _pg_run "'$_pg_bin/pg_ctl' -D '$_pg_dir/data' -l '$_pg_dir/server.log' -w -o \"-p $_pg_port -k '$_pg_dir' -c listen_addresses=127.0.0.1\" start >/dev/null"; then
    export IMSYNC_PG_URL="postgresql://postgres@127.0.0.1:$_pg_port/postgres"
    stop_postgres() { _pg_run "'$_pg_bin/pg_ctl' -D '$_pg_dir/data' -m fast stop >/dev/null 2>&1"; rm -rf "$_pg_dir"; }
    echo "PostgreSQL started on 127.0.0.1:$_pg_port" >&2
  else
    echo "PostgreSQL could not be started; its tests will be skipped (see $_pg_dir)" >&2
  fi
fi
