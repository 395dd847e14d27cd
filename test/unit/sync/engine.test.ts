/**
 * The rewrite-mode engine over Apache Impala's real tables (Spark, Hive, Impala, Flink, Trino),
 * "replicated" by copying their trees to a new place. Expectations come from the tables
 * themselves (their files, sizes and metadata), never from constants.
 */
import assert from 'node:assert/strict';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { encodeAvroFile, readAvroFile } from '../../../src/avro/container.ts';
import { HadoopCatalog } from '../../../src/catalog/hadoop/hadoop.ts';
import { SqlCatalog } from '../../../src/catalog/sql/sql.ts';
import { CorruptFileError, PermissionDeniedError, UnsupportedError } from '../../../src/errors.ts';
import { decodeMetadata } from '../../../src/iceberg/metadata-json.ts';
import { readParquetFooter } from '../../../src/parquet/footer.ts';
import { LocalStorage } from '../../../src/storage/local/local.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import { bytesRangeReader, type Storage } from '../../../src/storage/storage.ts';
import { planSync, type SyncTableOptions, syncTable } from '../../../src/sync/engine.ts';
import { verifyTable } from '../../../src/sync/verify.ts';
import { acquireLock, LockedError } from '../../../src/table/lock.ts';
import { PathMapper, type PathMappingRule, UnmappedPathError } from '../../../src/table/path-mapping.ts';
import { impalaFixtures, listFilesRecursive, scratchDir, snapshotTree } from '../../helpers/paths.ts';
import { findTables, replicate } from '../../helpers/replicate.ts';
import { requireFixtures } from '../../helpers/requires.ts';

/** The fields of a manifest entry these tests read (the rest compared whole). */
interface DataFileRecord {
  readonly content: number;
  readonly file_path: string;
  readonly file_size_in_bytes: bigint;
  readonly lower_bounds: { key: number; value: Uint8Array }[] | null;
  readonly [field: string]: unknown;
}
interface EntryRecord {
  readonly status: number;
  readonly snapshot_id: bigint | null;
  readonly sequence_number: bigint | null;
  readonly data_file: DataFileRecord;
}

const router = new StorageRouter();
const resolve = router.resolver;

async function openCatalog(dir: string): Promise<SqlCatalog> {
  return SqlCatalog.open({ name: 'dr', uri: `sqlite:///${dir}/catalog.db`, storageFor: resolve });
}

interface Setup {
  base: string;
  replica: string;
  root: string;
  rules: PathMappingRule[];
  catalog: SqlCatalog;
  opts: SyncTableOptions;
}

async function setup(tableDir: string, name = path.basename(tableDir)): Promise<Setup> {
  const base = scratchDir('engine');
  const replica = path.join(base, 'replica', name);
  const rules = replicate(tableDir, replica);
  const catalog = await openCatalog(base);
  const root = path.join(base, 'dr', name, 'metadata');
  return {
    base,
    replica,
    root,
    rules,
    catalog,
    opts: {
      table: { namespace: ['ice'], name },
      catalog,
      tableLocation: replica,
      mappings: rules,
      metadataRoot: root,
      resolve,
    },
  };
}

const ice = path.join(impalaFixtures, 'hadoop_catalog', 'ice');
const posDeletes = path.join(ice, 'iceberg_v2_partitioned_position_deletes');

