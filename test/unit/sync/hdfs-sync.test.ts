/**
 * End to end on HDFS: the bundled sample replicated table (examples/replica, whose metadata names
 * hdfs://prod-nn:8020/warehouse) is copied into a real HDFS (Hadoop's MiniDFSCluster, started by
 * scripts/start-hdfs.sh) under another nameservice, as DistCp would, synced with the DR metadata
 * root on the same HDFS and a SQLite catalog, then checked: every path the committed metadata names
 * is on the DR nameservice, every live one exists with its recorded size, a second run is up to
 * date, and verify is clean. Also: add-files over Parquet files on HDFS, and a sync on an HA pair
 * across a NameNode failover. Skipped, saying why, without a cluster. Expectations come from the
 * sample's own metadata, never from constants.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { addFiles } from '../../../src/addfiles/engine.ts';
import { HadoopCatalog } from '../../../src/catalog/hadoop/hadoop.ts';
import { SqlCatalog } from '../../../src/catalog/sql/sql.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import { registerHdfsStorage, type WebHdfsStorage } from '../../../src/storage/webhdfs/index.ts';
import { syncTable } from '../../../src/sync/engine.ts';
import { verifyTable } from '../../../src/sync/verify.ts';
import type { PathMappingRule } from '../../../src/table/path-mapping.ts';
import {
  hdfsServer,
  hdfsSkipReason,
  type PrivateHdfs,
  privateHdfsSkipReason,
  putRaw,
  startPrivateHdfs,
  uniqueDir,
  uploadDirToHdfs,
} from '../../helpers/hdfs.ts';
import { repoRoot, scratchDir } from '../../helpers/paths.ts';
import { requireServer } from '../../helpers/requires.ts';
import {
  checkSampleHadoopCatalogSync,
  checkSampleSync,
  SAMPLE_SOURCE_WAREHOUSE,
} from '../../helpers/sample-sync.ts';

const SOURCE_WAREHOUSE = SAMPLE_SOURCE_WAREHOUSE;
const sampleWarehouse = path.join(repoRoot, 'examples', 'replica', 'warehouse');

describe('sync with the replica and the DR metadata on HDFS', requireServer('HDFS', hdfsSkipReason), () => {
  const server = hdfsServer!;
  let router: StorageRouter;
  let hdfs: WebHdfsStorage;
  let base: string;
  let dir: string;

  before(async () => {
    // The DR cluster is the nameservice "drns"; its NameNode is the test cluster's.
    router = registerHdfsStorage(new StorageRouter(), { user: server.user }, [
      { prefix: 'hdfs://drns', options: { namenodes: [server.namenode] } },
    ]);
    hdfs = router.resolve('hdfs://drns/') as WebHdfsStorage;
    dir = uniqueDir('e2e');
    base = `hdfs://drns${dir}`;
    await uploadDirToHdfs(server, sampleWarehouse, `${dir}/warehouse`);
  });

  const onHdfs = () => ({ storage: hdfs, resolve: router.resolver, base });

  it('commits metadata naming only existing hdfs:// paths, then is up to date and verifies clean', async () => {
    await checkSampleSync(onHdfs(), 'hdfs');
  });

  it('commits to a Hadoop-layout catalog whose warehouse is on HDFS', async () => {
    await checkSampleHadoopCatalogSync(onHdfs());
  });
});

describe(
  'add-files with the data files and the DR metadata on HDFS',
  requireServer('HDFS', hdfsSkipReason),
  () => {
    it('creates the table from Parquet files on HDFS, then adds only new ones', async () => {
      const server = hdfsServer!;
      const router = registerHdfsStorage(new StorageRouter(), { user: server.user }, [
        { prefix: 'hdfs://drns', options: { namenodes: [server.namenode] } },
      ]);
      const dir = uniqueDir('addfiles');
      const parquet = (seed: number) =>
        new Uint8Array(
          parquetWriteBuffer({
            columnData: [
              {
                name: 'id',
                data: [0n, 1n, 2n].map((i) => BigInt(seed * 100) + i),
                type: 'INT64',
                nullable: true,
              },
              { name: 'name', data: ['a', 'b', `s${seed}`], type: 'STRING', nullable: true },
            ],
          }),
        );
      // Written by plain WebHDFS calls, as a replication would.
      await putRaw(server, `${dir}/events/region=eu/a.parquet`, parquet(1));
      await putRaw(server, `${dir}/events/region=us/b.parquet`, parquet(2));
      const local = scratchDir('hdfs-addfiles');
      const catalog = await SqlCatalog.open({
        name: 'dr',
        uri: `sqlite:///${local}/iceberg_catalog.db`,
        storageFor: router.resolver,
      });
      try {
        const opts = {
          table: { namespace: ['db'], name: 'events' },
          catalog,
          resolve: router.resolver,
          dataPath: `hdfs://drns${dir}/events`,
          metadataRoot: `hdfs://drns${dir}/dr/db/events/metadata`,
          create: { partitionBy: ['region'] },
        };
        const first = await addFiles(opts);
        assert.equal(first.status, 'committed');
        assert.equal(first.created, true);
        assert.equal(first.filesAdded, 2);
        assert.equal(first.recordsAdded, '6');
        assert.ok(first.metadataLocation?.startsWith(`hdfs://drns${dir}/dr/db/events/metadata/`));
        assert.equal((await addFiles(opts)).status, 'up-to-date');
        await putRaw(server, `${dir}/events/region=eu/c.parquet`, parquet(3));
        const third = await addFiles(opts);
        assert.equal(third.status, 'committed');
        assert.equal(third.filesAdded, 1);
        assert.equal(third.footersRead, 1, 'only the new footer is read');
      } finally {
        await catalog.close();
      }
    });
  },
);

describe(
  'sync on an HA nameservice through a NameNode failover',
  requireServer('private HDFS minicluster', privateHdfsSkipReason),
  () => {
    let cluster: PrivateHdfs;
    before(async () => {
      cluster = await startPrivateHdfs({ ha: true });
    });
    after(async () => {
      await cluster?.stop();
    });

    it('commits with the standby listed first, fails over between runs, and verifies clean', async () => {
      const [nn0, nn1] = cluster.namenodes as [string, string];
      const dir = uniqueDir('ha');
      await uploadDirToHdfs({ namenode: nn0, user: cluster.user }, sampleWarehouse, `${dir}/warehouse`);
      // The nameservice as hdfs-site.xml would list it, the standby first.
      const router = registerHdfsStorage(new StorageRouter(), { user: cluster.user, retryDelayMs: 50 }, [
        { prefix: 'hdfs://hans', options: { namenodes: [nn1, nn0] } },
      ]);
      const hdfs = router.resolve('hdfs://hans/') as WebHdfsStorage;
      const base = `hdfs://hans${dir}`;
      const table = { namespace: ['sales'], name: 'orders' };
      const metadataRoot = `${base}/hadoop-wh/sales/orders/metadata`;
      const catalog = new HadoopCatalog({ name: 'h', warehouse: `${base}/hadoop-wh`, storage: hdfs });
      const mappings: PathMappingRule[] = [{ source: SOURCE_WAREHOUSE, target: `${base}/warehouse` }];
      const opts = {
        table,
        catalog,
        tableLocation: `${base}/warehouse/sales/orders`,
        mappings,
        metadataRoot,
        resolve: router.resolver,
      };
      const first = await syncTable(opts);
      assert.equal(first.status, 'committed');
      assert.equal(hdfs.activeNamenode, nn0);
      await cluster.command('failover 1');
      // The next run starts on the NameNode that is standby now, and moves over by itself.
      assert.equal((await syncTable(opts)).status, 'up-to-date');
      assert.equal(hdfs.activeNamenode, nn1);
      const v = await verifyTable({ table, catalog, mappings, metadataRoot, resolve: router.resolver });
      assert.deepEqual(v.problems, []);
      // Writes after the failover go to the new active NameNode.
      await hdfs.write(`${base}/after-failover.txt`, new TextEncoder().encode('x'), { ifNotExists: true });
      assert.equal(new TextDecoder().decode(await hdfs.read(`${base}/after-failover.txt`)), 'x');
    });
  },
);
