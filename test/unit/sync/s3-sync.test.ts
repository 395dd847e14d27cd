/**
 * End to end on S3: the bundled sample replicated table (examples/replica, whose metadata names
 * hdfs://prod-nn:8020/warehouse) is put into a bucket of a real S3 server (versitygw, started by
 * scripts/start-s3.sh), synced with the DR metadata root in the same bucket and a SQLite catalog,
 * then checked: every path the committed metadata names is an s3:// path of that bucket, every live
 * one exists with its recorded size, and a second run is up to date. Skipped, saying why, without a
 * server. Expectations come from the sample's own metadata, never from constants.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HadoopCatalog } from '../../../src/catalog/hadoop.ts';
import { SqlCatalog } from '../../../src/catalog/sql.ts';
import { decodeMetadata } from '../../../src/iceberg/metadata-json.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import { registerS3Storage, type S3Storage } from '../../../src/storage/s3.ts';
import { syncTable } from '../../../src/sync/engine.ts';
import type { PathMappingRule } from '../../../src/sync/path-mapping.ts';
import { verifyTable } from '../../../src/sync/verify.ts';
import { type FoundPath, walkTable } from '../../../src/sync/walk.ts';
import { repoRoot, scratchDir } from '../../helpers/paths.ts';
import { createBucket, s3Server, s3SkipReason, storageOptions, uploadDir } from '../../helpers/s3.ts';

const SOURCE_WAREHOUSE = 'hdfs://prod-nn:8020/warehouse';
const sampleWarehouse = path.join(repoRoot, 'examples', 'replica', 'warehouse');

describe('sync with the replica and the DR metadata on S3', { skip: s3SkipReason }, () => {
  const server = s3Server!;
  let bucket: string;
  let router: StorageRouter;
  let s3: S3Storage;

  before(async () => {
    bucket = await createBucket(server, 'imsync-e2e');
    router = registerS3Storage(new StorageRouter(), storageOptions(server));
    s3 = router.resolve(`s3://${bucket}/`) as S3Storage;
    // "Replicate" the sample into the bucket, as DistCp or an S3 replication rule would.
    await uploadDir(server, sampleWarehouse, bucket, 'warehouse');
  });
  after(async () => {
    await s3?.destroy();
  });

  it('commits metadata naming only existing s3:// paths, then is up to date and verifies clean', async () => {
    const warehouse = `s3://${bucket}/warehouse`;
    const tableLocation = `${warehouse}/sales/orders`;
    const metadataRoot = `s3://${bucket}/dr/sales/orders/metadata`;
    const resolve = router.resolver;

    // The newest source metadata, read back from the bucket.
    const names: string[] = [];
    for await (const f of s3.list(`${tableLocation}/metadata`)) names.push(f.path);
    const newest = names
      .map((p) => ({ p, v: Number(/\/v(\d+)\.metadata\.json$/.exec(p)?.[1] ?? -1) }))
      .filter((f) => f.v >= 0)
      .sort((a, b) => b.v - a.v)[0]!;
    const sourceDoc = decodeMetadata(await s3.read(newest.p), newest.p).metadata;
    assert.equal(sourceDoc.location, `${SOURCE_WAREHOUSE}/sales/orders`, 'the sample names production paths');

    const base = scratchDir('s3-sync');
    const catalog = await SqlCatalog.open({
      name: 'dr',
      uri: `sqlite:///${base}/iceberg_catalog.db`,
      storageFor: resolve,
    });
    try {
      const table = { namespace: ['sales'], name: 'orders' };
      const mappings: PathMappingRule[] = [{ source: SOURCE_WAREHOUSE, target: warehouse }];
      const opts = { table, catalog, tableLocation, mappings, metadataRoot, resolve };

      const first = await syncTable(opts);
      assert.equal(first.status, 'committed');
      assert.equal(first.missingFiles, 0);
      assert.equal(first.snapshotId, sourceDoc.currentSnapshotId?.toString());
      assert.equal(first.sourceMetadata, newest.p);
      const location = first.metadataLocation!;
      assert.ok(location.startsWith(`${metadataRoot}/`), location);
      assert.equal((await catalog.loadTable(table))?.metadataLocation, location);

      // Every path the committed table names.
      const doc = decodeMetadata(await s3.read(location), location);
      assert.equal(doc.metadata.location, tableLocation);
      assert.equal(doc.metadata.currentSnapshotId, sourceDoc.currentSnapshotId);
      const found: FoundPath[] = [];
      const summary = await walkTable(doc, location, resolve, (p) => {
        found.push(p);
      });
      assert.ok(summary.dataFiles > 0 && summary.positionDeleteFiles > 0, JSON.stringify(summary));
      for (const p of found) {
        assert.ok(p.path.startsWith(`s3://${bucket}/`), `${p.field} in ${p.in}: ${p.path}`);
      }
      const live = found.filter((p) => p.live);
      assert.ok(live.some((p) => p.kind === 'manifest-list') && live.some((p) => p.kind === 'manifest'));
      for (const p of live) {
        const info = await s3.stat(p.path);
        assert.ok(info, `${p.path} (${p.field} in ${p.in}) does not exist`);
        if (p.size !== undefined) assert.equal(BigInt(info.size), p.size, `size of ${p.path}`);
      }
      // Rewritten metadata lives under the DR root; the replica's data files are used in place.
      for (const p of live.filter((f) => f.kind === 'manifest' || f.kind === 'manifest-list')) {
        assert.ok(p.path.startsWith(`${metadataRoot}/`), p.path);
      }
      assert.ok(
        live.filter((f) => f.kind === 'data').every((f) => f.path.startsWith(`${tableLocation}/data/`)),
      );

      const second = await syncTable(opts);
      assert.equal(second.status, 'up-to-date');
      assert.equal(second.metadataLocation, location);

      const v = await verifyTable({ table, catalog, mappings, metadataRoot, resolve });
      assert.deepEqual(v.problems, []);
      assert.equal(v.ok, true);
      assert.ok(v.outputFilesScanned > 0);

      // The run lock is gone again: a third run is not locked out.
      assert.equal((await syncTable(opts)).status, 'up-to-date');
    } finally {
      await catalog.close();
    }
  });

  it('commits to a Hadoop-layout catalog whose warehouse is on S3', async () => {
    const warehouse = `s3://${bucket}/warehouse`;
    const hadoopWarehouse = `s3://${bucket}/hadoop-wh`;
    const table = { namespace: ['sales'], name: 'orders' };
    const metadataRoot = `${hadoopWarehouse}/sales/orders/metadata`;
    const catalog = new HadoopCatalog({ name: 'h', warehouse: hadoopWarehouse, storage: s3 });
    const mappings: PathMappingRule[] = [{ source: SOURCE_WAREHOUSE, target: warehouse }];
    const opts = {
      table,
      catalog,
      tableLocation: `${warehouse}/sales/orders`,
      mappings,
      metadataRoot,
      resolve: router.resolver,
    };
    const first = await syncTable(opts);
    assert.equal(first.status, 'committed');
    assert.equal(first.metadataLocation, `${metadataRoot}/v1.metadata.json`);
    assert.equal(new TextDecoder().decode(await s3.read(`${metadataRoot}/version-hint.text`)), '1');
    assert.equal((await catalog.loadTable(table))?.metadataLocation, first.metadataLocation);
    assert.equal((await syncTable(opts)).status, 'up-to-date');
    const v = await verifyTable({ table, catalog, mappings, metadataRoot, resolve: router.resolver });
    assert.deepEqual(v.problems, []);
  });
});
