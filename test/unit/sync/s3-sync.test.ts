/**
 * End to end on S3: the bundled sample replicated table (examples/replica, whose metadata names
 * hdfs://prod-nn:8020/warehouse) is put into a bucket of a real S3 server (versitygw, started by
 * scripts/start-s3.sh), synced with the DR metadata root in the same bucket into a SQLite catalog
 * and into a Hadoop-layout catalog on S3, then checked (test/helpers/sample-sync.ts, shared with
 * HDFS): every path the committed metadata names is an s3:// path of that bucket, every live one
 * exists with its recorded size, a second run is up to date, verify is clean. Skipped, saying why,
 * without a server.
 */
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { StorageRouter } from '../../../src/storage/router.ts';
import { registerS3Storage, type S3Storage } from '../../../src/storage/s3/index.ts';
import { repoRoot } from '../../helpers/paths.ts';
import { requireServer } from '../../helpers/requires.ts';
import { createBucket, s3Server, s3SkipReason, storageOptions, uploadDir } from '../../helpers/s3.ts';
import { checkSampleHadoopCatalogSync, checkSampleSync } from '../../helpers/sample-sync.ts';

const sampleWarehouse = path.join(repoRoot, 'examples', 'replica', 'warehouse');

describe('sync with the replica and the DR metadata on S3', requireServer('S3', s3SkipReason), () => {
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
    await s3?.close();
  });

  const onS3 = () => ({ storage: s3, resolve: router.resolver, base: `s3://${bucket}` });

  it('commits metadata naming only existing s3:// paths, then is up to date and verifies clean', async () => {
    await checkSampleSync(onS3(), 's3');
  });

  it('commits to a Hadoop-layout catalog whose warehouse is on S3', async () => {
    await checkSampleHadoopCatalogSync(onS3());
  });
});