describe('sync engine over every Impala fixture table', requireFixtures(), () => {
  const tables = findTables(impalaFixtures);
  let base: string;
  let catalog: SqlCatalog;
  before(async () => {
    base = scratchDir('all');
    catalog = await openCatalog(base);
  });
  after(() => catalog.close());

  it('finds the fixture tables', () => assert.ok(tables.length >= 50, `found ${tables.length}`));

  for (const tableDir of tables) {
    const name = path.basename(tableDir);
    it(`syncs ${path.relative(impalaFixtures, tableDir)}`, async () => {
      const replica = path.join(base, 'replica', name);
      const rules = replicate(tableDir, replica);
      chmodSync(replica, 0o555); // the replica is read-only; nothing may be written into it
      const before = snapshotTree(replica);
      const root = path.join(base, 'dr', name, 'metadata');
      const table = { namespace: ['ice'], name };
      const opts = { table, catalog, tableLocation: replica, mappings: rules, metadataRoot: root, resolve };
      let report: Awaited<ReturnType<typeof syncTable>>;
      try {
        report = await syncTable(opts);
      } catch (err) {
        // Two honest refusals: ORC position deletes cannot be rewritten, and a table with data
        // outside its location needs a rule for that place.
        if (err instanceof UnsupportedError) {
          assert.match(
            err.message,
            /position-delete file .* is ORC; only Parquet position deletes and Puffin deletion vectors can be rewritten/,
          );
          assert.ok(name.endsWith('_orc'), `${name}: unexpected refusal ${err.message}`);
        } else if (err instanceof UnmappedPathError) {
          // Every path of the metadata.json is mapped before any manifest is read, so the
          // refusal names the metadata file and the property that points outside the table.
          assert.match(
            err.message,
            /\/metadata\/v\d+\.metadata\.json: properties\.write\.data\.path '.*' matches no --map rule$/,
          );
          assert.equal(name, 'iceberg_multiple_storage_locations');
        } else throw err;
        assert.equal(await catalog.loadTable(table), undefined, 'a failed first sync registers nothing');
        return;
      } finally {
        chmodSync(replica, 0o755);
      }
      assert.deepEqual(snapshotTree(replica), before, 'the replica was modified');
      assert.ok(report.status === 'committed' || report.status === 'behind', report.status);
      if (report.status === 'behind') {
        // Every file reported missing really is absent or of another size than recorded.
        assert.ok(report.missingFiles > 0);
        for (const m of report.missing) {
          if (m.reason === 'missing') assert.ok(!existsSync(m.target), m.target);
          else if (m.reason === 'size-mismatch')
            assert.notEqual(String(statSync(m.target).size), m.expectedSize);
        }
        const plan = readFileSync(report.copyPlan!, 'utf8').trim().split('\n');
        assert.equal(plan.length, report.missingFiles);
        assert.deepEqual(plan[0], `${report.missing[0]!.source},${report.missing[0]!.target}`);
      }
      if (report.metadataLocation) {
        const v = await verifyTable({ table, catalog, mappings: rules, metadataRoot: root, resolve });
        assert.deepEqual(v.problems, []);
        // Only paths changed: snapshot ids and sequence numbers are exactly the source's.
        const src = decodeMetadata(readFileSync(report.sourceMetadata!), report.sourceMetadata!);
        const out = decodeMetadata(readFileSync(report.metadataLocation), report.metadataLocation);
        assert.deepEqual(
          out.metadata.snapshots.map((s) => [s.snapshotId, s.sequenceNumber, s.parentSnapshotId, s.summary]),
          src.metadata.snapshots.map((s) => [s.snapshotId, s.sequenceNumber, s.parentSnapshotId, s.summary]),
        );
        assert.equal(out.json['table-uuid'], src.json['table-uuid']);
        assert.deepEqual(out.json.schemas ?? out.json.schema, src.json.schemas ?? src.json.schema);
        // A second run finds nothing to do and writes nothing.
        const outputs = snapshotTree(path.dirname(root));
        const again = await syncTable(opts);
        assert.equal(again.status, report.status === 'committed' ? 'up-to-date' : 'behind');
        assert.equal(again.manifestsRewritten, 0);
        assert.equal(again.manifestListsRewritten, 0);
        for (const [f, sig] of outputs)
          if (!f.includes('.iceberg-sync')) assert.equal(snapshotTree(path.dirname(root)).get(f), sig, f);
      }
    });
  }
});

