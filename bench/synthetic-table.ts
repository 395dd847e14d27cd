/**
 * Synthetic Iceberg v2 metadata for benchmarks (not tests): the Avro schemas Iceberg's Java
 * writers use for manifests (`manifest_entry`) and manifest lists (`manifest_file`), and a
 * writer of whole replicated tables — data files, deflate-compressed manifests and manifest
 * lists, and one `vN.metadata.json` per commit — whose metadata names source paths while the
 * files lie in a local directory, as after replication to a DR site.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import * as nodePath from 'node:path';
import pLimit from 'p-limit';
import { type AvroRecord, encodeAvroFile } from '../src/avro/container.ts';
import { type JsonObject, type JsonValue, stringifyJson } from '../src/util/json.ts';

/** A `{key, value}` map array as Iceberg writes int-keyed maps. */
function kv(name: string, keyId: number, valueId: number, valueType: string, fieldId: number) {
  return {
    name,
    type: [
      'null',
      {
        type: 'array',
        items: {
          type: 'record',
          name: `k${keyId}_v${valueId}`,
          fields: [
            { name: 'key', type: 'int', 'field-id': keyId },
            { name: 'value', type: valueType, 'field-id': valueId },
          ],
        },
        logicalType: 'map',
      },
    ],
    default: null,
    'field-id': fieldId,
  };
}

/** The v2 `manifest_entry` Avro schema for a table partitioned by day (`dt`) and region. */
export const manifestEntrySchema = {
  type: 'record',
  name: 'manifest_entry',
  fields: [
    { name: 'status', type: 'int', 'field-id': 0 },
    { name: 'snapshot_id', type: ['null', 'long'], default: null, 'field-id': 1 },
    { name: 'sequence_number', type: ['null', 'long'], default: null, 'field-id': 3 },
    { name: 'file_sequence_number', type: ['null', 'long'], default: null, 'field-id': 4 },
    {
      name: 'data_file',
      type: {
        type: 'record',
        name: 'r2',
        fields: [
          {
            name: 'content',
            type: 'int',
            doc: 'Contents of the file: 0=data, 1=position deletes',
            'field-id': 134,
          },
          { name: 'file_path', type: 'string', 'field-id': 100 },
          { name: 'file_format', type: 'string', 'field-id': 101 },
          {
            name: 'partition',
            type: {
              type: 'record',
              name: 'r102',
              fields: [
                {
                  name: 'dt',
                  type: ['null', { type: 'int', logicalType: 'date' }],
                  default: null,
                  'field-id': 1000,
                },
                { name: 'region', type: ['null', 'string'], default: null, 'field-id': 1001 },
              ],
            },
            'field-id': 102,
          },
          { name: 'record_count', type: 'long', 'field-id': 103 },
          { name: 'file_size_in_bytes', type: 'long', 'field-id': 104 },
          kv('column_sizes', 117, 118, 'long', 108),
          kv('value_counts', 119, 120, 'long', 109),
          kv('null_value_counts', 121, 122, 'long', 110),
          kv('nan_value_counts', 138, 139, 'long', 137),
          kv('lower_bounds', 126, 127, 'bytes', 125),
          kv('upper_bounds', 129, 130, 'bytes', 128),
          { name: 'key_metadata', type: ['null', 'bytes'], default: null, 'field-id': 131 },
          {
            name: 'split_offsets',
            type: ['null', { type: 'array', items: 'long', 'element-id': 133 }],
            default: null,
            'field-id': 132,
          },
          {
            name: 'equality_ids',
            type: ['null', { type: 'array', items: 'int', 'element-id': 136 }],
            default: null,
            'field-id': 135,
          },
          { name: 'sort_order_id', type: ['null', 'int'], default: null, 'field-id': 140 },
          { name: 'referenced_data_file', type: ['null', 'string'], default: null, 'field-id': 143 },
        ],
      },
      'field-id': 2,
    },
  ],
};

