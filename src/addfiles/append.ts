/**
 * A fast append as Iceberg writes one: a new manifest holding the added files, a manifest list
 * naming it and every manifest of the parent snapshot, and table metadata with the new snapshot
 * (summary totals, snapshot log, metadata log, row lineage in v3). Pure: bytes in, bytes out;
 * the caller writes the files and commits.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type AvroRecord, type AvroValue, encodeAvroFile } from '../avro/container.ts';
import { manifestEntrySchema, manifestFileSchema } from '../iceberg/manifest-schemas.ts';
import type { FormatVersion } from '../iceberg/metadata.ts';
import {
  avroTypeOf,
  avroValueOf,
  type PartitionSpec,
  PartitionSummary,
  specToJson,
} from '../iceberg/partition.ts';
import { type Schema, schemaToJson } from '../iceberg/schema.ts';
import { serializeValue } from '../iceberg/values.ts';
import { isJsonObject, type JsonObject, type JsonValue, stringifyJson } from '../util/json.ts';
import type { NewDataFile, TableShape } from './data-file.ts';
import { onlyOldDeletes } from './remove.ts';

const enc = new TextEncoder();

/** Iceberg's Avro-compatible spelling of a field name (`a-b` → `a_x2Db`). */
export function avroName(name: string): string {
  let out = '';
  for (const [i, ch] of Array.from(name).entries()) {
    if (/[A-Za-z_]/.test(ch) || (i > 0 && /[0-9]/.test(ch))) out += ch;
    else if (/[0-9]/.test(ch)) out += `_${ch}`;
    else out += `_x${(ch.codePointAt(0) as number).toString(16).toUpperCase()}`;
  }
  return out;
}

/** A positive 63-bit snapshot id not used by the table yet. */
export function newSnapshotId(existing: ReadonlySet<bigint>): bigint {
  for (;;) {
    const id = randomBytes(8).readBigUInt64BE() & 0x7fff_ffff_ffff_ffffn;
    if (id !== 0n && !existing.has(id)) return id;
  }
}

const intMap = (m: ReadonlyMap<number, bigint | Uint8Array>): AvroRecord[] =>
  [...m.entries()].sort((a, b) => a[0] - b[0]).map(([key, value]) => ({ key, value }));

/** What {@link buildAppend} needs. */
export interface AppendInput {
  readonly formatVersion: FormatVersion;
  readonly schema: Schema;
  readonly spec: PartitionSpec;
  readonly shape: TableShape;
  readonly files: readonly NewDataFile[];
  readonly snapshotId: bigint;
  readonly parentSnapshotId: bigint | undefined;
  readonly sequenceNumber: bigint;
  /** v3: the table's `next-row-id` before this commit. */
  readonly firstRowId: bigint | undefined;
  /** The parent snapshot's manifest list records (any writer's), to carry over. */
  readonly parentManifests: readonly AvroRecord[];
  readonly manifestPath: string;
}

/** The new manifest and manifest list bytes. */
export interface AppendFiles {
  /** The manifest of the added files; absent when none were added. */
  readonly manifest: Uint8Array | undefined;
  readonly manifestList: Uint8Array;
  readonly addedRecords: bigint;
  readonly addedBytes: bigint;
  /** v3: rows given ids by this commit. */
  readonly assignedRows: bigint;
}

