/**
 * add-files never registers an Iceberg delete file as data: position deletes (reserved field
 * ids, or their column names without ids), equality deletes (the footer metadata Iceberg's
 * writers put there), the names Java writers and Impala give delete files, Puffin files, and
 * files some snapshot of the table tracks as deletes. Golden inputs: Impala's test tables,
 * whose own manifests say which file is a delete file.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import {
  type DeleteEvidence,
  deleteFileEvidence,
  deleteFileNameEvidence,
  isPuffinFile,
  ROW_FIELD_ID,
} from '../../../src/addfiles/delete-files.ts';
import { type AddFilesOptions, addFiles, planAddFiles } from '../../../src/addfiles/engine.ts';
import type { AvroRecord } from '../../../src/avro/container.ts';
import { encodeAvroFile } from '../../../src/avro/container.ts';
import { SqlCatalog } from '../../../src/catalog/sql/index.ts';
import {
  manifestEntryView,
  manifestFileView,
  readManifest,
  readManifestList,
} from '../../../src/iceberg/manifest-codec.ts';
import { manifestEntrySchema, manifestFileSchema } from '../../../src/iceberg/manifest-schemas.ts';
import { decodeMetadata, encodeMetadata } from '../../../src/iceberg/metadata-json.ts';
import type { StructType } from '../../../src/iceberg/schema.ts';
import { type ParquetFooter, readParquetFooter } from '../../../src/parquet/footer.ts';
import { FILE_PATH_FIELD_ID, POS_FIELD_ID } from '../../../src/parquet/position-deletes.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import { bytesRangeReader } from '../../../src/storage/storage.ts';
import { impalaFixtures, scratchDir } from '../../helpers/paths.ts';

const router = new StorageRouter();
const resolve = router.resolver;

type Bytes = Uint8Array;
type KeyValue = { key: string; value: string };

const footerOf = (bytes: Bytes, name = 'f.parquet'): Promise<ParquetFooter> =>
  readParquetFooter(bytesRangeReader(bytes), name);

/** A position-delete file as Iceberg writes one: file_path and pos with the reserved field ids. */
function positionDeletes(kvMetadata: KeyValue[] = [], ids = true): Bytes {
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'file_path', data: ['/t/data/a.parquet', '/t/data/a.parquet'] },
        { name: 'pos', data: [0n, 3n] },
      ],
      schema: [
        { name: 'table', num_children: 2 },
        {
          name: 'file_path',
          type: 'BYTE_ARRAY',
          converted_type: 'UTF8',
          repetition_type: 'REQUIRED',
          ...(ids ? { field_id: FILE_PATH_FIELD_ID } : {}),
        },
        {
          name: 'pos',
          type: 'INT64',
          repetition_type: 'REQUIRED',
          ...(ids ? { field_id: POS_FIELD_ID } : {}),
        },
      ],
      kvMetadata,
    }),
  );
}

/** Rows of the data table (id long, name string), with field ids 1 and 2 unless told otherwise. */
function dataFile(ids: number[], names: string[], kvMetadata: KeyValue[] = [], withIds = true): Bytes {
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ids.map(BigInt) },
        { name: 'name', data: names },
      ],
      schema: [
        { name: 'schema', num_children: 2 },
        {
          name: 'id',
          type: 'INT64',
          repetition_type: 'OPTIONAL',
          ...(withIds ? { field_id: 1 } : {}),
        },
        {
          name: 'name',
          type: 'BYTE_ARRAY',
          converted_type: 'UTF8',
          repetition_type: 'OPTIONAL',
          ...(withIds ? { field_id: 2 } : {}),
        },
      ],
      kvMetadata,
    }),
  );
}

/** An equality-delete file on `id`, with or without the metadata Iceberg's Java writer adds. */
function equalityDeletes(kvMetadata: KeyValue[]): Bytes {
  return new Uint8Array(
    parquetWriteBuffer({
      columnData: [{ name: 'id', data: [2n] }],
      schema: [
        { name: 'table', num_children: 1 },
        { name: 'id', type: 'INT64', repetition_type: 'REQUIRED', field_id: 1 },
      ],
      kvMetadata,
    }),
  );
}