/** The v2 `manifest_file` Avro schema of manifest lists (Iceberg spec, field ids 500–519). */
export const manifestFileSchema = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', doc: 'Location URI with FS scheme', 'field-id': 500 },
    { name: 'manifest_length', type: 'long', doc: 'Total file size in bytes', 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', doc: 'Spec ID used to write', 'field-id': 502 },
    { name: 'content', type: 'int', doc: 'Contents of the manifest: 0=data, 1=deletes', 'field-id': 517 },
    {
      name: 'sequence_number',
      type: 'long',
      doc: 'Sequence number when the manifest was added',
      'field-id': 515,
    },
    {
      name: 'min_sequence_number',
      type: 'long',
      doc: 'Lowest sequence number in the manifest',
      'field-id': 516,
    },
    { name: 'added_snapshot_id', type: 'long', doc: 'Snapshot ID that added the manifest', 'field-id': 503 },
    { name: 'added_files_count', type: 'int', doc: 'Added entry count', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', doc: 'Existing entry count', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', doc: 'Deleted entry count', 'field-id': 506 },
    { name: 'added_rows_count', type: 'long', doc: 'Added rows count', 'field-id': 512 },
    { name: 'existing_rows_count', type: 'long', doc: 'Existing rows count', 'field-id': 513 },
    { name: 'deleted_rows_count', type: 'long', doc: 'Deleted rows count', 'field-id': 514 },
    {
      name: 'partitions',
      type: [
        'null',
        {
          type: 'array',
          items: {
            type: 'record',
            name: 'r508',
            fields: [
              {
                name: 'contains_null',
                type: 'boolean',
                doc: 'True if any file has a null partition value',
                'field-id': 509,
              },
              { name: 'contains_nan', type: ['null', 'boolean'], default: null, 'field-id': 518 },
              { name: 'lower_bound', type: ['null', 'bytes'], default: null, 'field-id': 510 },
              { name: 'upper_bound', type: ['null', 'bytes'], default: null, 'field-id': 511 },
            ],
          },
          'element-id': 508,
        },
      ],
      doc: 'Summary for each partition',
      default: null,
      'field-id': 507,
    },
    { name: 'key_metadata', type: ['null', 'bytes'], default: null, 'field-id': 519 },
  ],
};

type AvroSchemaNode = string | { [key: string]: unknown } | AvroSchemaNode[];

/** The Iceberg type of an Avro schema node (the `iceberg.schema` header of manifests). */
function icebergTypeOf(node: AvroSchemaNode): JsonValue {
  if (typeof node === 'string')
    return (
      (
        { int: 'int', long: 'long', string: 'string', bytes: 'binary', boolean: 'boolean' } as Record<
          string,
          string
        >
      )[node] ?? node
    );
  if (Array.isArray(node)) return icebergTypeOf(node.find((t) => t !== 'null') ?? 'null');
  if (node.logicalType === 'date') return 'date';
  if (node.type === 'record') {
    const fields = (node.fields as { name: string; type: AvroSchemaNode; 'field-id': number }[]).map((f) => ({
      id: BigInt(f['field-id']),
      name: f.name,
      required: !(Array.isArray(f.type) && f.type.includes('null')),
      type: icebergTypeOf(f.type),
    }));
    return { type: 'struct', fields };
  }
  if (node.type === 'array' && node.logicalType === 'map') {
    const kvFields = (node.items as { fields: { type: AvroSchemaNode; 'field-id': number }[] }).fields;
    const [k, v] = [kvFields[0]!, kvFields[1]!];
    return {
      type: 'map',
      'key-id': BigInt(k['field-id']),
      key: icebergTypeOf(k.type),
      'value-id': BigInt(v['field-id']),
      value: icebergTypeOf(v.type),
      'value-required': true,
    };
  }
  if (node.type === 'array') {
    return {
      type: 'list',
      'element-id': BigInt(node['element-id'] as number),
      element: icebergTypeOf(node.items as AvroSchemaNode),
      'element-required': true,
    };
  }
  return icebergTypeOf(node.type as AvroSchemaNode);
}

/** The Iceberg JSON schema of an Avro record schema, with `schema-id` 0. */
export function icebergSchemaOf(avroRecord: { [key: string]: unknown }): string {
  return stringifyJson({ ...(icebergTypeOf(avroRecord) as JsonObject), 'schema-id': 0n });
}

const enc = new TextEncoder();

/** A stable UUID-shaped string from a seed (so runs build identical tables). */
export function seededUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The table's schema: six columns. */
const TABLE_SCHEMA: JsonObject = {
  type: 'struct',
  'schema-id': 0n,
  'identifier-field-ids': [],
  fields: [
    { id: 1n, name: 'event_id', required: true, type: 'long' },
    { id: 2n, name: 'ts', required: true, type: 'timestamptz' },
    { id: 3n, name: 'region', required: false, type: 'string' },
    { id: 4n, name: 'user_id', required: false, type: 'long' },
    { id: 5n, name: 'event_type', required: false, type: 'string' },
    { id: 6n, name: 'payload', required: false, type: 'string' },
  ],
};
const COLUMN_IDS = [1, 2, 3, 4, 5, 6];

