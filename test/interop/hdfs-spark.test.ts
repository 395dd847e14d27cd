/**
 * Spark reads a table synced onto HDFS: the bundled sample replica is copied into a real HDFS
 * (Hadoop's MiniDFSCluster, started by scripts/start-hdfs.sh) under the nameservice `drns` and
 * synced there with a SQLite catalog; the same sample is synced on the local file system. Spark
 * (with Iceberg's runtime and its JDBC catalog, and pyspark's own Hadoop client speaking HDFS RPC,
 * `drns` configured as an HA nameservice the way hdfs-site.xml does it) must read every snapshot of
 * the HDFS table with exactly the rows it reads from the local one. The same for a table made by
 * add-files from the replica's data files on HDFS.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { addFiles } from '../../src/addfiles/engine.ts';
import { SqlCatalog } from '../../src/catalog/sql/sql.ts';
import { StorageRouter } from '../../src/storage/router.ts';
import { registerHdfsStorage } from '../../src/storage/webhdfs/index.ts';
import { hdfsServer, hdfsSkipReason, uniqueDir, uploadDirToHdfs } from '../helpers/hdfs.ts';
import { repoRoot, scratchDir } from '../helpers/paths.ts';
import { syncSampleInto } from '../helpers/sample-sync.ts';
import { harnessPython } from './harness.ts';
import { interopSkipReason } from './helpers.ts';

const sampleWarehouse = path.join(repoRoot, 'examples', 'replica', 'warehouse');

/**
 * Reads every snapshot of each catalog's tables in one Spark session: row count and a digest of the
 * sorted rows, by snapshot id, keyed `<catalog>.<table>`.
 */
const READER = `
import hashlib, json, sys
sys.path.insert(0, sys.argv[1])
from iceberg_harness.env import spark_session
spec = json.loads(sys.argv[2])
conf = dict(spec["conf"])
for name, db in spec["catalogs"].items():
    conf[f"spark.sql.catalog.{name}"] = "org.apache.iceberg.spark.SparkCatalog"
    conf[f"spark.sql.catalog.{name}.type"] = "jdbc"
    conf[f"spark.sql.catalog.{name}.uri"] = f"jdbc:sqlite:{db['db']}"
    conf[f"spark.sql.catalog.{name}.warehouse"] = db["warehouse"]
spark = spark_session(conf)
out = {}
for name in spec["catalogs"]:
  for ident in spec["tables"]:
    t = f"{name}.{ident}"
    location = spark.sql(f"SELECT file FROM {t}.metadata_log_entries ORDER BY timestamp DESC LIMIT 1").collect()[0][0]
    reads = {}
    for (sid,) in spark.sql(f"SELECT snapshot_id FROM {t}.snapshots ORDER BY committed_at").collect():
        rows = sorted(spark.read.option("snapshot-id", sid).table(t).toJSON().collect())
        reads[str(sid)] = [len(rows), hashlib.sha256("\\n".join(rows).encode()).hexdigest()]
    out[t] = {"metadataLocation": location, "reads": reads}
print(json.dumps(out))
`;

/** add-files of the replica's data files (position deletes left out) into landing.orders. */
async function addInto(
  name: string,
  catalogDir: string,
  dataPath: string,
  metadataRoot: string,
  router: StorageRouter,
) {
  const catalog = await SqlCatalog.open({
    name,
    uri: `sqlite:///${catalogDir}/iceberg_catalog.db`,
    storageFor: router.resolver,
  });
  try {
    const r = await addFiles({
      table: { namespace: ['landing'], name: 'orders' },
      catalog,
      resolve: router.resolver,
      dataPath,
      metadataRoot,
      exclude: ['**/*-deletes.parquet'],
      create: { partitionBy: ['region'] },
    });
    assert.equal(r.status, 'committed');
    assert.deepEqual(r.rejected, []);
    return r;
  } finally {
    await catalog.close();
  }
}

const skip =
  hdfsSkipReason ||
  (hdfsServer && !hdfsServer.rpc ? 'IMSYNC_HDFS_RPC is unset (scripts/start-hdfs.sh sets it)' : false) ||
  interopSkipReason() ||
  false;

