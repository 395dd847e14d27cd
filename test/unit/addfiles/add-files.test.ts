/**
 * add-files over Parquet files written by an independent writer (hyparquet-writer): table
 * creation from a footer, Hive partitions, metrics in the manifests, incremental runs that read
 * only new footers, a lost checkpoint, bad files, files still being written, and the guards.
 * Expectations come from the files themselves (their footers, sizes and contents).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { type AddFilesOptions, addFiles, planAddFiles } from '../../../src/addfiles/engine.ts';
import { SqlCatalog } from '../../../src/catalog/sql/sql.ts';
import { ConfigError, NotFoundError } from '../../../src/errors.ts';
import {
  type ManifestEntryView,
  manifestEntryView,
  manifestFileView,
  readManifest,
  readManifestList,
} from '../../../src/iceberg/manifest-codec.ts';
import { decodeMetadata } from '../../../src/iceberg/metadata-json.ts';
import { readParquetFooter } from '../../../src/parquet/footer.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import { bytesRangeReader, type Storage } from '../../../src/storage/storage.ts';
import { acquireLock, LockedError } from '../../../src/table/lock.ts';
import { isJsonObject } from '../../../src/util/json.ts';
import { listFilesRecursive, scratchDir } from '../../helpers/paths.ts';

const router = new StorageRouter();
const resolve = router.resolver;

interface Row {
  id: bigint | null;
  name: string | null;
  score: number | null;
}

/** Writes rows as Parquet (field ids when given), two rows per row group. */
function writeParquet(
  file: string,
  rows: Row[],
  fieldIds?: { id: number; name: number; score: number },
): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const bytes = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: rows.map((r) => r.id), ...(fieldIds ? {} : { type: 'INT64', nullable: true }) },
      {
        name: 'name',
        data: rows.map((r) => r.name),
        ...(fieldIds ? {} : { type: 'STRING', nullable: true }),
      },
      {
        name: 'score',
        data: rows.map((r) => r.score),
        ...(fieldIds ? {} : { type: 'DOUBLE', nullable: true }),
      },
    ],
    ...(fieldIds
      ? {
          schema: [
            { name: 'schema', num_children: 3 },
            { name: 'id', type: 'INT64', repetition_type: 'OPTIONAL', field_id: fieldIds.id },
            {
              name: 'name',
              type: 'BYTE_ARRAY',
              converted_type: 'UTF8',
              repetition_type: 'OPTIONAL',
              field_id: fieldIds.name,
            },
            { name: 'score', type: 'DOUBLE', repetition_type: 'OPTIONAL', field_id: fieldIds.score },
          ],
        }
      : {}),
    rowGroupSize: 2,
    statisticsTruncateLength: Number.POSITIVE_INFINITY,
  });
  writeFileSync(file, new Uint8Array(bytes));
}

const rowsOf = (seed: number, n = 5): Row[] =>
  Array.from({ length: n }, (_, i) => ({
    id: i === 2 ? null : BigInt(seed * 100 + i),
    name: i === 1 ? null : `${seed}-${'n'.repeat(i * 6)}-é🎉${i}`,
    score: i === 3 ? null : seed + i / 4,
  }));

interface Fixture {
  base: string;
  data: string;
  root: string;
  catalog: SqlCatalog;
  opts: AddFilesOptions;
}

/**
 * The fixture's resolver with some calls of the data directory's storage replaced (the others go
 * to the real one).
 */
function dataResolver(f: Fixture, replace: (base: Storage) => Partial<Storage>): AddFilesOptions['resolve'] {
  const base = resolve(f.data);
  const data: Storage = {
    ...base,
    stat: (p, o) => base.stat(p, o),
    list: (d, o) => base.list(d, o),
    read: (p, r) => base.read(p, r),
    readStream: (p) => base.readStream(p),
    write: (p, d, o) => base.write(p, d, o),
    delete: (p) => base.delete(p),
    ...replace(base),
  };
  return (p) => (p.startsWith(f.data) ? data : resolve(p));
}

