/**
 * PyIceberg reads a table synced onto S3: the bundled sample replica is put into a bucket of a real
 * S3 server (versitygw, started by scripts/start-s3.sh) and synced with its metadata on S3, and the
 * same sample is synced on the local file system. PyIceberg (through its SqlCatalog and pyarrow's
 * S3 file system, with PyIceberg's own `s3.*` properties) must read every snapshot of the S3 table
 * with exactly the rows it reads from the local one.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { StorageRouter } from '../../src/storage/router.ts';
import { registerS3Storage, type S3Storage } from '../../src/storage/s3/index.ts';
import { repoRoot, scratchDir } from '../helpers/paths.ts';
import { createBucket, s3Server, s3SkipReason, storageOptions, uploadDir } from '../helpers/s3.ts';
import { syncSampleInto } from '../helpers/sample-sync.ts';
import { harnessPython } from './harness.ts';
import { interopSkipReason } from './helpers.ts';
import { PYICEBERG_SNAPSHOT_READER as READER } from './pyiceberg-reader.ts';

const sampleWarehouse = path.join(repoRoot, 'examples', 'replica', 'warehouse');

const skip = s3SkipReason || interopSkipReason() || false;

describe('PyIceberg reads a table synced onto S3', { skip }, () => {
  it('reads every snapshot with the rows of the same table synced locally', async (t) => {
    const server = s3Server!;
    const base = scratchDir('s3-pyiceberg');
    const router = registerS3Storage(new StorageRouter(), storageOptions(server));

    const bucket = await createBucket(server, 'imsync-py');
    await uploadDir(server, sampleWarehouse, bucket, 'warehouse');
    const s3Location = await syncSampleInto({
      catalogName: 'dr',
      catalogDir: path.join(base, 's3cat'),
      tableLocation: `s3://${bucket}/warehouse/sales/orders`,
      warehouse: `s3://${bucket}/warehouse`,
      metadataRoot: `s3://${bucket}/dr/sales/orders/metadata`,
      resolve: router.resolver,
    });
    await (router.resolve(s3Location) as S3Storage).close();

    const localWarehouse = path.join(base, 'replica', 'warehouse');
    cpSync(sampleWarehouse, localWarehouse, { recursive: true });
    const localLocation = await syncSampleInto({
      catalogName: 'dr',
      catalogDir: path.join(base, 'localcat'),
      tableLocation: path.join(localWarehouse, 'sales', 'orders'),
      warehouse: localWarehouse,
      metadataRoot: path.join(base, 'dr', 'sales', 'orders', 'metadata'),
      resolve: router.resolver,
    });

    const spec = [
      {
        properties: {
          uri: `sqlite:///${base}/s3cat/iceberg_catalog.db`,
          's3.endpoint': server.endpoint,
          's3.access-key-id': server.accessKeyId,
          's3.secret-access-key': server.secretAccessKey,
          's3.region': 'us-east-1',
        },
      },
      { properties: { uri: `sqlite:///${base}/localcat/iceberg_catalog.db` } },
    ];
    const r = spawnSync(harnessPython, ['-c', READER, JSON.stringify(spec)], {
      encoding: 'utf8',
      timeout: 300_000,
      env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' },
    });
    assert.equal(r.status, 0, `PyIceberg failed:\n${r.stderr.slice(-4000)}`);
    const [onS3, onDisk] = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      metadataLocation: string;
      reads: Record<string, [number, string]>;
    }[];
    assert.equal(onS3!.metadataLocation, s3Location);
    assert.equal(onDisk!.metadataLocation, localLocation);
    assert.ok(Object.keys(onS3!.reads).length > 0);
    assert.deepEqual(onS3!.reads, onDisk!.reads);
    assert.ok(
      Object.values(onS3!.reads).some(([rows]) => rows > 0),
      'some snapshot has rows',
    );
    const counts = Object.values(onS3!.reads).map(([n]) => n);
    t.diagnostic(
      `PyIceberg read ${counts.length} snapshots from S3 with the local rows (${counts.join(', ')} rows)`,
    );
  });
});