/** Encodes the manifest of the added files and the manifest list of the new snapshot. */
export function buildAppend(input: AppendInput): AppendFiles {
  const { formatVersion: v, shape } = input;
  const partitionFields = shape.partitionFields.map(({ field, type }) => ({
    name: avroName(field.name),
    type: ['null', avroTypeOf(type)],
    default: null,
    'field-id': field.fieldId,
  }));
  const entrySchema = manifestEntrySchema(v, partitionFields);
  const summaries = shape.partitionFields.map(() => new PartitionSummary());
  let addedRecords = 0n;
  let addedBytes = 0n;
  const entries: AvroRecord[] = input.files.map((f) => {
    addedRecords += f.metrics.recordCount;
    addedBytes += BigInt(f.size);
    const partition: AvroRecord = {};
    shape.partitionFields.forEach(({ field, type }, i) => {
      const value = f.partition[i] ?? null;
      summaries[i]?.add(value);
      partition[avroName(field.name)] = avroValueOf(type, value);
    });
    const m = f.metrics;
    const dataFile: AvroRecord = {
      content: 0,
      file_path: f.path,
      file_format: 'PARQUET',
      partition,
      record_count: m.recordCount,
      file_size_in_bytes: BigInt(f.size),
      // v1 only; Iceberg's Java writers record their default row group size here.
      block_size_in_bytes: 67_108_864n,
      column_sizes: intMap(m.columnSizes),
      value_counts: intMap(m.valueCounts),
      null_value_counts: intMap(m.nullValueCounts),
      nan_value_counts: intMap(m.nanValueCounts),
      lower_bounds: intMap(m.lowerBounds),
      upper_bounds: intMap(m.upperBounds),
      key_metadata: null,
      split_offsets: m.splitOffsets.length ? [...m.splitOffsets] : null,
      equality_ids: null,
      sort_order_id: null,
      first_row_id: null,
      referenced_data_file: null,
      content_offset: null,
      content_size_in_bytes: null,
    };
    return {
      status: 1,
      snapshot_id: input.snapshotId,
      sequence_number: null,
      file_sequence_number: null,
      data_file: dataFile,
    };
  });
  const specFields = specToJson(input.spec).fields as JsonValue;
  const manifestMeta = new Map<string, Uint8Array>([
    ['schema', enc.encode(stringifyJson(schemaToJson(input.schema)))],
    ['schema-id', enc.encode(String(input.schema.schemaId))],
    ['partition-spec', enc.encode(stringifyJson(specFields))],
    ['partition-spec-id', enc.encode(String(input.spec.specId))],
    ['format-version', enc.encode(String(v))],
    ...(v >= 2 ? ([['content', enc.encode('data')]] as [string, Uint8Array][]) : []),
    ['avro.schema', enc.encode(JSON.stringify(entrySchema))],
    ['avro.codec', enc.encode('deflate')],
  ]);
  const manifest = entries.length ? encodeAvroFile({ meta: manifestMeta }, entries) : undefined;

  const newManifest: AvroRecord = {
    manifest_path: input.manifestPath,
    manifest_length: BigInt(manifest?.length ?? 0),
    partition_spec_id: input.spec.specId,
    content: 0,
    sequence_number: input.sequenceNumber,
    min_sequence_number: input.sequenceNumber,
    added_snapshot_id: input.snapshotId,
    added_files_count: entries.length,
    existing_files_count: 0,
    deleted_files_count: 0,
    added_rows_count: addedRecords,
    existing_rows_count: 0n,
    deleted_rows_count: 0n,
    partitions: summaries.map((s, i) => {
      const type = shape.partitionFields[i]?.type as string;
      return {
        contains_null: s.containsNull,
        contains_nan: s.containsNan,
        lower_bound: s.lower === undefined ? null : serializeValue(type, s.lower),
        upper_bound: s.upper === undefined ? null : serializeValue(type, s.upper),
      };
    }),
    key_metadata: null,
    first_row_id: v >= 3 ? (input.firstRowId ?? 0n) : null,
  };
  let assignedRows = v >= 3 ? addedRecords : 0n;
  const carried = input.parentManifests
    .filter((r) => !onlyOldDeletes(r, input.snapshotId))
    .map((r) => carryManifest(r, v, input));
  if (v >= 3) {
    // Data manifests written before row lineage get ids after the new manifest's rows.
    let next = (input.firstRowId ?? 0n) + addedRecords;
    for (const r of carried) {
      if (r.content === 0 && (r.first_row_id === null || r.first_row_id === undefined)) {
        r.first_row_id = next;
        const rows =
          ((r.added_rows_count as bigint | null) ?? 0n) + ((r.existing_rows_count as bigint | null) ?? 0n);
        next += rows;
        assignedRows += rows;
      }
    }
  }
  const listMeta = new Map<string, Uint8Array>([
    ['snapshot-id', enc.encode(input.snapshotId.toString())],
    [
      'parent-snapshot-id',
      enc.encode(input.parentSnapshotId === undefined ? 'null' : input.parentSnapshotId.toString()),
    ],
    ...(v >= 2
      ? ([['sequence-number', enc.encode(input.sequenceNumber.toString())]] as [string, Uint8Array][])
      : []),
    ...(v >= 3
      ? ([['first-row-id', enc.encode((input.firstRowId ?? 0n).toString())]] as [string, Uint8Array][])
      : []),
    ['format-version', enc.encode(String(v))],
    ['avro.schema', enc.encode(JSON.stringify(manifestFileSchema(v)))],
    ['avro.codec', enc.encode('deflate')],
  ]);
  const manifestList = encodeAvroFile({ meta: listMeta }, manifest ? [newManifest, ...carried] : carried);
  return { manifest, manifestList, addedRecords, addedBytes, assignedRows };
}

