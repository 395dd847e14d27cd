/**
 * Benchmark of the storage backends (not a test): for each backend at hand, writes a tree of small
 * files and a set of real Parquet files (copies of the bundled sample's data files), then times
 *
 * 1. writes (files/s, at the given concurrency);
 * 2. a recursive listing with sizes (files/s), as the presence check and add-files do;
 * 3. Parquet footer reads through ranged reads (footers/s), as add-files and delete rewrites do.
 *
 * Backends: the local file system (under `<repo>/.work/bench/storage`, git-ignored), S3 when
 * a server is named by IMSYNC_S3_ENDPOINT / IMSYNC_S3_ACCESS_KEY / IMSYNC_S3_SECRET_KEY (run
 * `source scripts/start-s3.sh` first for the local versitygw test server), and HDFS over WebHDFS
 * when a NameNode is named by IMSYNC_HDFS_NAMENODE (and IMSYNC_HDFS_USER; run
 * `source scripts/start-hdfs.sh` first for the local MiniDFSCluster), Azure Blob when
 * IMSYNC_AZURITE_CONNECTION_STRING names an account (`source scripts/start-azurite.sh`), and GCS
 * when IMSYNC_GCS_ENDPOINT names a JSON API server (`source scripts/start-gcs.sh`).
 *
 * Run: node bench/storage.bench.ts [files] [footers] [concurrency]     (default 5000 500 16)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient } from '@azure/storage-blob';
import { Storage as GoogleStorage } from '@google-cloud/storage';
import pLimit from 'p-limit';
import { readParquetFooter } from '../src/parquet/footer.ts';
import { AzureStorage } from '../src/storage/azure/azure.ts';
import { GcsStorage } from '../src/storage/gcs/gcs.ts';
import { LocalStorage } from '../src/storage/local/local.ts';
import { S3Storage } from '../src/storage/s3/s3.ts';
import { openRangeReader, type Storage } from '../src/storage/storage.ts';
import { WebHdfsStorage } from '../src/storage/webhdfs/index.ts';

const FILES = Number(process.argv[2] ?? 5_000);
const FOOTERS = Number(process.argv[3] ?? 500);
const CONCURRENCY = Number(process.argv[4] ?? 16);
if (![FILES, FOOTERS, CONCURRENCY].every((n) => Number.isInteger(n) && n >= 1)) {
  console.error('usage: node bench/storage.bench.ts [files] [footers] [concurrency]');
  process.exit(2);
}

const repoRoot = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), '..');
const sampleData = nodePath.join(repoRoot, 'examples', 'replica', 'warehouse', 'sales', 'orders', 'data');

/** The sample's Parquet data files, as bytes. */
function sampleParquet(dir: string, out: Uint8Array[] = []): Uint8Array[] {
  for (const n of readdirSync(dir).sort()) {
    const p = nodePath.join(dir, n);
    if (statSync(p).isDirectory()) sampleParquet(p, out);
    else if (n.endsWith('.parquet')) out.push(readFileSync(p));
  }
  return out;
}

interface Backend {
  readonly name: string;
  readonly storage: Storage;
  /** A fresh directory for this run. */
  readonly base: string;
  cleanup(): Promise<void>;
}