describe('Spark reads a table synced onto HDFS', { skip }, () => {
  it('reads every snapshot through the JDBC catalog with the rows of the same table synced locally', async (t) => {
    const server = hdfsServer!;
    const base = scratchDir('hdfs-spark');
    const router = registerHdfsStorage(new StorageRouter(), { user: server.user }, [
      { prefix: 'hdfs://drns', options: { namenodes: [server.namenode] } },
    ]);
    const dir = uniqueDir('spark');
    await uploadDirToHdfs(server, sampleWarehouse, `${dir}/warehouse`);
    const hdfsLocation = await syncSampleInto({
      catalogName: 'drhdfs',
      catalogDir: path.join(base, 'hdfscat'),
      tableLocation: `hdfs://drns${dir}/warehouse/sales/orders`,
      warehouse: `hdfs://drns${dir}/warehouse`,
      metadataRoot: `hdfs://drns${dir}/dr/sales/orders/metadata`,
      resolve: router.resolver,
    });
    const localWarehouse = path.join(base, 'replica', 'warehouse');
    cpSync(sampleWarehouse, localWarehouse, { recursive: true });
    const localLocation = await syncSampleInto({
      catalogName: 'drlocal',
      catalogDir: path.join(base, 'localcat'),
      tableLocation: path.join(localWarehouse, 'sales', 'orders'),
      warehouse: localWarehouse,
      metadataRoot: path.join(base, 'dr', 'sales', 'orders', 'metadata'),
      resolve: router.resolver,
    });

    // add-files on both: the data files of the HDFS replica, and of the local one.
    const addedHdfs = await addInto(
      'drhdfs',
      path.join(base, 'hdfscat'),
      `hdfs://drns${dir}/warehouse/sales/orders/data`,
      `hdfs://drns${dir}/dr/landing/orders/metadata`,
      router,
    );
    const addedLocal = await addInto(
      'drlocal',
      path.join(base, 'localcat'),
      path.join(localWarehouse, 'sales', 'orders', 'data'),
      path.join(base, 'dr', 'landing', 'orders', 'metadata'),
      router,
    );
    assert.equal(addedHdfs.filesAdded, addedLocal.filesAdded);

    const spec = {
      tables: ['sales.orders', 'landing.orders'],
      conf: {
        // drns as an HA nameservice, as hdfs-site.xml declares one (a single NameNode here).
        'spark.hadoop.dfs.nameservices': 'drns',
        'spark.hadoop.dfs.ha.namenodes.drns': 'nn1',
        'spark.hadoop.dfs.namenode.rpc-address.drns.nn1': server.rpc!,
        'spark.hadoop.dfs.client.failover.proxy.provider.drns':
          'org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider',
      },
      catalogs: {
        drhdfs: { db: path.join(base, 'hdfscat', 'iceberg_catalog.db'), warehouse: `hdfs://drns${dir}/dr` },
        drlocal: { db: path.join(base, 'localcat', 'iceberg_catalog.db'), warehouse: path.join(base, 'dr') },
      },
    };
    const r = spawnSync(harnessPython, ['-c', READER, path.join(repoRoot, 'harness'), JSON.stringify(spec)], {
      encoding: 'utf8',
      timeout: 600_000,
      env: { ...process.env, HADOOP_USER_NAME: server.user },
    });
    assert.equal(r.status, 0, `Spark failed:\n${r.stderr.slice(-4000)}`);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<
      string,
      { metadataLocation: string; reads: Record<string, [number, string]> }
    >;
    const hdfs = out['drhdfs.sales.orders']!;
    const local = out['drlocal.sales.orders']!;
    assert.equal(hdfs.metadataLocation, hdfsLocation);
    assert.equal(local.metadataLocation.replace(/^file:/, ''), localLocation.replace(/^file:/, ''));
    assert.ok(Object.keys(hdfs.reads).length > 0);
    assert.deepEqual(hdfs.reads, local.reads);
    // The add-files tables: snapshot ids differ, the rows must not.
    const addedOnHdfs = out['drhdfs.landing.orders']!;
    assert.equal(addedOnHdfs.metadataLocation, addedHdfs.metadataLocation);
    const addedReads = Object.values(addedOnHdfs.reads);
    assert.deepEqual(addedReads, Object.values(out['drlocal.landing.orders']!.reads));
    assert.equal(addedReads[0]?.[0], Number(addedHdfs.recordsAdded), 'Spark reads every added row');
    const counts = Object.values(hdfs.reads).map(([n]) => n);
    assert.ok(
      counts.some((n) => n > 0),
      'some snapshot has rows',
    );
    t.diagnostic(
      `Spark read ${counts.length} synced snapshots from HDFS with the local rows (${counts.join(', ')} rows), and the add-files table (${addedReads[0]?.[0]} rows)`,
    );
  });
});
