/**
 * End to end on Azure (Azurite) and GCS (fake-gcs-server), through the registry's router built
 * from PyIceberg-style catalog properties (`adls.connection-string`; `gcs.service.host`):
 *
 * - the bundled sample replica is put under a source prefix of one container / bucket (with the
 *   plain SDK, as replication would) and synced with its DR metadata in the same container, and
 *   again into another container;
 * - that second table, whose metadata names `abfss://` / `gs://` paths, is copied to local disk
 *   and synced there through mapping rules (for Azure the rule is spelled `wasbs://...blob...`,
 *   the other spelling of the same blobs), and copied to an S3 gateway (versitygw, when the S3
 *   test server is there) and synced there;
 * - add-files registers the sample's data files from a landing area on the backend in two runs;
 *
 * and PyIceberg (SqlCatalog, fsspec FileIO: adlfs with the emulator's connection string, gcsfs
 * with the emulator endpoint) reads every snapshot of each with exactly the rows of the same table
 * synced locally; verify is clean.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { addFiles } from '../../src/addfiles/engine.ts';
import { SqlCatalog } from '../../src/catalog/sql/sql.ts';
import { createStorageRouter } from '../../src/storage/registry.ts';
import type { StorageRouter } from '../../src/storage/router.ts';
import { syncTable } from '../../src/sync/engine.ts';
import { verifyTable } from '../../src/sync/verify.ts';
import {
  abfss,
  azureProperties,
  azuriteServer,
  azuriteSkipReason,
  createContainer,
  downloadAzureDir,
  uploadDirToAzure,
  wasbs,
} from '../helpers/azure.ts';
import {
  createGcsBucket,
  downloadGcsDir,
  gcsEndpoint,
  gcsProperties,
  gcsSkipReason,
  uploadDirToGcs,
} from '../helpers/gcs.ts';
import { repoRoot, scratchDir } from '../helpers/paths.ts';
import { requireServer } from '../helpers/requires.ts';
import { createBucket, s3Server, uploadDir } from '../helpers/s3.ts';
import { checkSampleSync, syncSampleInto } from '../helpers/sample-sync.ts';
import { harnessPython } from './harness.ts';
import { interopSkipReason } from './helpers.ts';
import { PYICEBERG_SNAPSHOT_READER } from './pyiceberg-reader.ts';

const sampleWarehouse = path.join(repoRoot, 'examples', 'replica', 'warehouse');
const sampleData = path.join(sampleWarehouse, 'sales', 'orders', 'data');
const FSSPEC = { 'py-io-impl': 'pyiceberg.io.fsspec.FsspecFileIO' };

/** One cloud backend under test. */
interface Cloud {
  readonly label: string;
  readonly skip: string | false;
  /** Catalog properties that reach the emulator, for this tool. */
  properties(): Record<string, string>;
  /** The same for PyIceberg's fsspec FileIO. */
  pyProperties(): Record<string, string>;
  /** A fresh container / bucket. */
  create(prefix: string): Promise<string>;
  /** Its location with `rest` below it (`abfss://c@acct.dfs.../rest`, `gs://b/rest`). */
  at(container: string, rest: string): string;
  /** The same location as a mapping rule may spell it. */
  atOtherSpelling(container: string, rest: string): string;
  upload(localDir: string, container: string, prefix: string): Promise<void>;
  download(container: string, prefix: string, localDir: string): Promise<void>;
}

const clouds: Cloud[] = [
  {
    label: 'Azure',
    skip: azuriteSkipReason,
    properties: () => azureProperties(azuriteServer!),
    pyProperties: () => ({
      ...FSSPEC,
      'adls.connection-string': azuriteServer!.connectionString,
      'adls.account-name': 'devstoreaccount1',
    }),
    create: (p) => createContainer(azuriteServer!, p),
    at: (c, rest) => abfss(c, rest),
    atOtherSpelling: (c, rest) => wasbs(c, rest),
    upload: (dir, c, p) => uploadDirToAzure(azuriteServer!, dir, c, p),
    download: (c, p, dir) => downloadAzureDir(azuriteServer!, c, p, dir),
  },
  {
    label: 'GCS',
    skip: gcsSkipReason,
    properties: () => gcsProperties(gcsEndpoint!),
    pyProperties: () => ({
      ...FSSPEC,
      'gcs.service.host': gcsEndpoint!,
      'gcs.project-id': 'imsync-test',
      // gcsfs: no credentials for the emulator.
      'gcs.oauth2.token': 'anon',
    }),
    create: (p) => createGcsBucket(gcsEndpoint!, p),
    at: (b, rest) => `gs://${b}/${rest}`,
    atOtherSpelling: (b, rest) => `gs://${b}/${rest}/`,
    upload: (dir, b, p) => uploadDirToGcs(gcsEndpoint!, dir, b, p),
    download: (b, p, dir) => downloadGcsDir(gcsEndpoint!, b, p, dir),
  },
];