/** A parent's manifest list record in this writer's schema (fields by name, v1 gaps filled as Iceberg does). */
function carryManifest(r: AvroRecord, v: FormatVersion, input: AppendInput): AvroRecord {
  const get = (k: string): AvroValue => (r[k] === undefined ? null : (r[k] as AvroValue));
  const out: AvroRecord = { ...r };
  if (v >= 2) {
    out.content = get('content') ?? 0;
    out.sequence_number = get('sequence_number') ?? 0n;
    out.min_sequence_number = get('min_sequence_number') ?? 0n;
    out.added_snapshot_id = get('added_snapshot_id') ?? input.parentSnapshotId ?? input.snapshotId;
    for (const k of ['added_files_count', 'existing_files_count', 'deleted_files_count'])
      out[k] = get(k) ?? 0;
    for (const k of ['added_rows_count', 'existing_rows_count', 'deleted_rows_count']) out[k] = get(k) ?? 0n;
  }
  return out;
}

/** The snapshot summary of an append (and removals), with totals carried from the parent's. */
export function appendSummary(
  files: readonly NewDataFile[],
  added: { records: bigint; bytes: bigint },
  parent: Readonly<Record<string, string>> | undefined,
  isFirst: boolean,
  removed: { files: number; records: bigint; bytes: bigint } = { files: 0, records: 0n, bytes: 0n },
): Record<string, string> {
  const key = (x: unknown) =>
    typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x;
  const partitions = new Set(files.map((f) => JSON.stringify(f.partition, (_k, x) => key(x))));
  const operation = removed.files === 0 ? 'append' : files.length === 0 ? 'delete' : 'overwrite';
  const summary: Record<string, string> = { operation };
  if (files.length) {
    summary['added-data-files'] = String(files.length);
    summary['added-records'] = added.records.toString();
    summary['added-files-size'] = added.bytes.toString();
  }
  if (removed.files) {
    summary['deleted-data-files'] = String(removed.files);
    summary['deleted-records'] = removed.records.toString();
    summary['removed-files-size'] = removed.bytes.toString();
  }
  if (files.length) summary['changed-partition-count'] = String(partitions.size);
  const total = (k: string, delta: bigint) => {
    const prev = isFirst ? '0' : parent?.[k];
    if (prev !== undefined && /^\d+$/.test(prev)) summary[k] = (BigInt(prev) + delta).toString();
  };
  total('total-records', added.records - removed.records);
  total('total-files-size', added.bytes - removed.bytes);
  total('total-data-files', BigInt(files.length - removed.files));
  total('total-delete-files', 0n);
  total('total-position-deletes', 0n);
  total('total-equality-deletes', 0n);
  return summary;
}

