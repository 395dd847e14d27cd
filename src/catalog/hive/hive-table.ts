/**
 * The metastore's view of an Iceberg table, as Apache Iceberg's HiveCatalog (Java,
 * `HiveTableOperations` with `HMSTablePropertyHelper` and `HiveSchemaUtil`) writes it with the
 * Hive engine integration off (`engine.hive.enabled=false`, its default):
 *
 * - an `EXTERNAL_TABLE` with `EXTERNAL=TRUE`, so that dropping it in Hive never deletes files;
 * - parameters `table_type=ICEBERG`, `metadata_location`, `previous_metadata_location`, the
 *   table's properties, `uuid`, the current snapshot's basic statistics (`numFiles`, `numRows`,
 *   `totalSize`), `current-snapshot-id`/`-timestamp-ms`/`-summary`, `snapshot-count`,
 *   `current-schema`, `default-partition-spec` and `default-sort-order` (each only when shorter
 *   than Java's 32672-character limit);
 * - a storage descriptor at the table's location (see `HiveCatalog` for when it is not) with the
 *   current schema's columns as Hive
 *   type strings and the placeholder formats Java sets (`FileInputFormat`, `FileOutputFormat`,
 *   `LazySimpleSerDe`): readers go through `metadata_location`, never through these.
 *
 * One deliberate difference: Java translates `gc.enabled` to Hive's `external.table.purge`. A DR
 * replica's table must never be purged by a Hive `DROP TABLE`, so that key is not set here.
 *
 * The metadata is read here from its JSON (not through the Iceberg model, which the catalog
 * room does not import): only the fields above, with 64-bit ids kept exact.
 */
import { gunzipSync } from 'node:zlib';
import { ConfigError } from '../../errors.ts';
import { isJsonObject, type JsonObject, type JsonValue, parseJson, stringifyJson } from '../../util/json.ts';
import type { HiveFieldSchema, HiveTable } from './metastore-api.ts';

/** Java's `iceberg.hive.table-property-max-size` default. */
const MAX_PROPERTY_SIZE = 32672;

/** Iceberg's table-type parameter and value, and the metadata pointers. */
export const TABLE_TYPE = 'table_type';
export const ICEBERG = 'ICEBERG';
export const METADATA_LOCATION = 'metadata_location';
export const PREVIOUS_METADATA_LOCATION = 'previous_metadata_location';

/** Parameters this catalog recomputes on every commit (left over from the last one otherwise). */
const DERIVED = [
  'current-snapshot-id',
  'current-snapshot-timestamp-ms',
  'current-snapshot-summary',
  'current-schema',
  'default-partition-spec',
  'default-sort-order',
];

/** Iceberg property names Java stores under Hive's names. */
const TO_HMS: Readonly<Record<string, string>> = {
  'write.parquet.compression-codec': 'parquet.compression',
  'write.parquet.row-group-size-bytes': 'parquet.block.size',
};

/** Parses metadata.json bytes (plain or gzip). */
export function parseMetadata(bytes: Uint8Array, where: string): JsonObject {
  let data = bytes;
  if (data[0] === 0x1f && data[1] === 0x8b) data = gunzipSync(data);
  let doc: JsonValue;
  try {
    doc = parseJson(new TextDecoder().decode(data));
  } catch (err) {
    throw new ConfigError(`${where}: not table metadata JSON: ${(err as Error).message}`);
  }
  if (!isJsonObject(doc)) throw new ConfigError(`${where}: table metadata is not a JSON object`);
  return doc;
}

function str(v: JsonValue | undefined): string | undefined {
  return typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : undefined;
}