const JAVA_EQUALITY_META: KeyValue[] = [
  { key: 'delete-type', value: 'equality' },
  { key: 'delete-field-ids', value: '1' },
  {
    key: 'iceberg.schema',
    value: '{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"id","required":true,"type":"long"}]}',
  },
];

/** A small Puffin file: magic, one blob, footer (magic, JSON payload, size, flags, magic). */
function puffinFile(): Bytes {
  const magic = Buffer.from('PFA1');
  const blob = Buffer.from([1, 2, 3, 4]);
  const payload = Buffer.from(
    JSON.stringify({
      blobs: [
        {
          type: 'deletion-vector-v1',
          fields: [2147483645],
          'snapshot-id': 1,
          'sequence-number': 1,
          offset: 4,
          length: 4,
        },
      ],
    }),
  );
  const size = Buffer.alloc(4);
  size.writeInt32LE(payload.length);
  return new Uint8Array(Buffer.concat([magic, blob, magic, payload, size, Buffer.alloc(4), magic]));
}

const table: StructType = {
  type: 'struct',
  fields: [
    { id: 1, name: 'id', required: false, type: 'long' },
    { id: 2, name: 'name', required: false, type: 'string' },
  ],
};

describe('delete files recognised from the footer and the name', () => {
  it('position deletes by their reserved field ids (file_path, pos, row)', async () => {
    const e = deleteFileEvidence(await footerOf(positionDeletes()), '/r/x.parquet', table);
    assert.equal(e?.kind, 'position');
    assert.match(e?.why ?? '', new RegExp(`column file_path has field id ${FILE_PATH_FIELD_ID}`));
    // The `row` column alone (its id is reserved too) is enough.
    const rowOnly = new Uint8Array(
      parquetWriteBuffer({
        columnData: [{ name: 'row', data: [1n] }],
        schema: [
          { name: 'table', num_children: 1 },
          { name: 'row', type: 'INT64', repetition_type: 'OPTIONAL', field_id: ROW_FIELD_ID },
        ],
      }),
    );
    assert.match(
      deleteFileEvidence(await footerOf(rowOnly), '/r/y.parquet', table)?.why ?? '',
      /reserved for the row column/,
    );
  });

  it("equality and position deletes by the footer metadata Iceberg's writers add", async () => {
    const eq = deleteFileEvidence(await footerOf(equalityDeletes(JAVA_EQUALITY_META)), '/r/e.parquet', table);
    assert.deepEqual(eq, { kind: 'equality', why: 'its footer metadata says delete-type=equality' });
    const idsOnly = deleteFileEvidence(
      await footerOf(equalityDeletes([{ key: 'delete-field-ids', value: '1, 2' }])),
      '/r/e.parquet',
      table,
    );
    assert.deepEqual(idsOnly, { kind: 'equality', why: 'its footer metadata has delete-field-ids=1, 2' });
    // delete-type wins over columns that would fit the table.
    const tagged = dataFile([1], ['a'], [{ key: 'delete-type', value: 'position' }]);
    assert.equal(deleteFileEvidence(await footerOf(tagged), '/r/d.parquet', table)?.kind, 'position');
    // An iceberg.schema naming the reserved ids, on columns that carry no ids.
    const schemaOnly = positionDeletes(
      [
        {
          key: 'iceberg.schema',
          value: `{"type":"struct","fields":[{"id":${FILE_PATH_FIELD_ID},"name":"file_path","required":true,"type":"string"}]}`,
        },
      ],
      false,
    );
    const withPositionColumns: StructType = {
      type: 'struct',
      fields: [
        { id: 1, name: 'file_path', required: false, type: 'string' },
        { id: 2, name: 'pos', required: false, type: 'long' },
      ],
    };
    assert.match(
      deleteFileEvidence(await footerOf(schemaOnly), '/r/s.parquet', withPositionColumns)?.why ?? '',
      /iceberg\.schema has field file_path with id 2147483546/,
    );
  });

  it('position deletes without field ids by their columns, unless the table has such columns', async () => {
    const bare = await footerOf(positionDeletes([], false));
    assert.equal(deleteFileEvidence(bare, '/r/p.parquet', table)?.kind, 'position');
    assert.equal(deleteFileEvidence(bare, '/r/p.parquet')?.kind, 'position', 'no table yet');
    const positions: StructType = {
      type: 'struct',
      fields: [
        { id: 1, name: 'file_path', required: false, type: 'string' },
        { id: 2, name: 'pos', required: false, type: 'long' },
      ],
    };
    assert.equal(deleteFileEvidence(bare, '/r/p.parquet', positions), undefined);
  });

  it('the names Java writers and Impala give delete files, and no data file name', async () => {
    const named = (p: string) => deleteFileNameEvidence(p)?.why;
    assert.match(
      named('/r/00000-7-0a1b2c3d-4e5f-6789-abcd-ef0123456789-00001-deletes.parquet') ?? '',
      /Java/,
    );
    assert.match(named('/r/00012-3-q-00002-deletes.puffin') ?? '', /Java/);
    assert.match(named('/r/delete-494fbbd4b792bdd2-aabb8e2000000000_1239775374_data.0.parq') ?? '', /Impala/);
    for (const data of [
      '/r/00000-7-0a1b2c3d-4e5f-6789-abcd-ef0123456789-00001.parquet',
      '/r/a94b351bfa56dbd8-ddb31c6400000000_1397530881_data.0.parq',
      '/r/user-deletes.parquet',
      '/r/deletes.parquet',
      '/r/delete-me.parquet',
    ])
      assert.equal(named(data), undefined, data);
    // The name is evidence for a footer that says nothing else.
    const plain = await footerOf(equalityDeletes([]));
    assert.equal(deleteFileEvidence(plain, '/r/part-0.parquet', table), undefined);
    assert.equal(
      deleteFileEvidence(plain, '/r/delete-494fbbd4b792bdd2-aabb8e2000000000_1_data.0.parq', table)?.kind,
      'unknown',
    );
  });

  it('a data file is no delete file', async () => {
    assert.equal(
      deleteFileEvidence(await footerOf(dataFile([1, 2], ['a', 'b'])), '/r/a.parquet', table),
      undefined,
    );
    const iceberg = dataFile(
      [1],
      ['a'],
      [
        {
          key: 'iceberg.schema',
          value:
            '{"type":"struct","fields":[{"id":1,"name":"id","type":"long"},{"id":2,"name":"name","type":"string"}]}',
        },
      ],
    );
    assert.equal(deleteFileEvidence(await footerOf(iceberg), '/r/b.parquet', table), undefined);
  });

  it('Puffin files by their magic', async () => {
    assert.equal(await isPuffinFile(bytesRangeReader(puffinFile())), true);
    assert.equal(await isPuffinFile(bytesRangeReader(positionDeletes())), false);
    assert.equal(await isPuffinFile(bytesRangeReader(new Uint8Array([0x50, 0x46]))), false);
  });
});

