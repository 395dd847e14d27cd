/**
 * The golden corpus: one small file of each kind the codecs decode (metadata.json, manifest
 * list, manifest, position-delete Parquet file, deletion-vector Puffin file), built here from
 * fixed values so that the codec tests and the fuzz tests run without the shared fixtures.
 *
 * Each file comes with its expected decoded content, written from the same values the file was
 * built from (never by decoding the file), in "exact JSON": 64-bit integers as integer literals,
 * bytes as `{"$bytes": "<hex>"}`, maps as objects. `crosscheck.py` reads the files with PyIceberg
 * and pyarrow and compares them to the same expected JSON.
 *
 * Everything is deterministic: fixed sync markers, no timestamps taken from the clock. The
 * manifest list is deflate-compressed (as Iceberg's Java writers do), whose bytes could change
 * with the zlib build, so the golden test compares that file's header and inflated records
 * with what this module builds, and every other file byte for byte. `generate.ts` writes the files.
 */
import { crc32 } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { encodeAvroFile } from '../../src/avro/container.ts';
import type { AvroRecord, AvroValue } from '../../src/avro/schema.ts';
import { manifestEntrySchema, manifestFileSchema } from '../../src/iceberg/manifest-schemas.ts';
import { encodeMetadata } from '../../src/iceberg/metadata-json.ts';
import { FILE_PATH_FIELD_ID, POS_FIELD_ID } from '../../src/parquet/position-deletes.ts';
import { concatBytes } from '../../src/util/bytes.ts';
import { JsonDecimal, type JsonObject, type JsonValue, stringifyJson } from '../../src/util/json.ts';

/** One golden file: its name under `test/golden/`, its bytes, and its expected decoded content. */
export interface GoldenFile {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly expected: JsonObject;
}

const enc = new TextEncoder();
const utf8 = (s: string) => enc.encode(s);

/** The table's location at the "source" site, as the paths inside the files name it. */
export const GOLDEN_LOCATION = 'hdfs://prod-nn:8020/warehouse/sales.db/orders';
const META = `${GOLDEN_LOCATION}/metadata`;
const DATA = `${GOLDEN_LOCATION}/data`;

// Ids above 2^53 on purpose: a decoder that rounds them through a JS number fails the tests.
const SNAPSHOT_1 = 3051729675574597004n;
const SNAPSHOT_2 = 9007199254740993123n;
const UUID = 'f2c3a1e4-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
const T0 = 1733011200000n; // 2024-12-01T00:00:00Z

/** Paths of the golden files as the metadata refers to them (at the source site). */
export const GOLDEN_PATHS = {
  manifestList: `${META}/snap-${SNAPSHOT_2}-1-7d1e0c3a.avro`,
  manifest: `${META}/7d1e0c3a-m0.avro`,
  positionDeletes: `${DATA}/dt=2024-12-01/00000-1-deletes.parquet`,
  dv: `${DATA}/dt=2024-12-01/00000-2-dv.puffin`,
  dataFiles: [
    `${DATA}/dt=2024-12-01/00000-0-data.parquet`,
    `${DATA}/dt=2024-12-01/00001-0-data.parquet`,
    `${DATA}/dt=2024-12-02/00000-0-data.parquet`,
  ],
} as const;

/** A fixed 16-byte sync marker (Avro writers pick a random one; the corpus must not). */
function syncMarker(seed: number): Uint8Array {
  return Uint8Array.from({ length: 16 }, (_, i) => (seed * 31 + i * 17) & 0xff);
}

/** Little-endian bytes of an int or a long, as Iceberg's single-value serialization stores bounds. */
function le(value: bigint, size: 4 | 8): Uint8Array {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  if (size === 4) view.setInt32(0, Number(value), true);
  else view.setBigInt64(0, value, true);
  return out;
}

/**
 * Converts a decoded value to exact JSON for comparison: bigints stay integers, other numbers
 * become integers (or decimals), bytes become `{"$bytes": hex}`, maps become objects, undefined
 * members are left out.
 */