/** The Hive type string of an Iceberg type, as Java's HiveSchemaUtil spells it (Hive 3+). */
export function hiveType(t: JsonValue | undefined, where: string): string {
  if (typeof t === 'string') {
    const decimal = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
    if (decimal) return `decimal(${decimal[1]},${decimal[2]})`;
    if (/^fixed\[\d+\]$/.test(t)) return 'binary';
    switch (t) {
      case 'boolean':
        return 'boolean';
      case 'int':
        return 'int';
      case 'long':
        return 'bigint';
      case 'float':
        return 'float';
      case 'double':
        return 'double';
      case 'date':
        return 'date';
      case 'timestamp':
      case 'timestamp_ns':
        return 'timestamp';
      case 'timestamptz':
      case 'timestamptz_ns':
        return 'timestamp with local time zone';
      case 'binary':
        return 'binary';
      // Hive has no time, uuid, variant, geometry or unknown type: Java maps the first two
      // to string; the columns are informational only (readers use the Iceberg schema).
      default:
        return 'string';
    }
  }
  if (!isJsonObject(t)) throw new ConfigError(`${where}: a field has no type`);
  switch (t.type) {
    case 'struct': {
      const fields = Array.isArray(t.fields) ? t.fields : [];
      const parts = fields.filter(isJsonObject).map((f) => `${str(f.name)}:${hiveType(f.type, where)}`);
      return `struct<${parts.join(',')}>`;
    }
    case 'list':
      return `array<${hiveType(t.element, where)}>`;
    case 'map':
      return `map<${hiveType(t.key, where)},${hiveType(t.value, where)}>`;
  }
  return 'string';
}

/** The current schema object of the metadata (v2/v3 `schemas`, v1 `schema`). */
function currentSchema(metadata: JsonObject, where: string): JsonObject {
  const id = metadata['current-schema-id'];
  if (Array.isArray(metadata.schemas) && id !== undefined) {
    const found = metadata.schemas.find((s) => isJsonObject(s) && s['schema-id'] === id);
    if (isJsonObject(found)) return found;
  }
  if (isJsonObject(metadata.schema)) return metadata.schema;
  throw new ConfigError(`${where}: metadata has no current schema`);
}

/** The columns of the current schema. */
export function hiveColumns(metadata: JsonObject, where: string): HiveFieldSchema[] {
  const schema = currentSchema(metadata, where);
  const fields = Array.isArray(schema.fields) ? schema.fields.filter(isJsonObject) : [];
  return fields.map((f) => ({
    name: str(f.name) ?? '',
    type: hiveType(f.type, where),
    ...(typeof f.doc === 'string' ? { comment: f.doc } : {}),
  }));
}

function currentSnapshot(metadata: JsonObject): JsonObject | undefined {
  const id = metadata['current-snapshot-id'];
  if (id === undefined || id === null || id === -1n) return undefined;
  const snaps = Array.isArray(metadata.snapshots) ? metadata.snapshots : [];
  const s = snaps.find((x) => isJsonObject(x) && x['snapshot-id'] === id);
  return isJsonObject(s) ? s : undefined;
}

function byId(list: JsonValue | undefined, key: string, id: JsonValue | undefined): JsonObject | undefined {
  if (!Array.isArray(list)) return undefined;
  const found = list.find((x) => isJsonObject(x) && x[key] === id);
  return isJsonObject(found) ? found : undefined;
}

/**
 * The parameters of the table after a commit of `metadata` at `location` over `previous`,
 * starting from the table's current parameters (others' keys are kept, as Java keeps them).
 */
