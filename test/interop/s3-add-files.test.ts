/**
 * add-files on S3: the bundled sample's Parquet data files are put into a bucket of a real S3
 * server (versitygw) as a landing area, added to a DR table whose metadata is written to S3, in
 * two runs (files arriving in between); the same is done on the local file system. PyIceberg (its
 * SqlCatalog and pyarrow's S3 file system) reads every snapshot of the S3 table with exactly the
 * rows of the local one; a rerun is up to date, and verify is clean.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { addFiles } from '../../src/addfiles/engine.ts';
import { SqlCatalog } from '../../src/catalog/sql/sql.ts';
import { StorageRouter } from '../../src/storage/router.ts';
import { registerS3Storage, type S3Storage } from '../../src/storage/s3/index.ts';
import { verifyTable } from '../../src/sync/verify.ts';
import { repoRoot, scratchDir } from '../helpers/paths.ts';
import { createBucket, s3Server, s3SkipReason, storageOptions, uploadDir } from '../helpers/s3.ts';
import { harnessPython } from './harness.ts';
import { interopSkipReason } from './helpers.ts';
import { PYICEBERG_SNAPSHOT_READER } from './pyiceberg-reader.ts';

const sampleData = path.join(repoRoot, 'examples', 'replica', 'warehouse', 'sales', 'orders', 'data');
const table = { namespace: ['landing'], name: 'orders' };
const skip = s3SkipReason || interopSkipReason() || false;

/** Two add-files runs into a fresh SQLite catalog: `first` then everything; returns the reports. */
async function twoRuns(
  catalogDir: string,
  dataPath: string,
  metadataRoot: string,
  router: StorageRouter,
  arrive: () => Promise<void>,
) {
  mkdirSync(catalogDir, { recursive: true });
  const catalog = await SqlCatalog.open({
    name: 'dr',
    uri: `sqlite:///${catalogDir}/iceberg_catalog.db`,
    storageFor: router.resolver,
  });
  try {
    const opts = {
      table,
      catalog,
      resolve: router.resolver,
      dataPath,
      metadataRoot,
      // Position-delete files of the sample are not data files.
      exclude: ['**/*-deletes.parquet'],
      create: { partitionBy: ['region'] },
    };
    const first = await addFiles(opts);
    await arrive();
    const second = await addFiles(opts);
    const third = await addFiles(opts);
    const verify = await verifyTable({
      table,
      catalog,
      mappings: [],
      metadataRoot,
      resolve: router.resolver,
    });
    return { first, second, third, verify };
  } finally {
    await catalog.close();
  }
}

describe('add-files with the landing area and the DR metadata on S3', { skip }, () => {
  it('adds in two runs, verifies, and PyIceberg reads from S3 what it reads from the local table', async (t) => {
    const server = s3Server!;
    const base = scratchDir('s3-addfiles');
    const router = registerS3Storage(new StorageRouter(), storageOptions(server));
    // The first arrival: one region; the second: the other.
    const regions = readdirSync(sampleData).sort();
    assert.ok(regions.length >= 2);
    const stage = (dir: string, which: string[]) => {
      for (const r of which) cpSync(path.join(sampleData, r), path.join(dir, r), { recursive: true });
    };

    const bucket = await createBucket(server, 'imsync-addfiles');
    const s3Stage = path.join(base, 'stage-s3');
    stage(s3Stage, regions.slice(0, 1));
    await uploadDir(server, s3Stage, bucket, 'landing/orders');
    const onS3 = await twoRuns(
      path.join(base, 's3cat'),
      `s3://${bucket}/landing/orders`,
      `s3://${bucket}/dr/landing/orders/metadata`,
      router,
      async () => {
        rmSync(s3Stage, { recursive: true });
        stage(s3Stage, regions.slice(1));
        await uploadDir(server, s3Stage, bucket, 'landing/orders');
      },
    );
    await (router.resolve(`s3://${bucket}/`) as S3Storage).close();

    const local = path.join(base, 'landing', 'orders');
    stage(local, regions.slice(0, 1));
    const onDisk = await twoRuns(
      path.join(base, 'localcat'),
      local,
      path.join(base, 'dr', 'landing', 'orders', 'metadata'),
      router,
      async () => {
        stage(local, regions.slice(1));
      },
    );

    for (const [where, r] of [
      ['S3', onS3],
      ['local', onDisk],
    ] as const) {
      assert.equal(r.first.status, 'committed', where);
      assert.equal(r.second.status, 'committed', where);
      assert.ok(r.first.filesAdded > 0 && r.second.filesAdded > 0, `${where}: files in both runs`);
      assert.deepEqual([...r.first.rejected, ...r.second.rejected], [], `${where}: nothing rejected`);
      assert.equal(r.second.footersRead, r.second.filesAdded, `${where}: only new footers read`);
      assert.equal(r.third.status, 'up-to-date', where);
      assert.equal(r.third.footersRead, 0, where);
      assert.ok(r.verify.ok, `${where}: ${JSON.stringify(r.verify.problems)}`);
      assert.ok(
        r.second.metadataLocation?.startsWith(where === 'S3' ? 's3://' : '/'),
        r.second.metadataLocation ?? '',
      );
    }
    assert.equal(onS3.first.filesAdded, onDisk.first.filesAdded);
    assert.equal(onS3.second.filesAdded, onDisk.second.filesAdded);

    const spec = [
      {
        identifier: 'landing.orders',
        properties: {
          uri: `sqlite:///${base}/s3cat/iceberg_catalog.db`,
          's3.endpoint': server.endpoint,
          's3.access-key-id': server.accessKeyId,
          's3.secret-access-key': server.secretAccessKey,
          's3.region': 'us-east-1',
        },
      },
      { identifier: 'landing.orders', properties: { uri: `sqlite:///${base}/localcat/iceberg_catalog.db` } },
    ];
    const r = spawnSync(harnessPython, ['-c', PYICEBERG_SNAPSHOT_READER, JSON.stringify(spec)], {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' },
    });
    assert.equal(r.status, 0, `PyIceberg failed:\n${r.stderr.slice(-4000)}`);
    const [s3Read, diskRead] = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '[]') as {
      metadataLocation: string;
      reads: Record<string, [number, string]>;
    }[];
    assert.equal(s3Read?.metadataLocation, onS3.second.metadataLocation);
    // Snapshot ids differ between the two tables; their reads, in snapshot order, must not.
    const s3Reads = Object.values(s3Read?.reads ?? {});
    assert.equal(s3Reads.length, 2);
    assert.deepEqual(s3Reads, Object.values(diskRead?.reads ?? {}));
    assert.ok((s3Reads[1]?.[0] ?? 0) > (s3Reads[0]?.[0] ?? 0), 'the second snapshot has more rows');
    t.diagnostic(
      `PyIceberg read both snapshots from S3 with the local rows (${s3Reads.map(([n]) => n).join(', ')} rows)`,
    );
  });
});