async function backends(): Promise<Backend[]> {
  const list: Backend[] = [];
  const localBase = nodePath.join(repoRoot, '.work', 'bench', 'storage');
  await rm(localBase, { recursive: true, force: true });
  list.push({
    name: 'local',
    storage: new LocalStorage(),
    base: localBase,
    cleanup: () => rm(localBase, { recursive: true, force: true }),
  });
  const {
    IMSYNC_S3_ENDPOINT: endpoint,
    IMSYNC_S3_ACCESS_KEY: key,
    IMSYNC_S3_SECRET_KEY: secret,
  } = process.env;
  if (endpoint && key && secret) {
    const bucket = `bench-${Date.now().toString(36)}`;
    const client = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: key, secretAccessKey: secret },
    });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    client.destroy();
    list.push({
      name: `s3 (${endpoint})`,
      storage: new S3Storage({ endpoint, accessKeyId: key, secretAccessKey: secret, pathStyle: true }),
      base: `s3://${bucket}/bench`,
      // The bucket lives in the throw-away test server's directory.
      cleanup: async () => {},
    });
  } else {
    console.log('S3: skipped (IMSYNC_S3_ENDPOINT unset; `source scripts/start-s3.sh` starts a local server)');
  }
  const namenode = process.env.IMSYNC_HDFS_NAMENODE;
  if (namenode) {
    const hdfs = new WebHdfsStorage({ namenodes: [namenode], user: process.env.IMSYNC_HDFS_USER || 'root' });
    list.push({
      name: `hdfs (WebHDFS ${namenode})`,
      storage: hdfs,
      base: `hdfs://bench/bench-${Date.now().toString(36)}`,
      // The files live in the throw-away test cluster's directory.
      cleanup: async () => {},
    });
  } else {
    console.log(
      'HDFS: skipped (IMSYNC_HDFS_NAMENODE unset; `source scripts/start-hdfs.sh` starts a local cluster)',
    );
  }
  const cs = process.env.IMSYNC_AZURITE_CONNECTION_STRING;
  if (cs) {
    const container = `bench-${Date.now().toString(36)}`;
    await BlobServiceClient.fromConnectionString(cs).getContainerClient(container).create();
    list.push({
      name: `azure (${process.env.IMSYNC_AZURITE_BLOB_ENDPOINT ?? 'blob'})`,
      storage: new AzureStorage({ connectionString: cs, useEnvironment: false }),
      base: `abfss://${container}@devstoreaccount1.dfs.core.windows.net/bench`,
      // The container lives in the throw-away emulator's directory.
      cleanup: async () => {},
    });
  } else {
    console.log('Azure: skipped (IMSYNC_AZURITE_CONNECTION_STRING unset; `source scripts/start-azurite.sh`)');
  }
  const gcs = process.env.IMSYNC_GCS_ENDPOINT;
  if (gcs) {
    const bucket = `bench-${Date.now().toString(36)}`;
    await new GoogleStorage({ apiEndpoint: gcs, projectId: 'bench' }).createBucket(bucket);
    list.push({
      name: `gcs (${gcs})`,
      storage: new GcsStorage({ endpoint: gcs, projectId: 'bench' }),
      base: `gs://${bucket}/bench`,
      cleanup: async () => {},
    });
  } else {
    console.log('GCS: skipped (IMSYNC_GCS_ENDPOINT unset; `source scripts/start-gcs.sh`)');
  }
  return list;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function timed(fn: () => Promise<number>): Promise<{ ms: number; count: number }> {
  const t0 = performance.now();
  const count = await fn();
  return { ms: performance.now() - t0, count };
}

const parquet = sampleParquet(sampleData);
if (parquet.length === 0) throw new Error(`no Parquet files under ${sampleData}`);
const small = new TextEncoder().encode('x'.repeat(512));
const limit = pLimit(CONCURRENCY);

console.log(
  `node ${process.version}; ${fmt(FILES)} small files in ${Math.ceil(FILES / 100)} directories, ` +
    `${fmt(FOOTERS)} Parquet files (${parquet.length} distinct sample files), concurrency ${CONCURRENCY}`,
);
console.log('');
console.log(
  `${'backend'.padEnd(40)} ${'write files/s'.padStart(14)} ${'list files/s'.padStart(13)} ${'footers/s'.padStart(10)}`,
);
for (const b of await backends()) {
  const write = await timed(async () => {
    await Promise.all([
      ...Array.from({ length: FILES }, (_, i) =>
        limit(() => b.storage.write(`${b.base}/tree/d=${Math.floor(i / 100)}/f-${i}.bin`, small)),
      ),
      ...Array.from({ length: FOOTERS }, (_, i) =>
        limit(() => b.storage.write(`${b.base}/parquet/p-${i}.parquet`, parquet[i % parquet.length]!)),
      ),
    ]);
    return FILES + FOOTERS;
  });
  const list = await timed(async () => {
    let n = 0;
    for await (const _ of b.storage.list(`${b.base}/tree`, { recursive: true })) n++;
    if (n !== FILES) throw new Error(`${b.name}: listed ${n} files, wrote ${FILES}`);
    return n;
  });
  const footers = await timed(async () => {
    const files: { path: string; size: number }[] = [];
    for await (const f of b.storage.list(`${b.base}/parquet`)) files.push(f);
    const rows = await Promise.all(
      files.map((f) =>
        limit(async () => {
          const footer = await readParquetFooter(await openRangeReader(b.storage, f.path, f.size), f.path);
          return footer.rowCount;
        }),
      ),
    );
    if (rows.length !== FOOTERS) throw new Error(`${b.name}: read ${rows.length} footers, wrote ${FOOTERS}`);
    return rows.length;
  });
  const rate = (t: { ms: number; count: number }) => fmt((t.count * 1000) / t.ms);
  console.log(
    `${b.name.padEnd(40)} ${rate(write).padStart(14)} ${rate(list).padStart(13)} ${rate(footers).padStart(10)}`,
  );
  await b.cleanup();
}