/** A stat that sees `file` one byte longer than it is: a copy in progress. */
function growing(base: Storage, file: string): Pick<Storage, 'stat'> {
  return {
    stat: async (p) => {
      const info = await base.stat(p);
      return p === file && info ? { ...info, size: info.size + 1 } : info;
    },
  };
}

async function fixture(name: string, overrides: Partial<AddFilesOptions> = {}): Promise<Fixture> {
  const base = scratchDir(`addfiles-${name}`);
  const data = path.join(base, 'replica', 'events');
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
      create: { partitionBy: ['region'] },
      ...overrides,
    },
  };
}

async function currentMetadata(f: Fixture) {
  const loaded = await f.catalog.loadTable(f.opts.table);
  assert.ok(loaded, 'the table is registered');
  return {
    location: loaded.metadataLocation,
    doc: decodeMetadata(readFileSync(loaded.metadataLocation), loaded.metadataLocation),
  };
}

/** Live entries of the current snapshot, by file path. */
async function liveEntries(
  f: Fixture,
): Promise<{ entries: Map<string, ManifestEntryView>; manifests: number }> {
  const { doc } = await currentMetadata(f);
  const snap = doc.metadata.snapshots.find((s) => s.snapshotId === doc.metadata.currentSnapshotId);
  assert.ok(snap?.manifestList);
  const list = await readManifestList(readFileSync(snap.manifestList), snap.manifestList);
  const entries = new Map<string, ManifestEntryView>();
  for (const rec of list.records) {
    const mf = manifestFileView(rec);
    const m = await readManifest(readFileSync(mf.manifestPath), mf.manifestPath);
    for (const r of m.records) {
      const e = manifestEntryView(r);
      assert.ok(!entries.has(e.dataFile.filePath), `${e.dataFile.filePath} is tracked once`);
      entries.set(e.dataFile.filePath, e);
    }
  }
  return { entries, manifests: list.records.length };
}

const le64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(n);
  return b.toString('hex');
};
const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : undefined);