/** Partitioned by `day(ts)` as `dt` and `identity(region)`. */
const PARTITION_FIELDS: JsonObject[] = [
  { name: 'dt', transform: 'day', 'source-id': 2n, 'field-id': 1000n },
  { name: 'region', transform: 'identity', 'source-id': 3n, 'field-id': 1001n },
];
const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'ap-south-1'];
/** 2024-01-01 in days since the epoch. */
const FIRST_DAY = 19_723;
const BASE_TIME_MS = 1_717_000_000_000;

interface Partition {
  readonly dt: number;
  readonly region: string;
  readonly dir: string;
}

function dayString(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

function int32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n, true);
  return b;
}

function int64le(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, n, true);
  return b;
}

/** One commit of {@link SyntheticTableWriter}. */
interface CommitInfo {
  readonly snapshotId: bigint;
  readonly sequenceNumber: bigint;
  readonly timestampMs: bigint;
  readonly manifestList: string;
  readonly summary: JsonObject;
  readonly metadataFile: string;
}

/** A manifest as a manifest list names it. */
interface ManifestInfo {
  readonly record: AvroRecord;
}

/** Options of {@link SyntheticTableWriter}. */
export interface SyntheticTableOptions {
  /** Where the files are (the replica), e.g. `/scratch/replica/db/events`. */
  readonly localLocation: string;
  /** The table location the metadata names, e.g. `hdfs://prod-nn:8020/warehouse/db/events`. */
  readonly sourceLocation: string;
  /** Number of partition directories (default 100). */
  readonly partitions?: number;
  /** Files written at once (default 64). */
  readonly concurrency?: number;
  /**
   * Data files as sparse files of the recorded size (no bytes written, no blocks used): for tables
   * of a million files whose data nobody reads (default false: `PAR1`-framed files).
   */
  readonly sparseDataFiles?: boolean;
}

/**
 * Writes an append-only Iceberg v2 table commit by commit, as a Hadoop-layout table
 * (`metadata/vN.metadata.json`, `version-hint.text`): each commit adds data files, one
 * manifest, a manifest list naming every manifest so far, and a metadata.json.
 */
export class SyntheticTableWriter {
  readonly localLocation: string;
  readonly sourceLocation: string;
  readonly tableUuid: string;
  readonly partitions: Partition[];
  readonly commits: CommitInfo[] = [];
  readonly manifests: ManifestInfo[] = [];
  readonly limit: ReturnType<typeof pLimit>;
  readonly sparse: boolean;
  readonly #dirs = new Set<string>();
  dataFiles = 0;
  totalRecords = 0n;
  totalBytes = 0n;

  constructor(options: SyntheticTableOptions) {
    this.localLocation = options.localLocation.replace(/\/+$/, '');
    this.sourceLocation = options.sourceLocation.replace(/\/+$/, '');
    this.tableUuid = seededUuid(`table:${this.sourceLocation}`);
    this.limit = pLimit(options.concurrency ?? 64);
    this.sparse = options.sparseDataFiles ?? false;
    const n = options.partitions ?? 100;
    this.partitions = Array.from({ length: n }, (_, i) => {
      const dt = FIRST_DAY + Math.floor(i / REGIONS.length);
      const region = REGIONS[i % REGIONS.length]!;
      return { dt, region, dir: `data/dt=${dayString(dt)}/region=${region}` };
    });
  }

  /** A path relative to the table as the source metadata names it, and where it lies locally. */
  paths(relative: string): { source: string; local: string } {
    return { source: `${this.sourceLocation}/${relative}`, local: `${this.localLocation}/${relative}` };
  }

  async #mkdir(dir: string): Promise<void> {
    if (this.#dirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.#dirs.add(dir);
  }