// ---------------------------------------------------------------------------------------------
// Golden inputs: every Parquet file of Impala's test tables, judged against their manifests.

function walk(dir: string, pattern: RegExp, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, pattern, out);
    else if (pattern.test(name)) out.push(p);
  }
  return out;
}

const fixturesPresent = existsSync(impalaFixtures);
const noFixtures = fixturesPresent ? false : `Impala fixtures not found at ${impalaFixtures}`;

/** Content (0 data, 1 position deletes, 2 equality deletes) of every file the fixtures' manifests list, by file name. */
async function fixtureContents(): Promise<Map<string, Set<number>>> {
  const out = new Map<string, Set<number>>();
  for (const f of walk(impalaFixtures, /\.avro$/)) {
    if (path.basename(f).startsWith('snap-')) continue;
    let manifest: Awaited<ReturnType<typeof readManifest>>;
    try {
      manifest = await readManifest(readFileSync(f), f);
    } catch {
      continue; // not a manifest (an Avro data file)
    }
    for (const r of manifest.records) {
      const e = manifestEntryView(r, f);
      const name = path.basename(e.dataFile.filePath);
      out.set(name, (out.get(name) ?? new Set()).add(e.dataFile.content));
    }
  }
  return out;
}

describe('delete files of Impala, Spark, Hive and Flink (golden fixtures)', { skip: noFixtures }, () => {
  it('every Parquet file their manifests list as a delete is recognised, and no data file', async () => {
    const contents = await fixtureContents();
    let deletes = 0;
    let data = 0;
    for (const file of walk(impalaFixtures, /\.(parquet|parq)$/)) {
      const kinds = contents.get(path.basename(file));
      if (!kinds) continue; // not listed by any manifest
      assert.equal(kinds.size, 1, `${file} is listed as one kind of file`);
      const content = [...kinds][0] as number;
      const footer = await footerOf(new Uint8Array(readFileSync(file)), file);
      const evidence: DeleteEvidence | undefined = deleteFileEvidence(footer, file);
      if (content === 0) {
        assert.equal(evidence, undefined, `${file} is a data file`);
        data++;
      } else {
        assert.ok(evidence, `${file} is a delete file (content ${content})`);
        if (evidence.kind !== 'unknown')
          assert.equal(evidence.kind, content === 1 ? 'position' : 'equality', file);
        deletes++;
      }
    }
    assert.ok(deletes >= 39, `${deletes} delete files checked (39 Parquet delete files in the fixtures)`);
    assert.ok(data >= 174, `${data} data files checked (174 in the fixtures)`);
  });

  it('the v3 deletion vector is recognised as Puffin', async () => {
    const dvs = walk(impalaFixtures, /\.puffin$/);
    assert.ok(dvs.length >= 1);
    for (const f of dvs)
      assert.equal(await isPuffinFile(bytesRangeReader(new Uint8Array(readFileSync(f)))), true, f);
  });
});