describe('add-files', () => {
  it('creates the table from the first file and adds every visible file with its metrics and partition', async () => {
    const f = await fixture('create');
    writeParquet(path.join(f.data, 'region=eu', 'a.parquet'), rowsOf(1));
    writeParquet(path.join(f.data, 'region=us', 'b.parquet'), rowsOf(2));
    // What readers never see: markers, checksums, temporary trees, empty files.
    writeFileSync(path.join(f.data, '_SUCCESS'), '');
    writeFileSync(path.join(f.data, 'region=eu', '.a.parquet.crc'), 'crc');
    writeParquet(path.join(f.data, '_temporary', '0', 'c.parquet'), rowsOf(3));
    writeFileSync(path.join(f.data, 'region=us', 'empty.parquet'), '');
    const report = await addFiles(f.opts);
    assert.equal(report.status, 'committed');
    assert.equal(report.created, true);
    assert.equal(report.filesAdded, 2);
    assert.equal(report.footersRead, 2);
    assert.equal(report.ignored, 4);
    assert.equal(report.filesSkipped, 0);
    assert.equal(report.recordsAdded, '10');

    const { doc, location } = await currentMetadata(f);
    assert.equal(report.metadataLocation, location);
    assert.ok(location.startsWith(f.root), 'metadata is written under the metadata root');
    assert.equal(doc.metadata.formatVersion, 2);
    assert.equal(String(doc.metadata.currentSnapshotId), report.snapshotId);
    const schema = (doc.json.schemas as unknown[])[0];
    assert.ok(isJsonObject(schema));
    assert.deepEqual(
      (schema.fields as { name: string; type: string; id: bigint }[]).map((x) => [x.id, x.name, x.type]),
      [
        [1n, 'id', 'long'],
        [2n, 'name', 'string'],
        [3n, 'score', 'double'],
        [4n, 'region', 'string'],
      ],
    );
    assert.match(doc.metadata.properties['schema.name-mapping.default'] ?? '', /"names":\["region"\]/);
    const snap = doc.metadata.snapshots[0];
    assert.equal(snap?.summary?.operation, 'append');
    assert.equal(snap?.summary?.['added-data-files'], '2');
    assert.equal(snap?.summary?.['total-records'], '10');

    const { entries } = await liveEntries(f);
    assert.deepEqual([...entries.keys()].sort(), [
      path.join(f.data, 'region=eu', 'a.parquet'),
      path.join(f.data, 'region=us', 'b.parquet'),
    ]);
    const a = entries.get(path.join(f.data, 'region=eu', 'a.parquet'));
    assert.ok(a);
    const file = path.join(f.data, 'region=eu', 'a.parquet');
    const footer = await readParquetFooter(bytesRangeReader(readFileSync(file)), file);
    assert.equal(a.status, 1);
    assert.equal(a.dataFile.partition.region, 'eu');
    assert.equal(a.dataFile.recordCount, 5n);
    assert.equal(a.dataFile.fileSizeInBytes, BigInt(statSync(file).size));
    assert.deepEqual(a.dataFile.splitOffsets, footer.splitOffsets.map(BigInt));
    assert.equal(a.dataFile.valueCounts?.get(1), 5n);
    assert.equal(a.dataFile.nullValueCounts?.get(1), 1n);
    assert.equal(a.dataFile.nullValueCounts?.get(2), 1n);
    assert.equal(a.dataFile.nullValueCounts?.get(3), 1n);
    const colSizes = footer.rowGroups.reduce(
      (s, rg) => s + BigInt(rg.columns[0]?.totalCompressedSize ?? 0),
      0n,
    );
    assert.equal(a.dataFile.columnSizes?.get(1), colSizes);
    assert.equal(hex(a.dataFile.lowerBounds?.get(1)), le64(100n));
    assert.equal(hex(a.dataFile.upperBounds?.get(1)), le64(104n));
    // Strings: the longest value is truncated to 16 code points; the upper bound is incremented.
    const names = rowsOf(1)
      .map((r) => r.name)
      .filter((n): n is string => n !== null)
      .sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const lowest = names[0] as string;
    const highest = names.at(-1) as string;
    assert.ok(Array.from(highest).length > 16);
    const prefix = Array.from(highest).slice(0, 16);
    const upper =
      prefix.slice(0, 15).join('') + String.fromCodePoint((prefix[15]?.codePointAt(0) as number) + 1);
    assert.equal(
      Buffer.from(a.dataFile.lowerBounds?.get(2) ?? []).toString(),
      Array.from(lowest).slice(0, 16).join(''),
    );
    assert.equal(Buffer.from(a.dataFile.upperBounds?.get(2) ?? []).toString(), upper);
    // The partition column is not in the file: no metrics for it.
    assert.equal(a.dataFile.valueCounts?.has(4), false);

    const again = await addFiles(f.opts);
    assert.equal(again.status, 'up-to-date');
    assert.equal(again.footersRead, 0);
    assert.equal(again.filesAlreadyTracked, 2);
    assert.equal(again.metadataLocation, location);
    await f.catalog.close();
  });

  it('appends only new files, reading only their footers, one snapshot per run', async () => {
    const f = await fixture('incremental');
    for (let i = 0; i < 4; i++)
      writeParquet(path.join(f.data, `region=r${i % 2}`, `f${i}.parquet`), rowsOf(i));
    const first = await addFiles(f.opts);
    assert.equal(first.filesAdded, 4);
    for (let i = 4; i < 7; i++)
      writeParquet(path.join(f.data, `region=r${i % 2}`, `f${i}.parquet`), rowsOf(i));
    const second = await addFiles(f.opts);
    assert.equal(second.status, 'committed');
    assert.equal(second.created, false);
    assert.equal(second.filesAdded, 3);
    assert.equal(second.footersRead, 3);
    assert.equal(second.filesAlreadyTracked, 4);
    const { doc } = await currentMetadata(f);
    assert.equal(doc.metadata.snapshots.length, 2);
    const [s1, s2] = doc.metadata.snapshots;
    assert.equal(s2?.parentSnapshotId, s1?.snapshotId);
    assert.equal(s2?.sequenceNumber, 2n);
    assert.equal(s2?.summary?.['total-data-files'], '7');
    assert.equal(s2?.summary?.['total-records'], '35');
    assert.equal(doc.metadata.metadataLog.length, 1, 'the previous metadata is logged');
    const { entries, manifests } = await liveEntries(f);
    assert.equal(entries.size, 7);
    assert.equal(manifests, 2, 'the first manifest is carried, not rewritten');

    // A lost checkpoint: the tracked set is read back from the table's manifests.
    rmSync(path.join(f.root, '.iceberg-sync', 'add-files-state.json'));
    writeParquet(path.join(f.data, 'region=r0', 'f7.parquet'), rowsOf(7));
    const third = await addFiles(f.opts);
    assert.equal(third.filesAdded, 1);
    assert.equal(third.footersRead, 1);
    assert.equal((await liveEntries(f)).entries.size, 8);
    await f.catalog.close();
  });

  it('rejects corrupt, truncated and misfit files with a reason, and never references them', async () => {
    const f = await fixture('bad');
    writeParquet(path.join(f.data, 'region=eu', 'good.parquet'), rowsOf(1));
    await addFiles(f.opts);
    const good = readFileSync(path.join(f.data, 'region=eu', 'good.parquet'));
    const bad = {
      truncated: path.join(f.data, 'region=eu', 'truncated.parquet'),
      garbage: path.join(f.data, 'region=eu', 'garbage.parquet'),
      footer: path.join(f.data, 'region=eu', 'footer.parquet'),
      wrongType: path.join(f.data, 'region=eu', 'wrong-type.parquet'),
      extra: path.join(f.data, 'region=eu', 'extra.parquet'),
      noPartition: path.join(f.data, 'loose.parquet'),
    };
    writeFileSync(bad.truncated, good.subarray(0, good.length - 100));
    writeFileSync(bad.garbage, Buffer.alloc(4096, 7));
    const garbled = Buffer.from(good);
    garbled.fill(0xee, garbled.length - 60, garbled.length - 8);
    writeFileSync(bad.footer, garbled);
    writeFileSync(
      bad.wrongType,
      new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'id', data: ['x', 'y'], type: 'STRING' }] })),
    );
    writeFileSync(
      bad.extra,
      new Uint8Array(
        parquetWriteBuffer({
          columnData: [
            { name: 'id', data: [1n], type: 'INT64' },
            { name: 'surprise', data: [1], type: 'INT32' },
          ],
        }),
      ),
    );
    writeParquet(bad.noPartition, rowsOf(9));
    writeParquet(path.join(f.data, 'region=us', 'fine.parquet'), rowsOf(2));
    const report = await addFiles(f.opts);
    assert.equal(report.status, 'committed');
    assert.equal(report.filesAdded, 1, 'the good new file is added');
    const reasons = Object.fromEntries(report.rejected.map((r) => [r.path, r.reason]));
    assert.deepEqual(Object.keys(reasons).sort(), Object.values(bad).sort());
    assert.match(reasons[bad.truncated] ?? '', /bad magic|truncated|corrupt/);
    assert.match(reasons[bad.garbage] ?? '', /not a Parquet file/);
    assert.match(reasons[bad.footer] ?? '', /corrupt footer|truncated footer|not a Parquet/);
    assert.match(reasons[bad.wrongType] ?? '', /column id is string in the file but long in the table/);
    assert.match(reasons[bad.extra] ?? '', /column surprise is not in the table schema/);
    assert.match(reasons[bad.noPartition] ?? '', /partition region: no 'region=' directory/);
    assert.equal(report.filesSkipped, 6);
    const { entries } = await liveEntries(f);
    for (const p of Object.values(bad)) assert.equal(entries.has(p), false, `${p} is not referenced`);

    // Unchanged rejected files are listed again without being read again.
    const again = await addFiles(f.opts);
    assert.equal(again.status, 'up-to-date');
    assert.equal(again.footersRead, 0);
    assert.equal(again.rejected.length, 6);
    // A file fixed at the source (new bytes) is read again and added.
    writeFileSync(bad.truncated, good);
    const fixed = await addFiles(f.opts);
    assert.equal(fixed.filesAdded, 1);
    assert.equal(fixed.footersRead, 1);
    assert.equal(fixed.rejected.length, 5);
    // A rejected file that is removed is forgotten by the checkpoint.
    rmSync(bad.garbage);
    assert.equal((await addFiles(f.opts)).rejected.length, 4);
    const state = JSON.parse(
      readFileSync(path.join(f.root, '.iceberg-sync', 'add-files-state.json'), 'utf8'),
    );
    assert.equal(bad.garbage in state.rejected, false);
    assert.equal(bad.extra in state.rejected, true);
    await f.catalog.close();
  });

  it('defers files modified within the settle time and files that change while being read', async () => {
    const f = await fixture('inflight');
    const young = path.join(f.data, 'region=eu', 'young.parquet');
    const old = path.join(f.data, 'region=eu', 'old.parquet');
    writeParquet(young, rowsOf(1));
    writeParquet(old, rowsOf(2));
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(old, past, past);
    const settled = await addFiles({ ...f.opts, settleMs: 600_000 });
    assert.equal(settled.filesAdded, 1);
    assert.deepEqual(
      settled.deferred.map((d) => d.path),
      [young],
    );
    assert.match(settled.deferred[0]?.reason ?? '', /settle time/);

    // A copy in progress: the file grows between the listing and the check after its footer.
    const inFlight = path.join(f.data, 'region=us', 'growing.parquet');
    writeParquet(inFlight, rowsOf(3));
    const r = await addFiles({ ...f.opts, resolve: dataResolver(f, (base) => growing(base, inFlight)) });
    assert.equal(r.filesAdded, 1, 'the settled young file is added now');
    assert.deepEqual(
      r.deferred.map((d) => d.path),
      [inFlight],
    );
    assert.match(r.deferred[0]?.reason ?? '', /changed while being read/);
    const { entries } = await liveEntries(f);
    assert.equal(entries.has(inFlight), false);
    await f.catalog.close();
  });

  it('shapes a new table by the first file that does not change while being read', async () => {
    const f = await fixture('shape-settled', { create: {} });
    // Field ids 7, 8 and 9 in the first file, none in the second (a new table numbers them 1, 2, 3).
    const first = path.join(f.data, 'a.parquet');
    const second = path.join(f.data, 'b.parquet');
    writeParquet(first, rowsOf(1), { id: 7, name: 8, score: 9 });
    writeParquet(second, rowsOf(2));
    const r = await addFiles({ ...f.opts, resolve: dataResolver(f, (base) => growing(base, first)) });
    assert.equal(r.created, true);
    assert.equal(r.footersRead, 2);
    assert.deepEqual(
      r.deferred.map((d) => [d.path, d.reason]),
      [[first, 'changed while being read; still being written']],
    );
    assert.equal(r.filesAdded, 1);
    const { doc } = await currentMetadata(f);
    const schema = (doc.json.schemas as unknown[])[0];
    assert.ok(isJsonObject(schema));
    assert.deepEqual(
      (schema.fields as { name: string; id: bigint }[]).map((x) => [x.id, x.name]),
      [
        [1n, 'id'],
        [2n, 'name'],
        [3n, 'score'],
      ],
    );
    const { entries } = await liveEntries(f);
    assert.deepEqual([...entries.keys()], [second]);
    await f.catalog.close();
  });

  it('refuses a --partition-by the first file cannot serve before reading the other footers', async () => {
    const f = await fixture('shape-early', { create: { partitionBy: ['country'] }, concurrency: 4 });
    for (let i = 0; i < 40; i++)
      writeParquet(path.join(f.data, `f${String(i).padStart(2, '0')}.parquet`), rowsOf(i));
    const footers = new Set<string>();
    const counting = dataResolver(f, (base) => ({
      read: (p, r) => {
        footers.add(p);
        return base.read(p, r);
      },
    }));
    await assert.rejects(
      addFiles({ ...f.opts, resolve: counting }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message ===
          `--partition-by country: column country is neither in ${path.join(f.data, 'f00.parquet')} nor a 'country=' directory above it`,
    );
    // The shape is fixed by the first file as soon as it is read: at most the reads then under way
    // (four at once) and those started before their settling came round.
    assert.ok(footers.size <= 8, `${footers.size} of 40 footers read`);
    assert.equal(await f.catalog.loadTable(f.opts.table), undefined);
    await f.catalog.close();
  });

  it('resolves columns by field id when the files carry them, whatever their names', async () => {
    const f = await fixture('ids', { create: {} });
    writeParquet(path.join(f.data, 'a.parquet'), rowsOf(1), { id: 7, name: 8, score: 9 });
    const r = await addFiles(f.opts);
    assert.equal(r.filesAdded, 1);
    const { doc } = await currentMetadata(f);
    assert.equal(doc.metadata.properties['schema.name-mapping.default'], undefined, 'no mapping needed');
    const { entries } = await liveEntries(f);
    const e = [...entries.values()][0];
    assert.deepEqual([...(e?.dataFile.valueCounts?.keys() ?? [])].sort(), [7, 8, 9]);
    // A file whose ids the table does not know is rejected even though its names match.
    writeParquet(path.join(f.data, 'b.parquet'), rowsOf(2), { id: 1, name: 2, score: 3 });
    const r2 = await addFiles(f.opts);
    assert.equal(r2.filesAdded, 0);
    assert.match(r2.rejected[0]?.reason ?? '', /field id 1\) is not in the table schema/);
    await f.catalog.close();
  });

  it('plans without writing anything', async () => {
    const f = await fixture('plan');
    writeParquet(path.join(f.data, 'region=eu', 'a.parquet'), rowsOf(1));
    const plan = await planAddFiles(f.opts);
    assert.equal(plan.status, 'planned');
    assert.equal(plan.filesAdded, 1);
    assert.equal(plan.dryRun, true);
    assert.equal(await f.catalog.loadTable(f.opts.table), undefined);
    assert.deepEqual(listFilesRecursive(f.root), []);
    await f.catalog.close();
  });

  it('refuses a metadata root inside the replica, a missing table without --create, and a second run', async () => {
    const f = await fixture('guards');
    writeParquet(path.join(f.data, 'region=eu', 'a.parquet'), rowsOf(1));
    await assert.rejects(addFiles({ ...f.opts, metadataRoot: path.join(f.data, 'metadata') }), ConfigError);
    const { create: _, ...noCreate } = f.opts;
    await assert.rejects(
      addFiles(noCreate),
      (err: unknown) => err instanceof NotFoundError && /--create/.test(err.message),
    );
    const lock = await acquireLock(resolve, f.root);
    await assert.rejects(addFiles(f.opts), LockedError);
    await lock.release();
    assert.equal((await addFiles(f.opts)).filesAdded, 1);
    assert.equal(existsSync(path.join(f.root, '.iceberg-sync', 'lock')), false, 'the lock is released');
    // A lock this process left behind (its release failed) but no longer holds is taken over.
    writeFileSync(
      path.join(f.root, '.iceberg-sync', 'lock'),
      JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }),
    );
    assert.equal((await addFiles(f.opts)).status, 'up-to-date');
    await f.catalog.close();
  });
});

