#!/usr/bin/env bash
# Runs one throw-away Hive Metastore in the foreground (start-hive.sh and the tests that need a
# private one start it in the background):
#   run.sh VERSION DIR PORT [POSTGRES_URL]
# DIR gets conf/ (metastore-site.xml, log4j2.properties), the Derby database (a copy of a schema
# initialised once per version by schematool and cached) or, with POSTGRES_URL
# (postgresql://user@host:port/db of a running server), a fresh database there restored from a
# cached dump of schematool's schema; the log goes to DIR/metastore.log. Run again on the same DIR,
# a Derby metastore keeps its database.
# Installed by scripts/setup-hive.sh. Binds 127.0.0.1 (4.x by its setting, 3.1 by LoopbackMetastore.java).
set -euo pipefail
version="$1" dir="$2" port="$3" pg="${4:-}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
home="$root/.cache/hive-metastore/$version"
[ -d "$home/lib" ] || { echo "run.sh: Hive Metastore $version is not installed (scripts/setup-hive.sh)" >&2; exit 1; }
mkdir -p "$dir/conf" "$dir/warehouse"
# The housekeeper times out the locks of clients that died (hive.txn.timeout), as on a production
# metastore; it is the only housekeeping task run (the others need hive-exec or a compactor).
case "$version" in
3.*) schematool=org.apache.hadoop.hive.metastore.tools.MetastoreSchemaTool
  housekeeper=org.apache.hadoop.hive.metastore.txn.AcidHouseKeeperService ;;
*) schematool=org.apache.hadoop.hive.metastore.tools.schematool.MetastoreSchemaTool
  housekeeper=org.apache.hadoop.hive.metastore.txn.service.AcidHouseKeeperService ;;
esac

# One property per line: name value.
site() {
  {
    echo '<?xml version="1.0"?><configuration>'
    while read -r k v; do
      [ -n "$k" ] && printf '<property><name>%s</name><value>%s</value></property>\n' "$k" "$v"
    done
    echo '</configuration>'
  } >"$1/metastore-site.xml"
}
# $1 conf dir, $2 JDBC URL, $3 driver, $4 user
write_conf() {
  site "$1" <<PROPS
metastore.thrift.port $port
hive.metastore.port $port
metastore.thrift.bind.host 127.0.0.1
hive.metastore.thrift.bind.host 127.0.0.1
javax.jdo.option.ConnectionURL $2
javax.jdo.option.ConnectionDriverName $3
javax.jdo.option.ConnectionUserName $4
datanucleus.schema.autoCreateAll false
metastore.schema.verification true
metastore.warehouse.dir file://$dir/warehouse
metastore.warehouse.external.dir file://$dir/warehouse-external
metastore.expression.proxy org.apache.hadoop.hive.metastore.DefaultPartitionExpressionProxy
metastore.task.threads.always org.apache.hadoop.hive.metastore.events.EventCleanerTask
metastore.event.db.notification.api.auth false
hive.metastore.event.db.notification.api.auth false
metastore.housekeeping.threads.on true
metastore.task.threads.remote $housekeeper
PROPS
  cat >"$1/log4j2.properties" <<LOG
status = WARN
appender.file.type = File
appender.file.name = file
appender.file.fileName = $dir/metastore.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{ISO8601} %-5p [%t] %c{2}: %m%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
LOG
}

schema() { # $1 conf dir, $2 dbType
  (cd "$home" && METASTORE_HOME="$home/dist" java -Xmx512m -Dlog4j2.configurationFile="$1/log4j2.properties" \
    -cp "$1:$home/lib/*" "$schematool" -initSchema -dbType "$2") >"$1/schematool.log" 2>&1 || {
    sed 's/^/  schematool: /' "$1/schematool.log" >&2
    echo "run.sh: schematool failed for $version" >&2
    exit 1
  }
}
# Serialises the one-time schema builds of concurrent starts.
exec 9>"$home/.schema.lock"