type Reads = { metadataLocation: string; reads: Record<string, [number, string]> }[];

/** PyIceberg's reads of each `[catalog db, properties, identifier]`. */
function pyiceberg(
  tables: { db: string; properties?: Record<string, string>; identifier?: string }[],
): Reads {
  const spec = tables.map((t) => ({
    ...(t.identifier ? { identifier: t.identifier } : {}),
    properties: { uri: `sqlite:///${t.db}`, ...(t.properties ?? {}) },
  }));
  const r = spawnSync(harnessPython, ['-c', PYICEBERG_SNAPSHOT_READER, JSON.stringify(spec)], {
    encoding: 'utf8',
    timeout: 300_000,
    // gcsfs's experimental layout probe speaks gRPC over TLS, which the emulator does not serve.
    env: { ...process.env, GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT: 'false' },
  });
  assert.equal(r.status, 0, `PyIceberg failed:\n${r.stderr.slice(-4000)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '[]') as Reads;
}

/** Two add-files runs (one region, then the rest arriving) into a fresh SQLite catalog. */
async function twoAddFilesRuns(
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
  const table = { namespace: ['landing'], name: 'orders' };
  try {
    const opts = {
      table,
      catalog,
      resolve: router.resolver,
      dataPath,
      metadataRoot,
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

for (const cloud of clouds) {
  const skip = requireServer(cloud.label, cloud.skip).skip || interopSkipReason() || false;
  describe(`end to end on ${cloud.label}`, { skip }, () => {
    it('syncs the replica in one container and into another, and across to local disk; PyIceberg reads every snapshot', async (t) => {
      const base = scratchDir(`${cloud.label.toLowerCase()}-e2e`);
      const router = createStorageRouter({ properties: cloud.properties(), where: 'catalog.dr' });
      try {
        const src = await cloud.create('imsync-src');
        await cloud.upload(sampleWarehouse, src, 'warehouse');
        const srcRoot = cloud.at(src, '').replace(/\/$/, '');

        // 1. The DR metadata in the replica's own container (outside the replica).
        await checkSampleSync(
          { storage: router.resolve(srcRoot), resolve: router.resolver, base: srcRoot },
          cloud.label.toLowerCase(),
        );

        // 2. The DR metadata in another container.
        const dr = await cloud.create('imsync-dr');
        const cloudLocation = await syncSampleInto({
          catalogName: 'dr',
          catalogDir: path.join(base, 'cloudcat'),
          tableLocation: cloud.at(src, 'warehouse/sales/orders'),
          warehouse: cloud.at(src, 'warehouse'),
          metadataRoot: cloud.at(dr, 'dr/sales/orders/metadata'),
          resolve: router.resolver,
        });
        assert.ok(cloudLocation.startsWith(cloud.at(dr, 'dr/sales/orders/metadata/')), cloudLocation);

        // 3. That table (metadata naming cloud paths) replicated to local disk and synced there.
        const mirror = path.join(base, 'mirror');
        await cloud.download(src, 'warehouse', path.join(mirror, 'src', 'warehouse'));
        await cloud.download(dr, 'dr', path.join(mirror, 'dr', 'dr'));
        mkdirSync(path.join(base, 'mirrorcat'), { recursive: true });
        const mirrorCatalog = await SqlCatalog.open({
          name: 'dr',
          uri: `sqlite:///${base}/mirrorcat/iceberg_catalog.db`,
          storageFor: router.resolver,
        });
        let mirrorLocation: string;
        try {
          const mappings = [
            {
              source: cloud.atOtherSpelling(src, 'warehouse'),
              target: path.join(mirror, 'src', 'warehouse'),
            },
            { source: cloud.at(dr, 'dr'), target: path.join(mirror, 'dr', 'dr') },
          ];
          const opts = {
            table: { namespace: ['sales'], name: 'orders' },
            catalog: mirrorCatalog,
            tableLocation: path.join(mirror, 'dr', 'dr', 'sales', 'orders'),
            mappings,
            metadataRoot: path.join(base, 'local-dr', 'sales', 'orders', 'metadata'),
            resolve: router.resolver,
          };
          const r = await syncTable(opts);
          assert.equal(r.status, 'committed');
          assert.equal(r.missingFiles, 0);
          mirrorLocation = r.metadataLocation as string;
          const v = await verifyTable({ ...opts });
          assert.deepEqual(v.problems, []);
        } finally {
          await mirrorCatalog.close();
        }

        // 4. The same table replicated to an S3 gateway instead (when the S3 test server is there;
        // scripts/test.sh starts it): its cloud paths mapped to s3://, one router serving both.
        let onS3Db: string | undefined;
        let s3Location: string | undefined;
        const s3 = s3Server;
        if (s3) {
          const bucket = await createBucket(s3, 'imsync-mirror');
          await uploadDir(s3, mirror, bucket, 'mirror');
          const s3Props = {
            's3.endpoint': s3.endpoint,
            's3.access-key-id': s3.accessKeyId,
            's3.secret-access-key': s3.secretAccessKey,
            's3.path-style-access': 'true',
            's3.region': 'us-east-1',
          };
          const both = createStorageRouter({
            properties: { ...cloud.properties(), ...s3Props },
            where: 'catalog.dr',
          });
          mkdirSync(path.join(base, 's3cat'), { recursive: true });
          onS3Db = `${base}/s3cat/iceberg_catalog.db`;
          const s3Catalog = await SqlCatalog.open({
            name: 'dr',
            uri: `sqlite:///${onS3Db}`,
            storageFor: both.resolver,
          });
          try {
            const opts = {
              table: { namespace: ['sales'], name: 'orders' },
              catalog: s3Catalog,
              tableLocation: `s3://${bucket}/mirror/dr/dr/sales/orders`,
              mappings: [
                { source: cloud.at(src, 'warehouse'), target: `s3://${bucket}/mirror/src/warehouse` },
                { source: cloud.atOtherSpelling(dr, 'dr'), target: `s3://${bucket}/mirror/dr/dr` },
              ],
              metadataRoot: `s3://${bucket}/dr/sales/orders/metadata`,
              resolve: both.resolver,
            };
            const r = await syncTable(opts);
            assert.equal(r.status, 'committed');
            s3Location = r.metadataLocation as string;
            assert.deepEqual((await verifyTable(opts)).problems, []);
          } finally {
            await s3Catalog.close();
            await both.close();
          }
        } else {
          t.diagnostic('no S3 test server: the leg onto an S3 gateway was not run');
        }

        // The same sample synced on local disk: the reference reads.
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

        const [onCloud, onMirror, onDisk, onS3] = pyiceberg([
          { db: `${base}/cloudcat/iceberg_catalog.db`, properties: cloud.pyProperties() },
          { db: `${base}/mirrorcat/iceberg_catalog.db` },
          { db: `${base}/localcat/iceberg_catalog.db` },
          ...(onS3Db && s3
            ? [
                {
                  db: onS3Db,
                  properties: {
                    's3.endpoint': s3.endpoint,
                    's3.access-key-id': s3.accessKeyId,
                    's3.secret-access-key': s3.secretAccessKey,
                    's3.region': 'us-east-1',
                  },
                },
              ]
            : []),
        ]);
        if (onS3Db) {
          assert.equal(onS3?.metadataLocation, s3Location);
          assert.deepEqual(onS3?.reads, onDisk?.reads, 'the S3 copy reads as the local table');
        }
        assert.equal(onCloud?.metadataLocation, cloudLocation);
        assert.equal(onMirror?.metadataLocation, mirrorLocation);
        assert.equal(onDisk?.metadataLocation, localLocation);
        assert.ok(Object.keys(onDisk!.reads).length > 0);
        assert.deepEqual(onCloud!.reads, onDisk!.reads);
        assert.deepEqual(onMirror!.reads, onDisk!.reads);
        assert.ok(
          Object.values(onDisk!.reads).some(([rows]) => rows > 0),
          'some snapshot has rows',
        );
        const counts = Object.values(onCloud!.reads).map(([n]) => n);
        t.diagnostic(
          `PyIceberg read ${counts.length} snapshots from ${cloud.label} and from its local copy with the local rows (${counts.join(', ')} rows)`,
        );
      } finally {
        await router.close();
      }
    });

    it('adds files from a landing area on it in two runs; PyIceberg reads what it reads locally', async (t) => {
      const base = scratchDir(`${cloud.label.toLowerCase()}-addfiles`);
      const router = createStorageRouter({ properties: cloud.properties(), where: 'catalog.dr' });
      try {
        const regions = readdirSync(sampleData).sort();
        assert.ok(regions.length >= 2);
        const stage = (dir: string, which: string[]) => {
          for (const r of which) cpSync(path.join(sampleData, r), path.join(dir, r), { recursive: true });
        };
        const landing = await cloud.create('imsync-landing');
        const dr = await cloud.create('imsync-dr');
        const cloudStage = path.join(base, 'stage');
        stage(cloudStage, regions.slice(0, 1));
        await cloud.upload(cloudStage, landing, 'orders');
        const onCloud = await twoAddFilesRuns(
          path.join(base, 'cloudcat'),
          cloud.at(landing, 'orders'),
          cloud.at(dr, 'dr/landing/orders/metadata'),
          router,
          async () => {
            rmSync(cloudStage, { recursive: true });
            stage(cloudStage, regions.slice(1));
            await cloud.upload(cloudStage, landing, 'orders');
          },
        );
        const local = path.join(base, 'landing', 'orders');
        stage(local, regions.slice(0, 1));
        const onDisk = await twoAddFilesRuns(
          path.join(base, 'localcat'),
          local,
          path.join(base, 'dr', 'landing', 'orders', 'metadata'),
          router,
          async () => stage(local, regions.slice(1)),
        );
        for (const [where, r] of [
          [cloud.label, onCloud],
          ['local', onDisk],
        ] as const) {
          assert.equal(r.first.status, 'committed', where);
          assert.equal(r.second.status, 'committed', where);
          assert.ok(r.first.filesAdded > 0 && r.second.filesAdded > 0, `${where}: files in both runs`);
          assert.deepEqual([...r.first.rejected, ...r.second.rejected], [], `${where}: nothing rejected`);
          assert.equal(r.second.footersRead, r.second.filesAdded, `${where}: only new footers read`);
          assert.equal(r.third.status, 'up-to-date', where);
          assert.ok(r.verify.ok, `${where}: ${JSON.stringify(r.verify.problems)}`);
        }
        assert.ok(
          onCloud.second.metadataLocation?.startsWith(cloud.at(dr, 'dr/')),
          String(onCloud.second.metadataLocation),
        );
        assert.equal(onCloud.second.filesAdded, onDisk.second.filesAdded);

        const [cloudRead, diskRead] = pyiceberg([
          {
            db: `${base}/cloudcat/iceberg_catalog.db`,
            properties: cloud.pyProperties(),
            identifier: 'landing.orders',
          },
          { db: `${base}/localcat/iceberg_catalog.db`, identifier: 'landing.orders' },
        ]);
        assert.equal(cloudRead?.metadataLocation, onCloud.second.metadataLocation);
        const reads = Object.values(cloudRead?.reads ?? {});
        assert.equal(reads.length, 2);
        assert.deepEqual(reads, Object.values(diskRead?.reads ?? {}));
        assert.ok((reads[1]?.[0] ?? 0) > (reads[0]?.[0] ?? 0), 'the second snapshot has more rows');
        t.diagnostic(
          `PyIceberg read both add-files snapshots from ${cloud.label} (${reads.map(([n]) => n).join(', ')} rows)`,
        );
      } finally {
        await router.close();
      }
    });
  });
}