describe('add-files --remove-missing', () => {
  it('removes tracked files that vanished (a delete snapshot), keeps the rest, and an overwrite when files arrive too', async () => {
    const f = await fixture('remove');
    for (let i = 0; i < 4; i++)
      writeParquet(path.join(f.data, `region=r${i % 2}`, `f${i}.parquet`), rowsOf(i));
    await addFiles(f.opts);
    writeParquet(path.join(f.data, 'region=r0', 'f4.parquet'), rowsOf(4));
    await addFiles(f.opts);
    const gone = path.join(f.data, 'region=r1', 'f1.parquet');
    rmSync(gone);
    // Without the option the vanished file is reported, not removed.
    const kept = await addFiles(f.opts);
    assert.equal(kept.status, 'up-to-date');
    assert.equal(kept.filesMissing, 1);
    assert.deepEqual(kept.missing, [gone]);
    assert.equal(kept.filesRemoved, 0);

    const removed = await addFiles({ ...f.opts, removeMissing: true });
    assert.equal(removed.status, 'committed');
    assert.equal(removed.filesRemoved, 1);
    assert.equal(removed.filesAdded, 0);
    const { doc } = await currentMetadata(f);
    const snap = doc.metadata.snapshots.at(-1);
    assert.equal(snap?.summary?.operation, 'delete');
    assert.equal(snap?.summary?.['deleted-data-files'], '1');
    assert.equal(snap?.summary?.['total-data-files'], '4');
    assert.equal(snap?.summary?.['total-records'], '20');
    const { entries } = await liveEntries(f);
    const deleted = entries.get(gone);
    assert.equal(deleted?.status, 2, 'the vanished file is marked deleted in this snapshot');
    assert.equal(deleted?.snapshotId, snap?.snapshotId);
    const live = [...entries.values()].filter((e) => e.status !== 2);
    assert.equal(live.length, 4);
    // Entries carried as EXISTING keep their original snapshot and sequence numbers, written out.
    const f0 = entries.get(path.join(f.data, 'region=r0', 'f0.parquet'));
    assert.equal(f0?.status, 0);
    assert.equal(f0?.snapshotId, doc.metadata.snapshots[0]?.snapshotId);
    assert.equal(f0?.sequenceNumber, 1n);

    // Next: one file arrives and one more vanishes: an overwrite; the old deletions are dropped.
    rmSync(path.join(f.data, 'region=r0', 'f4.parquet'));
    writeParquet(path.join(f.data, 'region=r1', 'f5.parquet'), rowsOf(5));
    const both = await addFiles({ ...f.opts, removeMissing: true });
    assert.equal(both.filesAdded, 1);
    assert.equal(both.filesRemoved, 1);
    const after = await liveEntries(f);
    // A manifest is immutable: the earlier deletion stays recorded in it, still DELETED.
    assert.equal(after.entries.get(gone)?.status, 2);
    assert.equal(after.entries.get(gone)?.snapshotId, snap?.snapshotId);
    assert.equal([...after.entries.values()].filter((e) => e.status !== 2).length, 4);
    const last = (await currentMetadata(f)).doc.metadata.snapshots.at(-1);
    assert.equal(last?.summary?.operation, 'overwrite');
    assert.equal(last?.summary?.['total-data-files'], '4');
    // One run later, a manifest holding nothing but earlier deletions is dropped, as Iceberg does.
    writeParquet(path.join(f.data, 'region=r1', 'f6.parquet'), rowsOf(6));
    await addFiles({ ...f.opts, removeMissing: true });
    const later = await liveEntries(f);
    assert.equal(later.entries.has(path.join(f.data, 'region=r0', 'f4.parquet')), false);
    assert.equal([...later.entries.values()].filter((e) => e.status !== 2).length, 5);
    await f.catalog.close();
  });
});
