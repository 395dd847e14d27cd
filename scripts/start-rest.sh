#!/usr/bin/env bash
# Source this file: starts a private, throw-away Iceberg REST catalog (Apache Iceberg's reference
# implementation over a JdbcCatalog on SQLite, built by scripts/setup-rest.sh) on a loopback
# port for the REST catalog tests, and exports
#   IMSYNC_REST_URI        http://127.0.0.1:<port>
#   IMSYNC_REST_CLASSPATH  its Java classpath (tests start private servers with it: one that
#                          requires OAuth2 tokens, ones they stop mid-run)
# and registers stop_rest (call it on exit). Without a server the REST tests are skipped (they
# say so). Startup takes a few seconds (the JVM).
stop_rest() { :; }
_rest_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_rest_cp_file="$_rest_root/.cache/rest-catalog/classpath.txt"
if [ -f "$_rest_cp_file" ] && command -v java >/dev/null 2>&1; then
  _rest_dir="$(mktemp -d /tmp/imsync-rest.XXXXXX)"
  _rest_cp="$_rest_root/.cache/rest-catalog/classes:$(cat "$_rest_cp_file")"
  _rest_start=$SECONDS
  # stdin from a fifo held open by this shell: the server stops when it closes (or on SIGTERM).
  mkfifo "$_rest_dir/in"
  mkdir -p "$_rest_dir/warehouse"
  java -Xmx512m -cp "$_rest_cp" imsync.RestCatalogServer "$_rest_dir/warehouse" "$_rest_dir/catalog.db" \
    <"$_rest_dir/in" >"$_rest_dir/out" 2>"$_rest_dir/server.log" &
  _rest_pid=$!
  exec {_rest_fd}>"$_rest_dir/in"
  _rest_info=""
  for _ in $(seq 1 600); do
    if ! kill -0 "$_rest_pid" 2>/dev/null; then break; fi
    _rest_info="$(head -n1 "$_rest_dir/out" 2>/dev/null || true)"
    [ -n "$_rest_info" ] && break
    sleep 0.1
  done
  if [ -n "$_rest_info" ]; then
    export IMSYNC_REST_URI="$(sed -E 's/.*"uri":"([^"]+)".*/\1/' <<<"$_rest_info")"
    export IMSYNC_REST_CLASSPATH="$_rest_cp"
    stop_rest() {
      exec {_rest_fd}>&-
      kill "$_rest_pid" 2>/dev/null && wait "$_rest_pid" 2>/dev/null
      rm -rf "$_rest_dir"
    }
    echo "Iceberg REST catalog started in $((SECONDS - _rest_start)) s at $IMSYNC_REST_URI" >&2
  else
    exec {_rest_fd}>&-
    kill "$_rest_pid" 2>/dev/null
    echo "the Iceberg REST catalog did not start; the REST catalog tests will be skipped" >&2
    grep -v '^\s*at ' "$_rest_dir/server.log" | tail -n 20 | sed 's/^/  rest: /' >&2
    rm -rf "$_rest_dir"
  fi
else
  echo "no REST catalog in .cache/rest-catalog (run scripts/setup-rest.sh); the REST catalog tests will be skipped" >&2
fi