// ---------------------------------------------------------------------------------------------
// add-files runs.

interface Fixture {
  base: string;
  data: string;
  root: string;
  catalog: SqlCatalog;
  opts: AddFilesOptions;
}

async function fixture(
  name: string,
  dataPath?: string,
  overrides: Partial<AddFilesOptions> = {},
): Promise<Fixture> {
  const base = scratchDir(`addfiles-deletes-${name}`);
  const data = dataPath ?? path.join(base, 'replica', 'events', 'data');
  const root = path.join(base, 'dr', 'db', 'events', 'metadata');
  const catalog = await SqlCatalog.open({
    name: 'dr',
    uri: `sqlite:///${base}/catalog.db`,
    storageFor: resolve,
  });
  return {
    base,
    data,
    root,
    catalog,
    opts: {
      table: { namespace: ['db'], name: 'events' },
      catalog,
      resolve,
      dataPath: data,
      metadataRoot: root,
      create: {},
      ...overrides,
    },
  };
}

function put(file: string, bytes: Bytes): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  return file;
}

/** Paths of the live data files of the table's current snapshot. */
async function liveDataFiles(f: Fixture): Promise<string[]> {
  const loaded = await f.catalog.loadTable(f.opts.table);
  assert.ok(loaded);
  const doc = decodeMetadata(readFileSync(loaded.metadataLocation), loaded.metadataLocation);
  const snap = doc.metadata.snapshots.find((s) => s.snapshotId === doc.metadata.currentSnapshotId);
  if (!snap?.manifestList) return [];
  const out: string[] = [];
  for (const rec of (await readManifestList(readFileSync(snap.manifestList), snap.manifestList)).records) {
    const mf = manifestFileView(rec);
    if (mf.content !== 0) continue;
    for (const r of (await readManifest(readFileSync(mf.manifestPath), mf.manifestPath)).records) {
      const e = manifestEntryView(r);
      if (e.status !== 2 && e.dataFile.content === 0) out.push(e.dataFile.filePath);
    }
  }
  return out.sort();
}

const reasonsOf = (report: { rejected: { path: string; reason: string }[] }) =>
  Object.fromEntries(report.rejected.map((r) => [r.path, r.reason]));

const enc = new TextEncoder();

/**
 * Commits, as another engine would, a snapshot of the (unpartitioned, v2) table whose manifest
 * list adds a delete manifest tracking `deleteFile` as an equality delete, or (with `drop`) a
 * snapshot that carries only the data manifests again (compaction dropped the delete).
 */