/** Adds the new snapshot to table metadata JSON (a copy; unknown fields kept). */
export function withSnapshot(
  json: JsonObject,
  input: {
    formatVersion: FormatVersion;
    snapshotId: bigint;
    parentSnapshotId: bigint | undefined;
    sequenceNumber: bigint;
    timestampMs: bigint;
    manifestList: string;
    summary: Record<string, string>;
    schemaId: number;
    previousMetadata: string | undefined;
    firstRowId: bigint | undefined;
    assignedRows: bigint;
    properties?: Record<string, string>;
  },
): JsonObject {
  const out: JsonObject = { ...json };
  const snapshot: JsonObject = {
    'snapshot-id': input.snapshotId,
    ...(input.parentSnapshotId !== undefined ? { 'parent-snapshot-id': input.parentSnapshotId } : {}),
    ...(input.formatVersion >= 2 ? { 'sequence-number': input.sequenceNumber } : {}),
    'timestamp-ms': input.timestampMs,
    summary: input.summary,
    'manifest-list': input.manifestList,
    'schema-id': BigInt(input.schemaId),
    ...(input.formatVersion >= 3
      ? { 'first-row-id': input.firstRowId ?? 0n, 'added-rows': input.assignedRows }
      : {}),
  };
  const list = (k: string): JsonValue[] => (Array.isArray(json[k]) ? [...(json[k] as JsonValue[])] : []);
  const prevUpdated = json['last-updated-ms'];
  out.snapshots = [...list('snapshots'), snapshot];
  out['current-snapshot-id'] = input.snapshotId;
  const refs = isJsonObject(json.refs) ? { ...json.refs } : {};
  refs.main = { 'snapshot-id': input.snapshotId, type: 'branch' };
  out.refs = refs;
  out['snapshot-log'] = [
    ...list('snapshot-log'),
    { 'timestamp-ms': input.timestampMs, 'snapshot-id': input.snapshotId },
  ];
  if (input.previousMetadata) {
    out['metadata-log'] = [
      ...list('metadata-log'),
      {
        'timestamp-ms': typeof prevUpdated === 'bigint' ? prevUpdated : input.timestampMs,
        'metadata-file': input.previousMetadata,
      },
    ];
  }
  out['last-updated-ms'] = input.timestampMs;
  if (input.formatVersion >= 2) out['last-sequence-number'] = input.sequenceNumber;
  if (input.formatVersion >= 3) out['next-row-id'] = (input.firstRowId ?? 0n) + input.assignedRows;
  if (input.properties && Object.keys(input.properties).length) {
    out.properties = { ...(isJsonObject(json.properties) ? json.properties : {}), ...input.properties };
  }
  return out;
}

/** Metadata JSON of a new, empty table (the first append is added with {@link withSnapshot}). */
export function newTableMetadata(input: {
  formatVersion: FormatVersion;
  location: string;
  schema: Schema;
  spec: PartitionSpec;
  lastColumnId: number;
  properties: Record<string, string>;
  timestampMs: bigint;
}): JsonObject {
  const v = input.formatVersion;
  const schema = schemaToJson(input.schema);
  const spec = specToJson(input.spec);
  const lastPartitionId = Math.max(999, ...input.spec.fields.map((f) => f.fieldId));
  return {
    'format-version': BigInt(v),
    'table-uuid': randomUUID(),
    location: input.location,
    ...(v >= 2 ? { 'last-sequence-number': 0n } : {}),
    'last-updated-ms': input.timestampMs,
    'last-column-id': BigInt(input.lastColumnId),
    ...(v === 1 ? { schema } : {}),
    'current-schema-id': BigInt(input.schema.schemaId),
    schemas: [schema],
    ...(v === 1 ? { 'partition-spec': spec.fields ?? [] } : {}),
    'default-spec-id': BigInt(input.spec.specId),
    'partition-specs': [spec],
    'last-partition-id': BigInt(lastPartitionId),
    'default-sort-order-id': 0n,
    'sort-orders': [{ 'order-id': 0n, fields: [] }],
    properties: input.properties,
    'current-snapshot-id': -1n,
    refs: {},
    snapshots: [],
    statistics: [],
    'partition-statistics': [],
    'snapshot-log': [],
    'metadata-log': [],
    ...(v >= 3 ? { 'next-row-id': 0n } : {}),
  };
}
