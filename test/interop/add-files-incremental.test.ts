/**
 * add-files at scale, read back by real engines: a table tracking 10,000 files gets 50 more — only
 * those 50 footers are read, one new snapshot — and Spark, PyIceberg and DuckDB agree on the rows;
 * a rerun adds nothing; bad files arriving later (truncated, incompatible, still being written) are
 * reported and never referenced (the table stays at the version the engines read).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { type AddFilesOptions, addFiles } from '../../src/addfiles/engine.ts';
import { SqlCatalog } from '../../src/catalog/sql/sql.ts';
import { StorageRouter } from '../../src/storage/router.ts';
import { scratchDir } from '../helpers/paths.ts';
import { type Engine, readTables } from './harness.ts';
import { interopSkipReason } from './helpers.ts';

const skip = interopSkipReason();
const resolve = new StorageRouter().resolver;
const ROWS = 4;
const past = new Date(Date.now() - 3_600_000);

function writeFile(data: string, i: number): string {
  const file = path.join(data, `day=${i % 10}`, `part-${String(i).padStart(5, '0')}.parquet`);
  mkdirSync(path.dirname(file), { recursive: true });
  const ids = Array.from({ length: ROWS }, (_, r) => BigInt(i * ROWS + r));
  const bytes = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: ids, type: 'INT64' },
      { name: 'label', data: ids.map((x) => `label-${x % 13n}`), type: 'STRING' },
    ],
  });
  writeFileSync(file, new Uint8Array(bytes));
  utimesSync(file, past, past);
  return file;
}

async function readAll(metadata: string, expectedRows: number, label: string): Promise<void> {
  const engines: Engine[] = ['spark', 'pyiceberg', 'duckdb'];
  const result = await readTables(
    { engines, snapshots: 'current', tables: [{ name: label, metadata }] },
    { timeoutMs: 1_200_000 },
  );
  const reads = result.tables[0]?.reads;
  const digests = new Set<string>();
  for (const engine of engines) {
    const c = reads?.[engine]?.current;
    assert.ok(c && !('error' in c), `${label}: ${engine}: ${c && 'error' in c ? c.error : 'no read'}`);
    assert.equal(c.rowCount, expectedRows, `${label}: ${engine} row count`);
    digests.add(c.digest);
  }
  assert.equal(digests.size, 1, `${label}: the three engines read the same rows`);
}

describe('add-files: 50 new files on a table of 10,000', { skip }, () => {
  it('reads only the new footers, commits one snapshot, and the engines agree; bad files are never referenced', async (t) => {
    const base = scratchDir('interop-addfiles-10k');
    const data = path.join(base, 'replica', 'events');
    for (let i = 0; i < 10_000; i++) writeFile(data, i);
    const catalog = await SqlCatalog.open({
      name: 'dr',
      uri: `sqlite:///${base}/catalog.db`,
      storageFor: resolve,
    });
    const opts: AddFilesOptions = {
      table: { namespace: ['db'], name: 'events' },
      catalog,
      resolve,
      dataPath: data,
      metadataRoot: path.join(base, 'dr', 'db', 'events', 'metadata'),
      create: { partitionBy: ['day:int'] },
      settleMs: 60_000,
    };
    try {
      const first = await addFiles(opts);
      assert.equal(first.filesAdded, 10_000);
      assert.equal(first.footersRead, 10_000);

      for (let i = 10_000; i < 10_050; i++) writeFile(data, i);
      let t0 = performance.now();
      const inc = await addFiles(opts);
      t.diagnostic(`+50 files on 10,000: ${(performance.now() - t0).toFixed(0)} ms`);
      assert.equal(inc.status, 'committed');
      assert.equal(inc.filesAdded, 50);
      assert.equal(inc.footersRead, 50, 'only the new footers are read');
      assert.equal(inc.filesAlreadyTracked, 10_000);
      const meta = JSON.parse(readFileSync(inc.metadataLocation as string, 'utf8')) as {
        snapshots: unknown[];
      };
      assert.equal(meta.snapshots.length, 2, 'one new snapshot');
      await readAll(inc.metadataLocation as string, 10_050 * ROWS, 'after +50');

      t0 = performance.now();
      const again = await addFiles(opts);
      t.diagnostic(`rerun: ${(performance.now() - t0).toFixed(0)} ms`);
      assert.equal(again.status, 'up-to-date');
      assert.equal(again.footersRead, 0);
      assert.equal(again.metadataLocation, inc.metadataLocation);

      // Bad arrivals: truncated, an incompatible schema, and one still being written (fresh mtime).
      const good = readFileSync(writeFile(path.join(base, 'scratch'), 0));
      const truncated = path.join(data, 'day=1', 'truncated.parquet');
      writeFileSync(truncated, good.subarray(0, good.length - 20));
      utimesSync(truncated, past, past);
      const incompatible = path.join(data, 'day=2', 'incompatible.parquet');
      writeFileSync(
        incompatible,
        new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'id', data: ['a'], type: 'STRING' }] })),
      );
      utimesSync(incompatible, past, past);
      const writing = path.join(data, 'day=3', 'writing.parquet');
      writeFileSync(writing, good);
      const bad = await addFiles(opts);
      assert.equal(bad.filesAdded, 0);
      assert.equal(bad.footersRead, 2, 'the file in flight is not even read');
      assert.deepEqual(bad.rejected.map((r) => r.path).sort(), [incompatible, truncated].sort());
      assert.deepEqual(
        bad.deferred.map((d) => d.path),
        [writing],
      );
      // The table is exactly the one the engines read above: nothing references the bad files.
      assert.equal(bad.metadataLocation, inc.metadataLocation, 'no snapshot for bad files');
    } finally {
      await catalog.close();
    }
  });
});