async function commitExternal(f: Fixture, deleteFile: string, drop = false): Promise<bigint> {
  const loaded = await f.catalog.loadTable(f.opts.table);
  assert.ok(loaded);
  const doc = decodeMetadata(readFileSync(loaded.metadataLocation), loaded.metadataLocation);
  const json = doc.json;
  const parent = doc.metadata.snapshots.find((s) => s.snapshotId === doc.metadata.currentSnapshotId);
  assert.ok(parent?.manifestList);
  const parentList = await readManifestList(readFileSync(parent.manifestList), parent.manifestList);
  const sequenceNumber = (json['last-sequence-number'] as bigint) + 1n;
  const snapshotId = 7_000_000_000_000_000_000n + sequenceNumber;
  let records: AvroRecord[] = parentList.records.filter((r) => manifestFileView(r).content === 0);
  if (!drop) {
    const entrySchema = manifestEntrySchema(2, []);
    const entry: AvroRecord = {
      status: 1,
      snapshot_id: snapshotId,
      sequence_number: null,
      file_sequence_number: null,
      data_file: {
        content: 2,
        file_path: deleteFile,
        file_format: 'PARQUET',
        partition: {},
        record_count: 1n,
        file_size_in_bytes: BigInt(statSync(deleteFile).size),
        column_sizes: null,
        value_counts: null,
        null_value_counts: null,
        nan_value_counts: null,
        lower_bounds: null,
        upper_bounds: null,
        key_metadata: null,
        split_offsets: null,
        equality_ids: [1],
        sort_order_id: null,
        referenced_data_file: null,
      },
    };
    const manifest = encodeAvroFile(
      {
        meta: new Map([
          ['format-version', enc.encode('2')],
          ['content', enc.encode('deletes')],
          ['partition-spec-id', enc.encode('0')],
          ['partition-spec', enc.encode('[]')],
          ['avro.schema', enc.encode(JSON.stringify(entrySchema))],
        ]),
      },
      [entry],
    );
    const manifestPath = path.join(f.base, 'other-engine', `deletes-${snapshotId}.avro`);
    put(manifestPath, manifest);
    records = [
      ...records,
      {
        manifest_path: manifestPath,
        manifest_length: BigInt(manifest.length),
        partition_spec_id: 0,
        content: 1,
        sequence_number: sequenceNumber,
        min_sequence_number: sequenceNumber,
        added_snapshot_id: snapshotId,
        added_files_count: 1,
        existing_files_count: 0,
        deleted_files_count: 0,
        added_rows_count: 1n,
        existing_rows_count: 0n,
        deleted_rows_count: 0n,
        partitions: [],
        key_metadata: null,
        first_row_id: null,
      },
    ];
  }
  const listPath = path.join(f.base, 'other-engine', `snap-${snapshotId}.avro`);
  put(
    listPath,
    encodeAvroFile(
      {
        meta: new Map([
          ['format-version', enc.encode('2')],
          ['snapshot-id', enc.encode(String(snapshotId))],
          ['avro.schema', enc.encode(JSON.stringify(manifestFileSchema(2)))],
        ]),
      },
      records,
    ),
  );
  const snapshots = [
    ...(json.snapshots as AvroRecord[]),
    {
      'snapshot-id': snapshotId,
      'parent-snapshot-id': parent.snapshotId,
      'sequence-number': sequenceNumber,
      'timestamp-ms': BigInt(Date.now()),
      summary: { operation: drop ? 'replace' : 'overwrite', 'total-delete-files': drop ? '0' : '1' },
      'manifest-list': listPath,
      'schema-id': 0n,
    },
  ];
  const next = {
    ...json,
    snapshots,
    'current-snapshot-id': snapshotId,
    refs: { main: { 'snapshot-id': snapshotId, type: 'branch' } },
    'last-sequence-number': sequenceNumber,
  };
  const location = path.join(f.root, `other-${snapshotId}.metadata.json`);
  await f.catalog.commitTable(
    f.opts.table,
    loaded.metadataLocation,
    location,
    encodeMetadata(next as typeof json),
  );
  return snapshotId;
}