  async #write(local: string, bytes: Uint8Array): Promise<void> {
    await this.#mkdir(nodePath.dirname(local));
    await writeFile(local, bytes);
  }

  async #writeSparse(local: string, size: number): Promise<void> {
    await this.#mkdir(nodePath.dirname(local));
    const fh = await open(local, 'w');
    try {
      await fh.truncate(size);
    } finally {
      await fh.close();
    }
  }

  /** Adds one append commit of `files` data files; returns the local path of its metadata.json. */
  async commit(files: number): Promise<string> {
    const k = this.commits.length + 1;
    const seq = BigInt(k);
    const snapshotId = BigInt(
      `0x${createHash('sha256').update(`${this.tableUuid}:${k}`).digest('hex').slice(0, 15)}`,
    );
    const timestampMs = BigInt(BASE_TIME_MS + k * 60_000);
    const commitUuid = seededUuid(`${this.tableUuid}:commit:${k}`);

    // Data files: real files whose sizes are the recorded file_size_in_bytes (never read).
    const entries: AvroRecord[] = [];
    const touched = new Map<number, Partition>();
    let addedRecords = 0n;
    let addedBytes = 0n;
    const writes: Promise<void>[] = [];
    for (let j = 0; j < files; j++) {
      const g = this.dataFiles + j;
      const pIndex = g % this.partitions.length;
      const part = this.partitions[pIndex]!;
      touched.set(pIndex, part);
      const name = `${String(j % 1000).padStart(5, '0')}-${k}-${commitUuid}-${String(j).padStart(5, '0')}.parquet`;
      const { source, local } = this.paths(`${part.dir}/${name}`);
      const size = 200 + ((g * 37) % 400);
      const records = BigInt(1_000 + ((g * 131) % 50_000));
      addedRecords += records;
      addedBytes += BigInt(size);
      if (this.sparse) {
        writes.push(this.limit(() => this.#writeSparse(local, size)));
      } else {
        const body = new Uint8Array(size);
        body.set(enc.encode('PAR1'), 0);
        body.set(enc.encode('PAR1'), size - 4);
        writes.push(this.limit(() => this.#write(local, body)));
      }
      const tsLow = BigInt(part.dt) * 86_400_000_000n + BigInt(g % 86_400) * 1_000_000n;
      const bound = (c: number, hi: boolean): Uint8Array => {
        switch (c) {
          case 1:
            return int64le(BigInt(g) * 100_000n + (hi ? 99_999n : 0n));
          case 2:
            return int64le(tsLow + (hi ? 3_600_000_000n : 0n));
          case 3:
            return enc.encode(part.region);
          case 4:
            return int64le(hi ? 9_000_000n + BigInt(g) : BigInt(g));
          case 5:
            return enc.encode(hi ? 'view' : 'click');
          default:
            return enc.encode(hi ? '{"z":' : '{"a":');
        }
      };
      entries.push({
        status: 1,
        snapshot_id: snapshotId,
        sequence_number: null,
        file_sequence_number: null,
        data_file: {
          content: 0,
          file_path: source,
          file_format: 'PARQUET',
          partition: { dt: part.dt, region: part.region },
          record_count: records,
          file_size_in_bytes: BigInt(size),
          column_sizes: COLUMN_IDS.map((key) => ({ key, value: BigInt(size * key) })),
          value_counts: COLUMN_IDS.map((key) => ({ key, value: records })),
          null_value_counts: COLUMN_IDS.map((key) => ({ key, value: key <= 2 ? 0n : BigInt(g % (key * 7)) })),
          nan_value_counts: [],
          lower_bounds: COLUMN_IDS.map((key) => ({ key, value: bound(key, false) })),
          upper_bounds: COLUMN_IDS.map((key) => ({ key, value: bound(key, true) })),
          key_metadata: null,
          split_offsets: [4n],
          equality_ids: null,
          sort_order_id: 0,
          referenced_data_file: null,
        },
      });
    }
    this.dataFiles += files;
    this.totalRecords += addedRecords;
    this.totalBytes += addedBytes;
    await Promise.all(writes);

    // The manifest of this commit.
    const spec = stringifyJson(PARTITION_FIELDS);
    const manifestMeta = new Map<string, Uint8Array>([
      ['schema', enc.encode(stringifyJson(TABLE_SCHEMA))],
      ['schema-id', enc.encode('0')],
      ['partition-spec', enc.encode(spec)],
      ['partition-spec-id', enc.encode('0')],
      ['format-version', enc.encode('2')],
      ['content', enc.encode('data')],
      ['iceberg.schema', enc.encode(icebergSchemaOf(manifestEntrySchema))],
      ['avro.schema', enc.encode(JSON.stringify(manifestEntrySchema))],
      ['avro.codec', enc.encode('deflate')],
    ]);
    const manifestBytes = encodeAvroFile({ meta: manifestMeta }, entries);
    const manifest = this.paths(`metadata/${commitUuid}-m0.avro`);
    await this.#write(manifest.local, manifestBytes);
    const parts = [...touched.values()];
    const dts = parts.map((p) => p.dt);
    const regions = parts.map((p) => p.region).sort();
    this.manifests.push({
      record: {
        manifest_path: manifest.source,
        manifest_length: BigInt(manifestBytes.length),
        partition_spec_id: 0,
        content: 0,
        sequence_number: seq,
        min_sequence_number: seq,
        added_snapshot_id: snapshotId,
        added_files_count: files,
        existing_files_count: 0,
        deleted_files_count: 0,
        added_rows_count: addedRecords,
        existing_rows_count: 0n,
        deleted_rows_count: 0n,
        partitions:
          parts.length === 0
            ? []
            : [
                {
                  contains_null: false,
                  contains_nan: null,
                  lower_bound: int32le(Math.min(...dts)),
                  upper_bound: int32le(Math.max(...dts)),
                },
                {
                  contains_null: false,
                  contains_nan: null,
                  lower_bound: enc.encode(regions[0]!),
                  upper_bound: enc.encode(regions.at(-1)!),
                },
              ],
        key_metadata: null,
      },
    });

    // The manifest list: every manifest so far, newest first (as Iceberg's fast append writes).
    const parent = this.commits.at(-1);
    const listMeta = new Map<string, Uint8Array>([
      ['snapshot-id', enc.encode(snapshotId.toString())],
      ['parent-snapshot-id', enc.encode(parent ? parent.snapshotId.toString() : 'null')],
      ['sequence-number', enc.encode(seq.toString())],
      ['format-version', enc.encode('2')],
      ['avro.schema', enc.encode(JSON.stringify(manifestFileSchema))],
      ['avro.codec', enc.encode('deflate')],
    ]);
    const listBytes = encodeAvroFile(
      { meta: listMeta },
      [...this.manifests].reverse().map((m) => m.record),
    );
    const list = this.paths(`metadata/snap-${snapshotId}-1-${commitUuid}.avro`);
    await this.#write(list.local, listBytes);

    // The metadata.json of this commit.
    const metadataFile = this.paths(`metadata/v${k}.metadata.json`);
    const summary: JsonObject = {
      operation: 'append',
      'spark.app.id': 'local-1717000000000',
      'added-data-files': String(files),
      'added-records': addedRecords.toString(),
      'added-files-size': addedBytes.toString(),
      'changed-partition-count': String(touched.size),
      'total-records': this.totalRecords.toString(),
      'total-files-size': this.totalBytes.toString(),
      'total-data-files': String(this.dataFiles),
      'total-delete-files': '0',
      'total-position-deletes': '0',
      'total-equality-deletes': '0',
    };
    const info: CommitInfo = {
      snapshotId,
      sequenceNumber: seq,
      timestampMs,
      manifestList: list.source,
      summary,
      metadataFile: metadataFile.source,
    };
    const previous = [...this.commits];
    this.commits.push(info);
    const json: JsonObject = {
      'format-version': 2n,
      'table-uuid': this.tableUuid,
      location: this.sourceLocation,
      'last-sequence-number': seq,
      'last-updated-ms': timestampMs,
      'last-column-id': 6n,
      'current-schema-id': 0n,
      schemas: [TABLE_SCHEMA],
      'default-spec-id': 0n,
      'partition-specs': [{ 'spec-id': 0n, fields: PARTITION_FIELDS }],
      'last-partition-id': 1001n,
      'default-sort-order-id': 0n,
      'sort-orders': [{ 'order-id': 0n, fields: [] }],
      properties: {
        owner: 'etl',
        'write.format.default': 'parquet',
        'write.parquet.compression-codec': 'zstd',
        'write.metadata.previous-versions-max': '100',
        'write.summary.partition-limit': '0',
      },
      'current-snapshot-id': snapshotId,
      refs: { main: { 'snapshot-id': snapshotId, type: 'branch' } },
      snapshots: this.commits.map((c, i) => ({
        'sequence-number': c.sequenceNumber,
        'snapshot-id': c.snapshotId,
        ...(i > 0 ? { 'parent-snapshot-id': this.commits[i - 1]!.snapshotId } : {}),
        'timestamp-ms': c.timestampMs,
        summary: c.summary,
        'manifest-list': c.manifestList,
        'schema-id': 0n,
      })),
      statistics: [],
      'partition-statistics': [],
      'snapshot-log': this.commits.map((c) => ({
        'timestamp-ms': c.timestampMs,
        'snapshot-id': c.snapshotId,
      })),
      'metadata-log': previous.map((c) => ({
        'timestamp-ms': c.timestampMs,
        'metadata-file': c.metadataFile,
      })),
    };
    await this.#write(metadataFile.local, enc.encode(stringifyJson(json, { indent: 2 })));
    await this.#write(this.paths('metadata/version-hint.text').local, enc.encode(String(k)));
    return metadataFile.local;
  }
}