describe('sync engine behaviour', requireFixtures(), () => {
  it('rewrites position deletes, their sizes and bounds, and keeps every other manifest field', async () => {
    const s = await setup(posDeletes);
    const r = await syncTable(s.opts);
    assert.equal(r.status, 'committed');
    assert.ok(r.deleteFilesRewritten > 0);
    const out = decodeMetadata(readFileSync(r.metadataLocation!), r.metadataLocation!);
    const list = readAvroFile(readFileSync(out.metadata.snapshots.at(-1)!.manifestList!), 'list');
    for (const m of list.records as Record<string, unknown>[]) {
      const manifestPath = String(m.manifest_path);
      assert.equal(BigInt(statSync(manifestPath).size), m.manifest_length);
      const outM = readAvroFile(readFileSync(manifestPath), manifestPath);
      const srcPath = path.join(s.replica, 'metadata', path.basename(manifestPath));
      const srcM = readAvroFile(readFileSync(srcPath), srcPath);
      assert.deepEqual([...outM.header.meta.entries()], [...srcM.header.meta.entries()], 'Avro header kept');
      assert.equal(outM.records.length, srcM.records.length);
      for (const [i, e] of (outM.records as unknown as EntryRecord[]).entries()) {
        const se = (srcM.records as unknown as EntryRecord[])[i]!;
        const df = e.data_file;
        assert.ok(existsSync(df.file_path), df.file_path);
        assert.equal(BigInt(statSync(df.file_path).size), df.file_size_in_bytes);
        // Everything but path, size and the file_path bounds is as the source wrote it.
        const strip = (x: DataFileRecord) => ({
          ...x,
          file_path: 0,
          file_size_in_bytes: 0,
          lower_bounds: 0,
          upper_bounds: 0,
        });
        assert.deepEqual(strip(df), strip(se.data_file));
        assert.deepEqual(
          [e.status, e.snapshot_id, e.sequence_number],
          [se.status, se.snapshot_id, se.sequence_number],
        );
        if (df.content === 1) {
          assert.ok(df.file_path.startsWith(s.root), 'delete files are rewritten outside the replica');
          const bound = (df.lower_bounds as { key: number; value: Uint8Array }[]).find(
            (b) => b.key === 2147483546,
          );
          if (bound) assert.ok(new TextDecoder().decode(bound.value).startsWith(s.replica));
        } else {
          assert.ok(df.file_path.startsWith(s.replica), 'data files stay where replication put them');
        }
      }
    }
    await s.catalog.close();
  });

  it('records where the row groups of a rewritten position-delete file start (split_offsets)', async () => {
    const s = await setup(posDeletes);
    // Give one delete file of the replica several row groups, with split_offsets recorded as
    // Iceberg's writers record them; the longer DR paths then move every row group after the first.
    const meta = path.join(s.replica, 'metadata');
    type Entry = { status: number; data_file: Record<string, unknown> };
    const liveDelete = (e: unknown) => (e as Entry).data_file.content === 1 && (e as Entry).status !== 2;
    const avroFiles = readdirSync(meta).filter((n) => n.endsWith('.avro'));
    const manifestName = avroFiles.find(
      (n) =>
        !n.startsWith('snap-') && readAvroFile(readFileSync(path.join(meta, n)), n).records.some(liveDelete),
    )!;
    const manifestFile = path.join(meta, manifestName);
    const manifest = readAvroFile(readFileSync(manifestFile), manifestName);
    const index = manifest.records.findIndex(liveDelete);
    const entry = manifest.records[index] as Entry;
    const deleteFile = new PathMapper(s.rules).map(String(entry.data_file.file_path));
    const source = readFileSync(deleteFile);
    const rows = (await parquetReadObjects({
      file: source.buffer.slice(source.byteOffset, source.byteOffset + source.length) as ArrayBuffer,
      columns: ['file_path', 'pos'],
      compressors,
    })) as { file_path: string; pos: bigint }[];
    assert.ok(rows.length >= 2, 'enough rows for two row groups');
    const bytes = new Uint8Array(
      parquetWriteBuffer({
        rowGroupSize: 1,
        schema: [
          { name: 'table', num_children: 2 },
          {
            name: 'file_path',
            type: 'BYTE_ARRAY',
            converted_type: 'UTF8',
            repetition_type: 'REQUIRED',
            field_id: 2147483546,
          },
          { name: 'pos', type: 'INT64', repetition_type: 'REQUIRED', field_id: 2147483545 },
        ],
        columnData: [
          { name: 'file_path', data: rows.map((r) => r.file_path) },
          { name: 'pos', data: rows.map((r) => r.pos) },
        ],
      }),
    );
    writeFileSync(deleteFile, bytes);
    const sourceOffsets = (await readParquetFooter(bytesRangeReader(bytes), deleteFile)).splitOffsets.map(
      BigInt,
    );
    assert.ok(sourceOffsets.length >= 2);
    entry.data_file.file_size_in_bytes = BigInt(bytes.length);
    entry.data_file.split_offsets = sourceOffsets;
    writeFileSync(manifestFile, encodeAvroFile(manifest.header, manifest.records));
    for (const n of avroFiles.filter((x) => x.startsWith('snap-'))) {
      const list = readAvroFile(readFileSync(path.join(meta, n)), n);
      for (const m of list.records as Record<string, unknown>[]) {
        if (path.basename(String(m.manifest_path)) === manifestName) {
          m.manifest_length = BigInt(statSync(manifestFile).size);
        }
      }
      writeFileSync(path.join(meta, n), encodeAvroFile(list.header, list.records));
    }
    const check = async () => {
      const out = path.join(s.root, manifestName);
      const df = (readAvroFile(readFileSync(out), out).records[index] as Entry).data_file;
      const file = String(df.file_path);
      const actual = (await readParquetFooter(bytesRangeReader(readFileSync(file)), file)).splitOffsets;
      assert.deepEqual(df.split_offsets, actual.map(BigInt), 'split_offsets of the rewritten file');
      assert.notDeepEqual(df.split_offsets, sourceOffsets, 'the rewrite moved the row groups');
    };
    assert.equal((await syncTable(s.opts)).status, 'committed');
    await check();
    // Rewritten again from a delete file an earlier run wrote (state lost): offsets from its footer.
    rmSync(path.join(s.root, '.iceberg-sync', 'state.json'));
    for (const n of readdirSync(s.root)) if (n.endsWith('.avro')) rmSync(path.join(s.root, n));
    const again = await syncTable(s.opts);
    assert.equal(again.deleteFilesRewritten, 0);
    assert.ok(again.manifestsRewritten > 0);
    await check();
    await s.catalog.close();
  });

  it('is incremental: a later version rewrites only its new manifests', async () => {
    const s = await setup(posDeletes);
    // Replicate only up to v2 first.
    const v3 = path.join(s.replica, 'metadata', 'v3.metadata.json');
    const hold = path.join(s.base, 'v3.hold');
    copyFileSync(v3, hold);
    rmSync(v3);
    const first = await syncTable(s.opts);
    assert.equal(first.status, 'committed');
    assert.match(first.sourceMetadata!, /v2\.metadata\.json$/);
    copyFileSync(hold, v3);
    const second = await syncTable(s.opts);
    assert.equal(second.status, 'committed');
    const v2Lists = decodeMetadata(readFileSync(first.sourceMetadata!), 'v2').metadata.snapshots.length;
    const v3Doc = decodeMetadata(readFileSync(v3), 'v3').metadata;
    assert.equal(second.manifestListsRewritten, v3Doc.snapshots.length - v2Lists);
    // The new snapshot's manifests that the first run had not rewritten, no more.
    const newList = readAvroFile(
      readFileSync(path.join(s.replica, 'metadata', path.basename(v3Doc.snapshots.at(-1)!.manifestList!))),
      'l',
    );
    const oldList = readAvroFile(
      readFileSync(path.join(s.replica, 'metadata', path.basename(v3Doc.snapshots[0]!.manifestList!))),
      'l',
    );
    const oldPaths = new Set((oldList.records as Record<string, unknown>[]).map((r) => r.manifest_path));
    const fresh = (newList.records as Record<string, unknown>[]).filter(
      (r) => !oldPaths.has(r.manifest_path),
    ).length;
    assert.equal(second.manifestsRewritten, fresh);
    const third = await syncTable(s.opts);
    assert.equal(third.status, 'up-to-date');
    assert.equal(third.listings, 0, 'an up-to-date run lists nothing');
    await s.catalog.close();
  });

  it('writes the checkpoint only when it changes: not on a run with nothing new', async () => {
    const s = await setup(posDeletes);
    const stateWrites: string[] = [];
    // Every write of the checkpoint, counted on its way to the storage.
    const counting = (p: string): Storage => {
      const inner = resolve(p);
      const write: Storage['write'] = (file, data, options) => {
        if (file.endsWith('/.iceberg-sync/state.json')) stateWrites.push(file);
        return inner.write(file, data, options);
      };
      return new Proxy(inner, {
        get(target, key) {
          if (key === 'write') return write;
          const v = Reflect.get(target, key, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    };
    const opts = { ...s.opts, resolve: counting };
    const statePath = path.join(s.root, '.iceberg-sync', 'state.json');
    const v3 = path.join(s.replica, 'metadata', 'v3.metadata.json');
    const hold = path.join(s.base, 'v3.hold');
    copyFileSync(v3, hold);
    rmSync(v3);
    assert.equal((await syncTable(opts)).status, 'committed');
    assert.ok(stateWrites.length > 0, 'a commit saves the checkpoint');
    const saved = readFileSync(statePath);
    const writesAfterCommit = stateWrites.length;
    for (let i = 0; i < 2; i++) {
      assert.equal((await syncTable(opts)).status, 'up-to-date');
      assert.equal(stateWrites.length, writesAfterCommit, 'an up-to-date run writes no checkpoint');
    }
    assert.deepEqual(readFileSync(statePath), saved);
    // A change is still saved.
    copyFileSync(hold, v3);
    const next = await syncTable(opts);
    assert.equal(next.status, 'committed');
    assert.ok(stateWrites.length > writesAfterCommit, 'a new commit saves the checkpoint');
    const state = JSON.parse(readFileSync(statePath, 'utf8'));
    assert.equal(state.lastCommit.outputMetadata, next.metadataLocation);
    await s.catalog.close();
  });

  it('commits the previous version when a file of the newest is missing or short, then catches up', async () => {
    const s = await setup(posDeletes);
    const v3 = decodeMetadata(
      readFileSync(path.join(s.replica, 'metadata', 'v3.metadata.json')),
      'v3',
    ).metadata;
    // A file only the newest snapshot has: the manifest list of the last snapshot.
    const list = path.join(s.replica, 'metadata', path.basename(v3.snapshots.at(-1)!.manifestList!));
    const records = readAvroFile(readFileSync(list), list).records as unknown as { manifest_path: string }[];
    const firstList = readAvroFile(
      readFileSync(path.join(s.replica, 'metadata', path.basename(v3.snapshots[0]!.manifestList!))),
      'l',
    );
    const old = new Set((firstList.records as Record<string, unknown>[]).map((r) => r.manifest_path));
    const newManifest = path.join(
      s.replica,
      'metadata',
      path.basename(records.find((r) => !old.has(r.manifest_path))!.manifest_path),
    );
    const m = readAvroFile(readFileSync(newManifest), newManifest).records as unknown as EntryRecord[];
    const victim = s.rules[0]!.target + String(m[0]!.data_file.file_path).slice(s.rules[0]!.source.length);
    const saved = readFileSync(victim);
    truncateSync(victim, saved.length - 7); // arrived short
    const r = await syncTable(s.opts);
    assert.equal(r.status, 'behind');
    assert.match(r.sourceMetadata!, /v2\.metadata\.json$/);
    assert.equal(r.missingFiles, 1);
    assert.deepEqual([r.missing[0]!.target, r.missing[0]!.reason], [victim, 'size-mismatch']);
    assert.equal(readFileSync(r.copyPlan!, 'utf8'), `${m[0]!.data_file.file_path},${victim}\n`);
    assert.equal((await s.catalog.loadTable(s.opts.table))?.metadataLocation, r.metadataLocation);
    rmSync(victim);
    const gone = await syncTable(s.opts);
    assert.equal(gone.status, 'behind');
    assert.equal(gone.missing[0]!.reason, 'missing');
    assert.equal(gone.manifestsRewritten, 0, 'nothing is rewritten while still behind');
    writeFileSync(victim, saved); // the file arrives
    const caught = await syncTable(s.opts);
    assert.equal(caught.status, 'committed');
    assert.match(caught.sourceMetadata!, /v3\.metadata\.json$/);
    assert.equal(caught.copyPlan, null);
    assert.equal(existsSync(r.copyPlan!), false, 'a stale copy plan is removed');
    // Removed once: runs with nothing missing make no delete request for it.
    const deletes: string[] = [];
    const counting = (p: string): Storage => {
      const inner = resolve(p);
      const del: Storage['delete'] = (file, options) => {
        deletes.push(file);
        return inner.delete(file, options);
      };
      return new Proxy(inner, {
        get(target, key) {
          if (key === 'delete') return del;
          const v = Reflect.get(target, key, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    };
    for (let i = 0; i < 2; i++) {
      assert.equal((await syncTable({ ...s.opts, resolve: counting })).status, 'up-to-date');
    }
    assert.deepEqual(
      deletes.filter((d) => d.endsWith('copy-plan.csv')),
      [],
    );
    await s.catalog.close();
  });

  it('verify names a source path left in a record of a manifest it wrote', async () => {
    const s = await setup(posDeletes);
    const r = await syncTable(s.opts);
    assert.equal(r.status, 'committed');
    const clean = await verifyTable({ ...s.opts, mappings: s.rules });
    assert.deepEqual(clean.problems, []);
    // Damage one of our data manifests: its first entry names the source path again.
    const outputs = readdirSync(s.root).filter((n) => n.endsWith('.avro') && !n.startsWith('snap-'));
    const rule = s.rules[0]!;
    let damaged: { file: string; source: string } | undefined;
    for (const n of outputs) {
      const file = path.join(s.root, n);
      const f = readAvroFile(readFileSync(file), file);
      const recs = f.records as { data_file: { content: number; file_path: unknown } }[];
      const entry = recs.find(
        (e) => e.data_file.content === 0 && String(e.data_file.file_path).startsWith(rule.target),
      );
      if (!entry) continue;
      const source = rule.source + String(entry.data_file.file_path).slice(rule.target.length);
      entry.data_file.file_path = source;
      writeFileSync(file, encodeAvroFile(f.header, f.records));
      damaged = { file, source };
      break;
    }
    assert.ok(damaged, 'a data manifest among the outputs');
    const v = await verifyTable({ ...s.opts, mappings: s.rules });
    assert.ok(
      v.problems.some(
        (p) => p.path === damaged!.file && p.problem === `still names source path '${damaged!.source}'`,
      ),
      JSON.stringify(v.problems),
    );
    await s.catalog.close();
  });

  it('skips a truncated newest metadata.json (replication in flight)', async () => {
    const s = await setup(posDeletes);
    const v3 = path.join(s.replica, 'metadata', 'v3.metadata.json');
    truncateSync(v3, 100);
    const r = await syncTable(s.opts);
    assert.equal(r.status, 'behind');
    assert.match(r.sourceMetadata!, /v2\.metadata\.json$/);
    assert.match(r.skippedVersions[0]!.reason, /v3\.metadata\.json: metadata is not valid JSON/);
    await s.catalog.close();
  });

  it('refuses an unmapped path, naming file and field, and leaves the catalog unchanged', async () => {
    const s = await setup(posDeletes);
    const r0 = await syncTable({
      ...s.opts,
      sourceMetadata: path.join(s.replica, 'metadata', 'v2.metadata.json'),
    });
    assert.equal(r0.status, 'committed');
    await assert.rejects(syncTable({ ...s.opts, mappings: [s.rules[0]!] }), {
      message: /the mapping rules differ from those of earlier runs/,
    });
    const other = path.join(s.base, 'other');
    await assert.rejects(
      syncTable({ ...s.opts, metadataRoot: other, mappings: [s.rules[0]!] }),
      (err: unknown) => {
        assert.ok(err instanceof UnmappedPathError);
        assert.match(
          err.message,
          /\.parquet: file_path column 'hdfs:\/\/localhost:20500\/test-warehouse\/.*' matches no --map rule$/,
        );
        return true;
      },
    );
    assert.equal((await s.catalog.loadTable(s.opts.table))?.metadataLocation, r0.metadataLocation);
    await s.catalog.close();
  });

  it('rejects .. segments in metadata paths', async () => {
    const s = await setup(posDeletes);
    const v3 = path.join(s.replica, 'metadata', 'v3.metadata.json');
    const text = readFileSync(v3, 'utf8');
    const doc = JSON.parse(text);
    doc.location = `${doc.location}/../../etc`;
    writeFileSync(v3, JSON.stringify(doc));
    await assert.rejects(syncTable(s.opts), { message: /'\.\.' segments/ });
    assert.equal(await s.catalog.loadTable(s.opts.table), undefined);
    await s.catalog.close();
  });

  it('treats a corrupt manifest as not yet replicated and reports it', async () => {
    const s = await setup(posDeletes);
    const v3 = decodeMetadata(
      readFileSync(path.join(s.replica, 'metadata', 'v3.metadata.json')),
      'v3',
    ).metadata;
    const list = path.join(s.replica, 'metadata', path.basename(v3.snapshots.at(-1)!.manifestList!));
    const bytes = readFileSync(list);
    bytes.fill(0x41, bytes.length - 40, bytes.length - 20); // same size, damaged block
    writeFileSync(list, bytes);
    const r = await syncTable(s.opts);
    assert.equal(r.status, 'behind');
    assert.deepEqual([r.missing[0]!.kind, r.missing[0]!.reason], ['manifest-list', 'unreadable']);
    await s.catalog.close();
  });

  it('fails clearly on a damaged position-delete file, catalog unchanged, and recovers once it is re-copied', async () => {
    const s = await setup(posDeletes);
    const r0 = await syncTable({
      ...s.opts,
      sourceMetadata: path.join(s.replica, 'metadata', 'v2.metadata.json'),
    });
    assert.equal(r0.status, 'committed');
    // The delete files the newest version adds, damaged with their size kept (sizes alone cannot tell).
    const deletes = listFilesRecursive(s.replica).filter((f) => /-delete-/.test(path.basename(f)));
    assert.ok(deletes.length > 0, 'the table has position-delete files');
    const originals = new Map(deletes.map((f) => [f, readFileSync(f)]));
    for (const [f, good] of originals) {
      const bytes = Buffer.from(good);
      bytes.fill(0x41, bytes.length - 30, bytes.length - 8); // footer garbled, magic and length kept
      writeFileSync(f, bytes);
    }
    await assert.rejects(syncTable(s.opts), (err: unknown) => {
      assert.ok(err instanceof CorruptFileError, String(err));
      assert.ok(
        deletes.some((f) => err.message.startsWith(`${f}: corrupt footer`)),
        err.message,
      );
      return true;
    });
    assert.equal((await s.catalog.loadTable(s.opts.table))?.metadataLocation, r0.metadataLocation);
    // Replication copies the files again: the next run commits the newest version.
    for (const [f, good] of originals) writeFileSync(f, good);
    const r = await syncTable(s.opts);
    assert.equal(r.status, 'committed');
    assert.equal((await s.catalog.loadTable(s.opts.table))?.metadataLocation, r.metadataLocation);
    await s.catalog.close();
  });

  it('fails clearly on a read-only output location, catalog unchanged', async (t) => {
    if (process.getuid?.() === 0) {
      // root ignores permission bits; use a storage that refuses writes like a read-only mount.
      t.diagnostic('running as root: simulating EROFS through the storage interface');
    }
    const s = await setup(posDeletes);
    const local = new LocalStorage();
    const readOnly: Storage = {
      stat: (p) => local.stat(p),
      read: (p, r) => local.read(p, r),
      readStream: (p) => local.readStream(p),
      list: (d, o) => local.list(d, o),
      delete: (p) => local.delete(p),
      close: () => local.close(),
      write: async (p) => {
        throw new PermissionDeniedError(p, 'EROFS');
      },
    };
    await assert.rejects(syncTable({ ...s.opts, resolve: () => readOnly }), PermissionDeniedError);
    assert.equal(await s.catalog.loadTable(s.opts.table), undefined);
    await s.catalog.close();
  });

  it('refuses a second concurrent run of the same table', async () => {
    const s = await setup(posDeletes);
    const lock = await acquireLock(resolve, s.root);
    await assert.rejects(syncTable(s.opts), (err: unknown) => {
      assert.ok(err instanceof LockedError);
      assert.match(
        err.message,
        /another sync of this table is running \(pid \d+ on .* since .*\); if no run is active, remove .*lock$/,
      );
      return true;
    });
    await lock.release();
    assert.equal((await syncTable(s.opts)).status, 'committed');
    await s.catalog.close();
  });

  it('resumes after a run killed mid-way, reusing what it had rewritten', async () => {
    const s = await setup(path.join(ice, 'iceberg_v2_positional_not_all_data_files_have_delete_files'));
    const local = new LocalStorage();
    let writes = 0;
    const dying: Storage = {
      ...Object.fromEntries(
        ['stat', 'read', 'readStream', 'list', 'delete'].map((k) => [
          k,
          (local as unknown as Record<string, (...a: unknown[]) => unknown>)[k]!.bind(local),
        ]),
      ),
      write: async (p: string, d: Uint8Array, o?: { ifNotExists?: boolean }) => {
        if (++writes > 6) throw new Error('killed');
        return local.write(p, d, o);
      },
    } as Storage;
    await assert.rejects(syncTable({ ...s.opts, resolve: () => dying, concurrency: 1 }), /killed/);
    assert.equal(await s.catalog.loadTable(s.opts.table), undefined);
    // The lock of a killed process would be stale; this one was released by the failing run.
    const r = await syncTable(s.opts);
    assert.equal(r.status, 'committed');
    const full = await syncTable({
      ...s.opts,
      metadataRoot: path.join(s.base, 'fresh'),
      table: { namespace: ['ice'], name: 'fresh' },
    });
    assert.ok(
      r.manifestsRewritten + r.manifestListsRewritten < full.manifestsRewritten + full.manifestListsRewritten,
      'the resumed run redid less',
    );
    await s.catalog.close();
  });

  it('rebuilds lost state from its outputs: no rewrite and no second commit', async () => {
    const s = await setup(posDeletes);
    const first = await syncTable(s.opts);
    assert.equal(first.status, 'committed');
    rmSync(path.join(s.opts.metadataRoot!, '.iceberg-sync', 'state.json'));
    const again = await syncTable(s.opts);
    assert.equal(again.status, 'up-to-date');
    assert.equal(again.metadataLocation, first.metadataLocation);
    assert.equal(again.manifestsRewritten + again.manifestListsRewritten + again.deleteFilesRewritten, 0);
    assert.ok(again.manifestsReused > 0);
    assert.equal((await s.catalog.loadTable(s.opts.table))?.metadataLocation, first.metadataLocation);
    const third = await syncTable(s.opts);
    assert.equal(third.status, 'up-to-date');
    await s.catalog.close();
  });

  it('plans without writing anything', async () => {
    const s = await setup(posDeletes);
    const r = await planSync(s.opts);
    assert.equal(r.status, 'planned');
    assert.ok(r.manifestsRewritten > 0);
    assert.equal(existsSync(s.root), false);
    assert.equal(await s.catalog.loadTable(s.opts.table), undefined);
    await s.catalog.close();
  });

  it('infers the mapping from the table location when no rule is given', async () => {
    const s = await setup(path.join(ice, 'iceberg_v2_no_deletes'));
    const r = await syncTable({ ...s.opts, mappings: [] });
    assert.equal(r.status, 'committed');
    await s.catalog.close();
  });

  it('commits to a Hadoop-layout catalog', async () => {
    const s = await setup(posDeletes);
    const warehouse = path.join(s.base, 'hadoop-wh');
    const hadoop = new HadoopCatalog({ name: 'h', warehouse, storage: new LocalStorage() });
    const id = { namespace: ['ice'], name: 't' };
    const root = path.join(warehouse, 'ice', 't', 'metadata');
    const r = await syncTable({ ...s.opts, catalog: hadoop, table: id, metadataRoot: root });
    assert.equal(r.status, 'committed');
    assert.equal(r.metadataLocation, path.join(root, 'v1.metadata.json'));
    assert.equal(readFileSync(path.join(root, 'version-hint.text'), 'utf8'), '1');
    const v = await verifyTable({
      table: id,
      catalog: hadoop,
      mappings: s.rules,
      metadataRoot: root,
      resolve,
    });
    assert.deepEqual(v.problems, []);
    await s.catalog.close();
  });
});