export function toExactJson(v: unknown): JsonValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : new JsonDecimal(String(v));
  if (v instanceof JsonDecimal) return v;
  if (v instanceof Uint8Array)
    return { $bytes: Buffer.from(v.buffer, v.byteOffset, v.length).toString('hex') };
  if (Array.isArray(v)) return v.map(toExactJson);
  if (v instanceof Map) {
    const o: JsonObject = {};
    for (const [k, x] of v) o[String(k)] = toExactJson(x);
    return o;
  }
  if (typeof v === 'object') {
    const o: JsonObject = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = toExactJson(x);
    return o;
  }
  throw new TypeError(`cannot express ${typeof v} as JSON`);
}

// ---------------------------------------------------------------------------------------------
// The table schema and partition spec (shared by metadata.json and the manifest headers)

const SCHEMA: JsonObject = {
  type: 'struct',
  'schema-id': 0n,
  fields: [
    { id: 1n, name: 'id', required: true, type: 'long' },
    { id: 2n, name: 'customer', required: false, type: 'string' },
    { id: 3n, name: 'dt', required: false, type: 'date' },
  ],
};
const SPEC_FIELDS: JsonValue = [{ name: 'dt', transform: 'identity', 'source-id': 3n, 'field-id': 1000n }];

const DT_2024_12_01 = 20058; // days since 1970-01-01
const DT_2024_12_02 = 20059;

// ---------------------------------------------------------------------------------------------
// Manifest (v2, two data files and a position-delete file; no compression)

function manifest(deleteFileSize: bigint): { bytes: Uint8Array; expected: JsonObject } {
  const partitionFields = [{ name: 'dt', type: ['null', 'int'], default: null, 'field-id': 1000 }];
  const schema = manifestEntrySchema(2, partitionFields);
  const header = new Map<string, Uint8Array>([
    ['schema', utf8(stringifyJson(SCHEMA))],
    ['schema-id', utf8('0')],
    ['partition-spec', utf8(stringifyJson(SPEC_FIELDS))],
    ['partition-spec-id', utf8('0')],
    ['format-version', utf8('2')],
    ['content', utf8('data')],
    ['avro.schema', utf8(JSON.stringify(schema))],
    ['avro.codec', utf8('null')],
  ]);
  const dataFile = (over: Partial<AvroRecord>): AvroRecord => ({
    content: 0,
    file_path: '',
    file_format: 'PARQUET',
    partition: { dt: DT_2024_12_01 },
    record_count: 0n,
    file_size_in_bytes: 0n,
    column_sizes: null,
    value_counts: null,
    null_value_counts: null,
    nan_value_counts: null,
    lower_bounds: null,
    upper_bounds: null,
    key_metadata: null,
    split_offsets: null,
    equality_ids: null,
    sort_order_id: null,
    referenced_data_file: null,
    ...over,
  });
  const kv = (entries: [number, AvroValue][]) => entries.map(([key, value]) => ({ key, value }));
  const records: AvroRecord[] = [
    {
      status: 1,
      snapshot_id: SNAPSHOT_1,
      sequence_number: 1n,
      file_sequence_number: 1n,
      data_file: dataFile({
        file_path: GOLDEN_PATHS.dataFiles[0],
        record_count: 3n,
        file_size_in_bytes: 1024n,
        column_sizes: kv([
          [1, 51n],
          [2, 62n],
        ]),
        value_counts: kv([
          [1, 3n],
          [2, 3n],
        ]),
        null_value_counts: kv([
          [1, 0n],
          [2, 1n],
        ]),
        lower_bounds: kv([
          [1, le(1n, 8)],
          [2, utf8('alice')],
        ]),
        upper_bounds: kv([
          [1, le(3n, 8)],
          [2, utf8('carol')],
        ]),
        split_offsets: [4n],
        sort_order_id: 0,
      }),
    },
    {
      status: 0,
      snapshot_id: SNAPSHOT_1,
      sequence_number: 1n,
      file_sequence_number: 1n,
      data_file: dataFile({
        file_path: GOLDEN_PATHS.dataFiles[2],
        partition: { dt: DT_2024_12_02 },
        record_count: 2n,
        file_size_in_bytes: 987n,
        split_offsets: [4n],
      }),
    },
    {
      status: 1,
      snapshot_id: SNAPSHOT_2,
      sequence_number: 2n,
      file_sequence_number: 2n,
      data_file: dataFile({
        content: 1,
        file_path: GOLDEN_PATHS.positionDeletes,
        record_count: 3n,
        file_size_in_bytes: deleteFileSize,
        referenced_data_file: null,
      }),
    },
  ];
  const bytes = encodeAvroFile({ meta: header, sync: syncMarker(1) }, records, { blockRecords: 2 });
  return {
    bytes,
    expected: {
      formatVersion: 2n,
      content: 'data',
      header: headerJson(header),
      blockRecordCounts: [2n, 1n],
      records: toExactJson(records),
    },
  };
}

