/**
 * The Iceberg table metadata model (format v1, v2, v3).
 *
 * Metadata is kept as exact JSON ({@link JsonObject}) so that unknown and future fields survive
 * a rewrite; {@link viewTableMetadata} gives a typed, read-only view of the fields this tool
 * reads. Longs (ids, sequence numbers, timestamps) are `bigint`.
 */
import { CorruptFileError, UnsupportedError } from '../errors.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../util/json.ts';

/** Table format versions this version reads and writes. */
export const SUPPORTED_FORMAT_VERSIONS = [1, 2, 3] as const;
export type FormatVersion = (typeof SUPPORTED_FORMAT_VERSIONS)[number];

/** A snapshot (typed view). */
export interface Snapshot {
  readonly snapshotId: bigint;
  readonly parentSnapshotId?: bigint;
  readonly sequenceNumber?: bigint;
  readonly timestampMs: bigint;
  /** v2+: the manifest list; v1 may use {@link manifests} instead. */
  readonly manifestList?: string;
  /** v1 only: manifest paths listed inline. */
  readonly manifests?: readonly string[];
  readonly summary?: Readonly<Record<string, string>>;
  readonly schemaId?: number;
  /** v3 row lineage. */
  readonly firstRowId?: bigint;
  readonly addedRows?: bigint;
}

/** A branch or tag. */
export interface SnapshotRef {
  readonly snapshotId: bigint;
  readonly type: 'branch' | 'tag';
}

/** An entry of `metadata-log`. */
export interface MetadataLogEntry {
  readonly timestampMs: bigint;
  readonly metadataFile: string;
}

/** An entry of `statistics` (a Puffin table-statistics file). */
export interface StatisticsFile {
  readonly snapshotId: bigint;
  readonly statisticsPath: string;
  readonly fileSizeInBytes: bigint;
}

/** An entry of `partition-statistics`. */
export interface PartitionStatisticsFile {
  readonly snapshotId: bigint;
  readonly statisticsPath: string;
  readonly fileSizeInBytes: bigint;
}

/** Typed read-only view of table metadata. */
export interface TableMetadata {
  readonly formatVersion: FormatVersion;
  readonly tableUuid?: string;
  readonly location: string;
  readonly lastSequenceNumber?: bigint;
  readonly lastUpdatedMs?: bigint;
  readonly currentSnapshotId?: bigint;
  readonly currentSchemaId?: number;
  readonly defaultSpecId?: number;
  readonly schemaCount: number;
  readonly specCount: number;
  readonly snapshots: readonly Snapshot[];
  /** Refs, with `main` derived from `current-snapshot-id` when the file has no `refs` (v1). */
  readonly refs: Readonly<Record<string, SnapshotRef>>;
  readonly metadataLog: readonly MetadataLogEntry[];
  readonly statistics: readonly StatisticsFile[];
  readonly partitionStatistics: readonly PartitionStatisticsFile[];
  readonly properties: Readonly<Record<string, string>>;
}

/** Table properties whose values are paths. */
export const PATH_PROPERTIES = [
  'write.data.path',
  'write.metadata.path',
  'write.object-storage.path',
  'write.folder-storage.path',
] as const;

function req(obj: JsonObject, key: string, file: string): JsonValue {
  const v = obj[key];
  if (v === undefined || v === null)
    throw new CorruptFileError(file, `table metadata lacks required field '${key}'`);
  return v;
}

function asLong(v: JsonValue | undefined, what: string, file: string): bigint {
  if (typeof v !== 'bigint') throw new CorruptFileError(file, `${what} is not an integer`);
  return v;
}

function optLong(v: JsonValue | undefined, what: string, file: string): bigint | undefined {
  return v === undefined || v === null ? undefined : asLong(v, what, file);
}

function asString(v: JsonValue | undefined, what: string, file: string): string {
  if (typeof v !== 'string') throw new CorruptFileError(file, `${what} is not a string`);
  return v;
}