if [ -z "$pg" ]; then
  template="$home/derby-template"
  flock 9
  if [ ! -d "$template/metastore_db" ]; then
    rm -rf "$template" && mkdir -p "$template/conf"
    write_conf "$template/conf" "jdbc:derby:;databaseName=$template/metastore_db;create=true" org.apache.derby.jdbc.EmbeddedDriver APP
    [[ "$version" == 3.* ]] || sed -i -e '/metastore.expression.proxy/d' -e '/metastore.task.threads.always/d' "$template/conf/metastore-site.xml"
    schema "$template/conf" derby
  fi
  flock -u 9
  # A restart in the same DIR keeps its database (the fault tests stop and start a metastore).
  [ -d "$dir/metastore_db" ] || cp -r "$template/metastore_db" "$dir/metastore_db"
  write_conf "$dir/conf" "jdbc:derby:;databaseName=$dir/metastore_db" org.apache.derby.jdbc.EmbeddedDriver APP
else
  pgbin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [ -n "$pgbin" ] || { echo "run.sh: PostgreSQL client tools not found" >&2; exit 1; }
  base="${pg%/*}"
  hostport="${base#*@}" user="${base#postgresql://}" user="${user%%@*}"
  host="${hostport%%:*}" pgport="${hostport##*:}"
  dump="$home/postgres-schema.sql"
  flock 9
  if [ ! -s "$dump" ]; then
    scratch="hms_schema_$$"
    "$pgbin/createdb" -h "$host" -p "$pgport" -U "$user" "$scratch"
    mkdir -p "$dir/schema-conf"
    write_conf "$dir/schema-conf" "jdbc:postgresql://$host:$pgport/$scratch" org.postgresql.Driver "$user"
    schema "$dir/schema-conf" postgres
    "$pgbin/pg_dump" -h "$host" -p "$pgport" -U "$user" --no-owner "$scratch" >"$dump.tmp"
    mv "$dump.tmp" "$dump"
    "$pgbin/dropdb" -h "$host" -p "$pgport" -U "$user" "$scratch"
  fi
  flock -u 9
  db="hms_$(basename "$dir" | tr -c 'a-zA-Z0-9\n' '_' | tr 'A-Z' 'a-z')_$$"
  "$pgbin/createdb" -h "$host" -p "$pgport" -U "$user" "$db"
  "$pgbin/psql" -q -h "$host" -p "$pgport" -U "$user" -d "$db" -v ON_ERROR_STOP=1 -f "$dump" >/dev/null
  echo "$db" >"$dir/postgres-db"
  write_conf "$dir/conf" "jdbc:postgresql://$host:$pgport/$db" org.postgresql.Driver "$user"
fi
# 4.x: its default always-on tasks name a class of hive-exec (HiveProtoEventsCleanerTask) that the
# standalone metastore lacks, and that failure starts no housekeeping at all, so locks of a
# client that died would never time out: name the tasks the standalone jar has.
[[ "$version" == 3.* ]] || sed -i -e '/metastore.expression.proxy/d' \
  -e 's|<value>org.apache.hadoop.hive.metastore.events.EventCleanerTask</value>|<value>org.apache.hadoop.hive.metastore.events.EventCleanerTask,org.apache.hadoop.hive.metastore.RuntimeStatsCleanerTask</value>|' \
  "$dir/conf/metastore-site.xml"

# 4.x binds 127.0.0.1 through metastore.thrift.bind.host. 3.1 has no such setting (its
# HiveMetaStore opens the server socket on the wildcard address), so 3.1 runs through
# LoopbackMetastore.java, which serves the same handler on 127.0.0.1; compiled once per source.
main=(org.apache.hadoop.hive.metastore.HiveMetaStore) cp="$dir/conf:$home/lib/*"
if [[ "$version" == 3.* ]]; then
  src="$root/scripts/hive-metastore/LoopbackMetastore.java"
  launcher="$home/launcher-$(sha256sum "$src" | cut -c1-12)"
  flock 9
  if [ ! -f "$launcher/LoopbackMetastore.class" ]; then
    command -v javac >/dev/null || { echo "run.sh: javac (a JDK >= 17) is needed to build the 3.1 loopback launcher" >&2; exit 1; }
    rm -rf "$home"/launcher-* && mkdir -p "$launcher.tmp"
    javac -nowarn -d "$launcher.tmp" -cp "$home/lib/*" "$src" && mv "$launcher.tmp" "$launcher"
  fi
  flock -u 9
  main=(LoopbackMetastore "$port") cp="$dir/conf:$launcher:$home/lib/*"
fi
cd "$dir"
exec java -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile="$dir/conf/log4j2.properties" \
  -cp "$cp" "${main[@]}"