/** The header entries other than the Avro schema (kept as text). */
function headerJson(header: Map<string, Uint8Array>): JsonObject {
  const o: JsonObject = {};
  for (const [k, v] of header) if (k !== 'avro.schema') o[k] = new TextDecoder().decode(v);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Manifest list (v2, one manifest; deflate, the codec Iceberg's Java writers use)

function manifestList(manifestLength: bigint): { bytes: Uint8Array; expected: JsonObject } {
  const header = new Map<string, Uint8Array>([
    ['snapshot-id', utf8(String(SNAPSHOT_2))],
    ['parent-snapshot-id', utf8(String(SNAPSHOT_1))],
    ['sequence-number', utf8('2')],
    ['format-version', utf8('2')],
    ['avro.schema', utf8(JSON.stringify(manifestFileSchema(2)))],
    ['avro.codec', utf8('deflate')],
  ]);
  const records: AvroRecord[] = [
    {
      manifest_path: GOLDEN_PATHS.manifest,
      manifest_length: manifestLength,
      partition_spec_id: 0,
      content: 0,
      sequence_number: 2n,
      min_sequence_number: 1n,
      added_snapshot_id: SNAPSHOT_2,
      added_files_count: 2,
      existing_files_count: 1,
      deleted_files_count: 0,
      added_rows_count: 6n,
      existing_rows_count: 2n,
      deleted_rows_count: 0n,
      partitions: [
        { contains_null: false, contains_nan: false, lower_bound: le(20058n, 4), upper_bound: le(20059n, 4) },
      ],
      key_metadata: null,
    },
  ];
  const bytes = encodeAvroFile({ meta: header, sync: syncMarker(2) }, records);
  return {
    bytes,
    expected: {
      formatVersion: 2n,
      header: headerJson(header),
      blockRecordCounts: [1n],
      records: toExactJson(records),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Position-delete Parquet file (file_path and pos with Iceberg's reserved field ids)

const DELETES: readonly [string, bigint][] = [
  [GOLDEN_PATHS.dataFiles[0], 0n],
  [GOLDEN_PATHS.dataFiles[0], 2n],
  [GOLDEN_PATHS.dataFiles[1], 1n],
];

function positionDeletes(): { bytes: Uint8Array; expected: JsonObject } {
  const bytes = new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'file_path', data: DELETES.map(([p]) => p) },
        { name: 'pos', data: DELETES.map(([, pos]) => pos) },
      ],
      schema: [
        { name: 'schema', num_children: 2 },
        {
          name: 'file_path',
          type: 'BYTE_ARRAY',
          converted_type: 'UTF8',
          repetition_type: 'REQUIRED',
          field_id: FILE_PATH_FIELD_ID,
        },
        { name: 'pos', type: 'INT64', repetition_type: 'REQUIRED', field_id: POS_FIELD_ID },
      ],
      codec: 'SNAPPY',
      createdBy: 'iceberg-metadata-sync golden corpus',
      kvMetadata: [{ key: 'iceberg.schema', value: '{"type":"struct","fields":[]}' }],
    }),
  );
  return {
    bytes,
    expected: {
      rowCount: BigInt(DELETES.length),
      columns: [
        { name: 'file_path', type: 'BYTE_ARRAY', fieldId: BigInt(FILE_PATH_FIELD_ID) },
        { name: 'pos', type: 'INT64', fieldId: BigInt(POS_FIELD_ID) },
      ],
      rows: DELETES.map(([p, pos]) => ({ file_path: p, pos })),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Deletion-vector Puffin file (one deletion-vector-v1 blob)

const DV_POSITIONS = [0, 5, 7, 1000];

/**
 * A deletion-vector-v1 blob: big-endian length of magic + bitmap, the magic, the bitmap as a
 * portable 64-bit Roaring bitmap (one 32-bit bitmap holding one array container), and the
 * big-endian CRC-32 of magic + bitmap (Iceberg Puffin spec, "deletion-vector-v1").
 */
function dvBlob(positions: readonly number[]): Uint8Array {
  const values = [...positions].sort((a, b) => a - b);
  const bitmap32 = new Uint8Array(4 + 4 + 4 + 4 + 2 * values.length);
  const v32 = new DataView(bitmap32.buffer);
  v32.setUint32(0, 12346, true); // SERIAL_COOKIE_NO_RUNCONTAINER
  v32.setUint32(4, 1, true); // one container
  v32.setUint16(8, 0, true); // its key (high 16 bits)
  v32.setUint16(10, values.length - 1, true); // cardinality - 1
  v32.setUint32(12, 16, true); // offset of the container's data
  values.forEach((x, i) => {
    v32.setUint16(16 + 2 * i, x, true);
  });
  const bitmap64 = new Uint8Array(8 + 4 + bitmap32.length);
  const v64 = new DataView(bitmap64.buffer);
  v64.setBigUint64(0, 1n, true); // one 32-bit bitmap
  v64.setUint32(8, 0, true); // its key (high 32 bits)
  bitmap64.set(bitmap32, 12);
  const body = concatBytes([Uint8Array.of(0xd1, 0xd3, 0x39, 0x64), bitmap64]);
  const out = new Uint8Array(4 + body.length + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length, false);
  out.set(body, 4);
  view.setUint32(4 + body.length, crc32(body), false);
  return out;
}

function dvPuffin(): { bytes: Uint8Array; expected: JsonObject } {
  const blob = dvBlob(DV_POSITIONS);
  const properties = {
    'referenced-data-file': GOLDEN_PATHS.dataFiles[1],
    cardinality: String(DV_POSITIONS.length),
  };
  const footerJson = {
    blobs: [
      {
        type: 'deletion-vector-v1',
        fields: [2147483645],
        'snapshot-id': -1,
        'sequence-number': -1,
        offset: 4,
        length: blob.length,
        properties,
      },
    ],
    properties: { 'created-by': 'iceberg-metadata-sync golden corpus' },
  };
  const payload = utf8(JSON.stringify(footerJson));
  const magic = utf8('PFA1');
  const trailer = new Uint8Array(12);
  new DataView(trailer.buffer).setInt32(0, payload.length, true);
  trailer.set(magic, 8);
  const bytes = concatBytes([magic, blob, magic, payload, trailer]);
  return {
    bytes,
    expected: {
      footerStart: BigInt(4 + blob.length),
      blobs: [
        {
          type: 'deletion-vector-v1',
          fields: [2147483645n],
          snapshotId: -1n,
          sequenceNumber: -1n,
          offset: 4n,
          length: BigInt(blob.length),
          properties,
        },
      ],
      properties: footerJson.properties,
      deletedPositions: DV_POSITIONS.map(BigInt),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// metadata.json (v2, two snapshots, refs, logs, statistics, a decimal kept as written)

function metadataJson(manifestListLength: bigint): { bytes: Uint8Array; expected: JsonObject } {
  const json: JsonObject = {
    'format-version': 2n,
    'table-uuid': UUID,
    location: GOLDEN_LOCATION,
    'last-sequence-number': 2n,
    'last-updated-ms': T0 + 60_000n,
    'last-column-id': 3n,
    'current-schema-id': 0n,
    schemas: [SCHEMA],
    'default-spec-id': 0n,
    'partition-specs': [{ 'spec-id': 0n, fields: SPEC_FIELDS }],
    'last-partition-id': 1000n,
    'default-sort-order-id': 0n,
    'sort-orders': [{ 'order-id': 0n, fields: [] }],
    properties: {
      'write.format.default': 'parquet',
      'write.delete.mode': 'merge-on-read',
      'write.metadata.path': META,
    },
    'current-snapshot-id': SNAPSHOT_2,
    refs: { main: { 'snapshot-id': SNAPSHOT_2, type: 'branch' } },
    snapshots: [
      {
        'sequence-number': 1n,
        'snapshot-id': SNAPSHOT_1,
        'timestamp-ms': T0,
        summary: { operation: 'append', 'added-data-files': '2', 'added-records': '5' },
        'manifest-list': `${META}/snap-${SNAPSHOT_1}-1-0a1b2c3d.avro`,
        'schema-id': 0n,
      },
      {
        'sequence-number': 2n,
        'snapshot-id': SNAPSHOT_2,
        'parent-snapshot-id': SNAPSHOT_1,
        'timestamp-ms': T0 + 60_000n,
        summary: { operation: 'overwrite', 'added-delete-files': '1', 'added-position-deletes': '3' },
        'manifest-list': GOLDEN_PATHS.manifestList,
        'schema-id': 0n,
      },
    ],
    statistics: [
      {
        'snapshot-id': SNAPSHOT_2,
        'statistics-path': `${META}/${SNAPSHOT_2}-stats.puffin`,
        'file-size-in-bytes': 4242n,
        'file-footer-size-in-bytes': 120n,
        'blob-metadata': [],
      },
    ],
    'snapshot-log': [
      { 'timestamp-ms': T0, 'snapshot-id': SNAPSHOT_1 },
      { 'timestamp-ms': T0 + 60_000n, 'snapshot-id': SNAPSHOT_2 },
    ],
    'metadata-log': [{ 'timestamp-ms': T0, 'metadata-file': `${META}/00001-0a1b2c3d.metadata.json` }],
    // Not an Iceberg field: unknown members and non-integer numbers must survive as written.
    'x-golden-ratio': new JsonDecimal('1.6180339887498948482045868'),
  };
  return {
    bytes: encodeMetadata(json, { pretty: true }),
    expected: {
      json,
      view: {
        formatVersion: 2n,
        tableUuid: UUID,
        location: GOLDEN_LOCATION,
        lastSequenceNumber: 2n,
        lastUpdatedMs: T0 + 60_000n,
        currentSnapshotId: SNAPSHOT_2,
        currentSchemaId: 0n,
        defaultSpecId: 0n,
        schemaCount: 1n,
        specCount: 1n,
        snapshots: [
          {
            snapshotId: SNAPSHOT_1,
            sequenceNumber: 1n,
            timestampMs: T0,
            manifestList: `${META}/snap-${SNAPSHOT_1}-1-0a1b2c3d.avro`,
            summary: { operation: 'append', 'added-data-files': '2', 'added-records': '5' },
            schemaId: 0n,
          },
          {
            snapshotId: SNAPSHOT_2,
            parentSnapshotId: SNAPSHOT_1,
            sequenceNumber: 2n,
            timestampMs: T0 + 60_000n,
            manifestList: GOLDEN_PATHS.manifestList,
            summary: { operation: 'overwrite', 'added-delete-files': '1', 'added-position-deletes': '3' },
            schemaId: 0n,
          },
        ],
        refs: { main: { snapshotId: SNAPSHOT_2, type: 'branch' } },
        metadataLog: [{ timestampMs: T0, metadataFile: `${META}/00001-0a1b2c3d.metadata.json` }],
        statistics: [
          {
            snapshotId: SNAPSHOT_2,
            statisticsPath: `${META}/${SNAPSHOT_2}-stats.puffin`,
            fileSizeInBytes: 4242n,
          },
        ],
        partitionStatistics: [],
        properties: {
          'write.format.default': 'parquet',
          'write.delete.mode': 'merge-on-read',
          'write.metadata.path': META,
        },
      },
      manifestListLength,
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** Builds every golden file, in a fixed order. */
export function buildGoldenCorpus(): GoldenFile[] {
  const deletes = positionDeletes();
  const m = manifest(BigInt(deletes.bytes.length));
  const list = manifestList(BigInt(m.bytes.length));
  const meta = metadataJson(BigInt(list.bytes.length));
  const dv = dvPuffin();
  return [
    { name: 'v2.metadata.json', ...meta },
    { name: 'snap-manifest-list.avro', ...list },
    { name: 'manifest.avro', ...m },
    { name: 'position-deletes.parquet', ...deletes },
    { name: 'deletion-vector.puffin', ...dv },
  ];
}