export function hiveParameters(
  current: Readonly<Record<string, string>>,
  metadata: JsonObject,
  location: string,
  previous: string | undefined,
): Record<string, string> {
  const p: Record<string, string> = { ...current };
  for (const k of DERIVED) delete p[k];
  const props = isJsonObject(metadata.properties) ? metadata.properties : {};
  for (const [k, v] of Object.entries(props)) {
    if (k === 'gc.enabled' || k.toLowerCase() === 'owner') continue;
    const s = str(v);
    if (s !== undefined) p[TO_HMS[k] ?? k] = s;
  }
  const uuid = str(metadata['table-uuid']);
  if (uuid) p.uuid = uuid;
  p[TABLE_TYPE] = ICEBERG;
  p[METADATA_LOCATION] = location;
  if (previous !== undefined) p[PREVIOUS_METADATA_LOCATION] = previous;
  else delete p[PREVIOUS_METADATA_LOCATION];
  p.EXTERNAL = 'TRUE';
  delete p.storage_handler; // the Hive engine integration is off
  const put = (k: string, v: string | undefined) => {
    if (v !== undefined && v.length <= MAX_PROPERTY_SIZE) p[k] = v;
  };
  const snapshot = currentSnapshot(metadata);
  const summary = isJsonObject(snapshot?.summary) ? snapshot.summary : undefined;
  if (summary) {
    put('numFiles', str(summary['total-data-files']));
    put('numRows', str(summary['total-records']));
    put('totalSize', str(summary['total-files-size']));
  }
  if (snapshot) {
    put('current-snapshot-id', str(snapshot['snapshot-id']));
    put('current-snapshot-timestamp-ms', str(snapshot['timestamp-ms']));
    if (summary) put('current-snapshot-summary', stringifyJson(summary));
  }
  p['snapshot-count'] = String(Array.isArray(metadata.snapshots) ? metadata.snapshots.length : 0);
  try {
    put('current-schema', stringifyJson(currentSchema(metadata, location)));
  } catch {
    // no schema: the columns step has reported it
  }
  const spec = byId(metadata['partition-specs'], 'spec-id', metadata['default-spec-id']);
  if (spec && Array.isArray(spec.fields) && spec.fields.length > 0)
    put('default-partition-spec', stringifyJson(spec));
  const order = byId(metadata['sort-orders'], 'order-id', metadata['default-sort-order-id']);
  if (order && Array.isArray(order.fields) && order.fields.length > 0)
    put('default-sort-order', stringifyJson(order));
  return p;
}

/** A new metastore table for `metadata` committed at `location`. */
export function newHiveTable(
  db: string,
  name: string,
  owner: string,
  metadata: JsonObject,
  location: string,
  sdLocation?: string,
): HiveTable {
  const now = Math.floor(Date.now() / 1000);
  return {
    tableName: name,
    dbName: db,
    owner,
    createTime: now,
    lastAccessTime: now,
    retention: 2147483647,
    sd: storageDescriptor(metadata, location, sdLocation),
    partitionKeys: [],
    parameters: hiveParameters({}, metadata, location, undefined),
    tableType: 'EXTERNAL_TABLE',
  };
}

/** The table `current` moved to `metadata` at `location` (its other fields kept). */
export function updatedHiveTable(
  current: HiveTable,
  metadata: JsonObject,
  location: string,
  previous: string,
  sdLocation?: string,
): HiveTable {
  const sd = storageDescriptor(metadata, location, sdLocation);
  return {
    ...current,
    sd: { ...current.sd, cols: sd.cols, location: sd.location },
    parameters: hiveParameters(current.parameters ?? {}, metadata, location, previous),
    tableType: 'EXTERNAL_TABLE',
  };
}

/** The table's location as its metadata gives it. */
export function tableLocationOf(metadata: JsonObject, where: string): string {
  const tableLocation = str(metadata.location);
  if (!tableLocation) throw new ConfigError(`${where}: metadata has no location`);
  return tableLocation;
}

function storageDescriptor(
  metadata: JsonObject,
  location: string,
  sdLocation?: string,
): NonNullable<HiveTable['sd']> {
  const tableLocation = tableLocationOf(metadata, location);
  return {
    cols: hiveColumns(metadata, location),
    location: sdLocation ?? tableLocation,
    inputFormat: 'org.apache.hadoop.mapred.FileInputFormat',
    outputFormat: 'org.apache.hadoop.mapred.FileOutputFormat',
    compressed: false,
    numBuckets: -1,
    serdeInfo: { serializationLib: 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe', parameters: {} },
    bucketCols: [],
    parameters: {},
  };
}