describe('add-files over a merge-on-read table', () => {
  it('adds only the data files; every kind of delete file is rejected, named, with its reason', async () => {
    const f = await fixture('mor', undefined, { include: ['**/*'] });
    const d = f.data;
    // Delete files sort first: none may shape the new table.
    const files = {
      javaPositional: put(
        path.join(d, '00000-1-0a1b2c3d-00001-deletes.parquet'),
        positionDeletes([{ key: 'delete-type', value: 'position' }]),
      ),
      reservedIds: put(path.join(d, '00000-a-deletes.parquet'), positionDeletes()),
      noIds: put(path.join(d, '00001-positions.parquet'), positionDeletes([], false)),
      javaEquality: put(path.join(d, '00002-0-aa-00002.parquet'), equalityDeletes(JAVA_EQUALITY_META)),
      impalaEquality: put(
        path.join(d, 'delete-494fbbd4b792bdd2-aabb8e2000000000_1239775374_data.0.parq'),
        equalityDeletes([]),
      ),
      puffin: put(path.join(d, '00003-9-bb-00001-dv.puffin'), puffinFile()),
    };
    const a = put(path.join(d, 'a.parquet'), dataFile([1, 2, 3], ['a', 'b', 'c']));
    const b = put(path.join(d, 'b.parquet'), dataFile([4], ['d']));

    const plan = await planAddFiles(f.opts);
    assert.equal(plan.filesAdded, 2);
    assert.equal(plan.rejected.length, 6);

    const report = await addFiles(f.opts);
    assert.equal(report.status, 'committed');
    assert.equal(report.filesAdded, 2);
    assert.equal(report.recordsAdded, '4');
    assert.deepEqual(await liveDataFiles(f), [a, b]);
    const reasons = reasonsOf(report);
    assert.deepEqual(Object.keys(reasons).sort(), Object.values(files).sort());
    assert.match(
      reasons[files.javaPositional] ?? '',
      /^an Iceberg position-delete file \(column file_path has field id 2147483546/,
    );
    assert.match(reasons[files.reservedIds] ?? '', /position-delete file .*field id 2147483546/);
    assert.match(
      reasons[files.noIds] ?? '',
      /position-delete file \(top-level columns file_path \(string\) and pos/,
    );
    assert.match(
      reasons[files.javaEquality] ?? '',
      /^an Iceberg equality-delete file \(its footer metadata says delete-type=equality\)/,
    );
    assert.match(
      reasons[files.impalaEquality] ?? '',
      /^an Iceberg delete file \(named as Impala names delete files/,
    );
    assert.match(reasons[files.puffin] ?? '', /^a Puffin file \(deletion vectors or statistics/);
    for (const reason of Object.values(reasons))
      assert.match(
        reason,
        /not a data file: add-files registers data files only, so the rows it deletes stay visible/,
      );

    // The table was shaped by a data file, not by the first (delete) file.
    const loaded = await f.catalog.loadTable(f.opts.table);
    assert.ok(loaded);
    const doc = decodeMetadata(readFileSync(loaded.metadataLocation), loaded.metadataLocation);
    const schema = (doc.json.schemas as { fields: { name: string }[] }[])[0];
    assert.deepEqual(
      schema?.fields.map((x) => x.name),
      ['id', 'name'],
    );

    // Rejected files are not read again while unchanged, and stay rejected.
    const again = await addFiles(f.opts);
    assert.equal(again.status, 'up-to-date');
    assert.equal(again.footersRead, 0);
    assert.deepEqual(reasonsOf(again), reasons);
    await f.catalog.close();
  });

  it('rejects a file that some snapshot of the table tracks as a delete file, even one no longer live', async () => {
    const f = await fixture('tracked');
    const a = put(path.join(f.data, 'a.parquet'), dataFile([1, 2], ['a', 'b']));
    assert.equal((await addFiles(f.opts)).filesAdded, 1);
    // Another engine writes an equality delete whose footer says nothing, then compacts it away.
    const eq = put(path.join(f.data, 'eq-1.parquet'), dataFile([2], ['b'], [], true));
    const added = await commitExternal(f, eq);
    await commitExternal(f, eq, true);

    const report = await addFiles(f.opts);
    assert.equal(report.filesAdded, 0);
    assert.equal(report.footersRead, 0, 'known from the table: no footer is read');
    assert.equal(report.filesAlreadyTracked, 1);
    assert.deepEqual(report.rejected, [
      {
        path: eq,
        reason: `an Iceberg equality-delete file (snapshot ${added} of the table tracks it as a delete file), not a data file: add-files registers data files only, so the rows it deletes stay visible in the DR table; replicate the Iceberg metadata and use sync for a table with deletes`,
      },
    ]);
    // From the checkpoint on the next run; and from the manifests again when the checkpoint
    // predates the delete set.
    const again = await addFiles(f.opts);
    assert.deepEqual(again.rejected, report.rejected);
    const statePath = path.join(f.root, '.iceberg-sync', 'add-files-state.json');
    const state = JSON.parse(readFileSync(statePath, 'utf8'));
    assert.deepEqual(Object.keys(state.deleteFiles), [eq]);
    delete state.deleteFiles;
    writeFileSync(statePath, JSON.stringify(state));
    assert.deepEqual((await addFiles(f.opts)).rejected, report.rejected);
    // A new data file beside it is still added.
    const c = put(path.join(f.data, 'c.parquet'), dataFile([5], ['e']));
    const more = await addFiles(f.opts);
    assert.equal(more.filesAdded, 1);
    assert.deepEqual(await liveDataFiles(f), [a, c]);
    await f.catalog.close();
  });

  it('remembers delete files rejected before the table exists', async () => {
    const f = await fixture('no-table');
    put(path.join(f.data, 'p.parquet'), positionDeletes());
    const first = await addFiles(f.opts);
    assert.equal(first.status, 'up-to-date');
    assert.equal(first.footersRead, 1);
    assert.equal(await f.catalog.loadTable(f.opts.table), undefined, 'no table from a delete file');
    const second = await addFiles(f.opts);
    assert.equal(second.footersRead, 0);
    assert.deepEqual(second.rejected, first.rejected);
    await f.catalog.close();
  });
});

/** Files of one Impala fixture table, by what its manifests say they are. */
async function fixtureTable(
  name: string,
): Promise<{ data: string; dataFiles: string[]; deleteFiles: string[] }> {
  const dir = path.join(impalaFixtures, 'hadoop_catalog', 'ice', name);
  const contents = new Map<string, number>();
  for (const m of walk(path.join(dir, 'metadata'), /-m\d+\.avro$/)) {
    for (const r of (await readManifest(readFileSync(m), m)).records) {
      const e = manifestEntryView(r, m);
      contents.set(path.basename(e.dataFile.filePath), e.dataFile.content);
    }
  }
  const files = walk(path.join(dir, 'data'), /\.(parquet|parq)$/);
  return {
    data: path.join(dir, 'data'),
    dataFiles: files.filter((f) => contents.get(path.basename(f)) === 0),
    deleteFiles: files.filter((f) => (contents.get(path.basename(f)) ?? 0) !== 0),
  };
}

describe('add-files over Impala merge-on-read tables (golden fixtures)', { skip: noFixtures }, () => {
  for (const [name, partitionBy] of [
    ['iceberg_v2_delete_both_eq_and_pos', []],
    ['iceberg_v2_delete_equality_nulls', []],
    ['iceberg_v2_delete_pos_and_multi_eq_ids', []],
    ['iceberg_v2_partitioned_position_deletes', ['action']],
  ] as const) {
    it(`${name}: the data files are added, the delete files rejected`, async () => {
      const t = await fixtureTable(name);
      assert.ok(t.dataFiles.length >= 1 && t.deleteFiles.length >= 1, 'the fixture has both kinds');
      const f = await fixture(name, t.data, { create: { partitionBy: [...partitionBy] } });
      const report = await planAddFiles(f.opts);
      const rejected = reasonsOf(report);
      for (const del of t.deleteFiles)
        assert.match(rejected[del] ?? '', /^an Iceberg (position-|equality-)?delete file \(/, del);
      assert.deepEqual(
        Object.keys(rejected).sort(),
        [...t.deleteFiles].sort(),
        'only delete files are rejected',
      );
      assert.equal(report.filesAdded, t.dataFiles.length, 'every data file is added');
      await f.catalog.close();
    });
  }
});
