/**
 * The bundled sample replicated table (examples/replica, what scripts/demo.sh syncs): a copy of it
 * syncs into a SQLite catalog, a second run is a no-op, verify is clean and no production path is left
 * in any output file. Expectations come from the sample's own metadata, never from constants, so a
 * regenerated sample (new ids and file names) passes unchanged.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { SqlCatalog } from '../../../src/catalog/sql/sql.ts';
import { decodeMetadata } from '../../../src/iceberg/metadata-json.ts';
import { inspectTable } from '../../../src/inspect/inspect.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import { syncTable } from '../../../src/sync/engine.ts';
import { verifyTable } from '../../../src/sync/verify.ts';
import type { PathMappingRule } from '../../../src/table/path-mapping.ts';
import { listFilesRecursive, repoRoot, scratchDir, snapshotTree } from '../../helpers/paths.ts';

const SOURCE_WAREHOUSE = 'hdfs://prod-nn:8020/warehouse';
const sample = path.join(repoRoot, 'examples', 'replica');
const resolve = new StorageRouter().resolver;

/** The newest `vN.metadata.json` of a Hadoop-layout table directory. */
function newestMetadata(tableDir: string): string {
  const dir = path.join(tableDir, 'metadata');
  const newest = readdirSync(dir)
    .map((n) => ({ n, v: Number(/^v(\d+)\.metadata\.json$/.exec(n)?.[1] ?? -1) }))
    .filter((f) => f.v >= 0)
    .sort((a, b) => b.v - a.v)[0];
  assert.ok(newest, `no vN.metadata.json in ${dir}`);
  return path.join(dir, newest.n);
}

describe('the bundled sample replicated table (examples/replica)', () => {
  it('syncs into a SQLite catalog, is then up to date, verifies clean, leaves no production path', async () => {
    const base = scratchDir('demo-sample');
    const warehouse = path.join(base, 'replica', 'warehouse');
    cpSync(sample, path.join(base, 'replica'), { recursive: true });
    const tableLocation = path.join(warehouse, 'sales', 'orders');
    const source = newestMetadata(tableLocation);
    const sourceDoc = decodeMetadata(readFileSync(source), source).metadata;
    assert.equal(sourceDoc.location, `${SOURCE_WAREHOUSE}/sales/orders`, 'the sample names production paths');
    const expectedSnapshot = sourceDoc.currentSnapshotId;
    assert.ok(expectedSnapshot !== undefined, 'the sample has a current snapshot');
    const replicaBefore = snapshotTree(warehouse);
    const inspected = await inspectTable(tableLocation, { resolve });

    const dr = path.join(base, 'dr'); // the DR warehouse, with the catalog file in it as the CLI's default
    mkdirSync(dr);
    const catalog = await SqlCatalog.open({
      name: 'dr',
      uri: `sqlite:///${dr}/iceberg_catalog.db`,
      storageFor: resolve,
    });
    try {
      const table = { namespace: ['sales'], name: 'orders' };
      const mappings: PathMappingRule[] = [{ source: SOURCE_WAREHOUSE, target: warehouse }];
      const metadataRoot = path.join(dr, 'sales', 'orders', 'metadata');
      const opts = { table, catalog, tableLocation, mappings, metadataRoot, resolve };

      const first = await syncTable(opts);
      assert.equal(first.status, 'committed');
      assert.equal(first.snapshotId, expectedSnapshot.toString());
      assert.equal(first.sourceMetadata, source);
      assert.equal(first.missingFiles, 0);
      assert.equal(first.deleteFilesRewritten, inspected.positionDeleteFiles);
      assert.ok(inspected.positionDeleteFiles > 0, 'the sample has position deletes');
      assert.equal((await catalog.loadTable(table))?.metadataLocation, first.metadataLocation);
      const committed = decodeMetadata(
        readFileSync(first.metadataLocation!),
        first.metadataLocation!,
      ).metadata;
      assert.equal(committed.currentSnapshotId, expectedSnapshot);
      assert.deepEqual(
        committed.snapshots.map((s) => s.snapshotId),
        sourceDoc.snapshots.map((s) => s.snapshotId),
      );

      const second = await syncTable(opts);
      assert.equal(second.status, 'up-to-date');
      assert.equal(second.metadataLocation, first.metadataLocation);
      assert.equal(second.snapshotId, first.snapshotId);

      const v = await verifyTable({ table, catalog, mappings, metadataRoot, resolve });
      assert.deepEqual(v.problems, []);
      assert.equal(v.ok, true);
      assert.equal(v.metadataLocation, first.metadataLocation);
    } finally {
      await catalog.close();
    }

    // Every file a reader can reach (metadata.json, manifest lists, manifests, rewritten delete files,
    // the catalog database). `.iceberg-sync/` is the tool's own bookkeeping, which no reader opens:
    // its state.json keys the rewritten manifests by their source paths by design.
    const outputs = listFilesRecursive(dr).filter((f) => !f.split(path.sep).includes('.iceberg-sync'));
    assert.ok(outputs.some((f) => f.endsWith('.metadata.json')));
    assert.ok(outputs.some((f) => f.endsWith('iceberg_catalog.db')));
    const needle = Buffer.from('hdfs://prod-nn');
    const leaking = outputs.filter((f) => readFileSync(f).includes(needle));
    assert.deepEqual(leaking, [], 'output files still holding a production path');
    assert.deepEqual(snapshotTree(warehouse), replicaBefore, 'the replica was modified');
  });
});