/** Sets an own property, also for the key `__proto__` (which plain assignment would not). */
function setOwn<T>(o: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__')
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

function stringMap(v: JsonValue | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (isJsonObject(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string') setOwn(out, k, x);
  return out;
}

function array(v: JsonValue | undefined, what: string, file: string): JsonValue[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new CorruptFileError(file, `${what} is not an array`);
  return v;
}

/** Reads and checks `format-version`; unsupported versions raise {@link UnsupportedError}. */
export function formatVersionOf(json: JsonObject, file: string): FormatVersion {
  const v = json['format-version'];
  if (v === undefined) return 1; // very old writers omitted it
  const n = typeof v === 'bigint' ? Number(v) : Number.NaN;
  if (!(SUPPORTED_FORMAT_VERSIONS as readonly number[]).includes(n)) {
    throw new UnsupportedError(file, `unsupported table format-version ${String(v)} (supported: 1, 2, 3)`);
  }
  return n as FormatVersion;
}

/** Builds the typed view of parsed metadata JSON, validating what it reads. */
export function viewTableMetadata(json: JsonObject, file: string): TableMetadata {
  const formatVersion = formatVersionOf(json, file);
  const location = asString(req(json, 'location', file), 'location', file);
  const snapshots: Snapshot[] = array(json.snapshots, 'snapshots', file).map((s, i) => {
    if (!isJsonObject(s)) throw new CorruptFileError(file, `snapshots[${i}] is not an object`);
    const what = `snapshots[${i}]`;
    const manifests = s.manifests;
    return {
      snapshotId: asLong(s['snapshot-id'], `${what}.snapshot-id`, file),
      parentSnapshotId: optLong(s['parent-snapshot-id'], `${what}.parent-snapshot-id`, file),
      sequenceNumber: optLong(s['sequence-number'], `${what}.sequence-number`, file),
      timestampMs: asLong(s['timestamp-ms'], `${what}.timestamp-ms`, file),
      manifestList: typeof s['manifest-list'] === 'string' ? s['manifest-list'] : undefined,
      manifests: Array.isArray(manifests)
        ? manifests.map((m) => asString(m, `${what}.manifests`, file))
        : undefined,
      summary: isJsonObject(s.summary) ? stringMap(s.summary) : undefined,
      schemaId: typeof s['schema-id'] === 'bigint' ? Number(s['schema-id']) : undefined,
      firstRowId: optLong(s['first-row-id'], `${what}.first-row-id`, file),
      addedRows: optLong(s['added-rows'], `${what}.added-rows`, file),
    };
  });
  const currentRaw = json['current-snapshot-id'];
  const currentSnapshotId = typeof currentRaw === 'bigint' && currentRaw !== -1n ? currentRaw : undefined;
  const refs: Record<string, SnapshotRef> = {};
  if (isJsonObject(json.refs)) {
    for (const [name, r] of Object.entries(json.refs)) {
      if (!isJsonObject(r)) throw new CorruptFileError(file, `refs.${name} is not an object`);
      setOwn(refs, name, {
        snapshotId: asLong(r['snapshot-id'], `refs.${name}.snapshot-id`, file),
        type: r.type === 'tag' ? 'tag' : 'branch',
      });
    }
  }
  if (!Object.hasOwn(refs, 'main') && currentSnapshotId !== undefined)
    refs.main = { snapshotId: currentSnapshotId, type: 'branch' };
  const metadataLog = array(json['metadata-log'], 'metadata-log', file).map((e, i) => {
    if (!isJsonObject(e)) throw new CorruptFileError(file, `metadata-log[${i}] is not an object`);
    return {
      timestampMs: asLong(e['timestamp-ms'], `metadata-log[${i}].timestamp-ms`, file),
      metadataFile: asString(e['metadata-file'], `metadata-log[${i}].metadata-file`, file),
    };
  });
  const statsList = (key: string) =>
    array(json[key], key, file).map((e, i) => {
      if (!isJsonObject(e)) throw new CorruptFileError(file, `${key}[${i}] is not an object`);
      return {
        snapshotId: asLong(e['snapshot-id'], `${key}[${i}].snapshot-id`, file),
        statisticsPath: asString(e['statistics-path'], `${key}[${i}].statistics-path`, file),
        fileSizeInBytes: asLong(e['file-size-in-bytes'], `${key}[${i}].file-size-in-bytes`, file),
      };
    });
  const int = (v: JsonValue | undefined) => (typeof v === 'bigint' ? Number(v) : undefined);
  return {
    formatVersion,
    tableUuid: typeof json['table-uuid'] === 'string' ? json['table-uuid'] : undefined,
    location,
    lastSequenceNumber: optLong(json['last-sequence-number'], 'last-sequence-number', file),
    lastUpdatedMs: optLong(json['last-updated-ms'], 'last-updated-ms', file),
    currentSnapshotId,
    currentSchemaId: int(json['current-schema-id']),
    defaultSpecId: int(json['default-spec-id']),
    schemaCount: Array.isArray(json.schemas) ? json.schemas.length : json.schema ? 1 : 0,
    specCount: Array.isArray(json['partition-specs'])
      ? json['partition-specs'].length
      : json['partition-spec']
        ? 1
        : 0,
    snapshots,
    refs,
    metadataLog,
    statistics: statsList('statistics'),
    partitionStatistics: statsList('partition-statistics'),
    properties: stringMap(json.properties),
  };
}
