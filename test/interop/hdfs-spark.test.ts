/**
 * Spark reads a table synced onto HDFS: the bundled sample replica is copied into a real HDFS
 * (Hadoop's MiniDFSCluster, started by scripts/start-hdfs.sh) under the nameservice `drns` and
 * synced there with a SQLite catalog; the same sample is synced on the local file system. Spark
 * (with Iceberg's runtime and its JDBC catalog, and pyspark's own Hadoop client speaking HDFS RPC,
 * `drns` configured as an HA nameservice the way hdfs-site.xml does it) must read every snapshot of
 * the HDFS table with exactly the rows it reads from the local one.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { SqlCatalog } from '../../src/catalog/sql.ts';
import { StorageRouter } from '../../src/storage/router.ts';
import { registerHdfsStorage } from '../../src/storage/webhdfs.ts';
import { syncTable } from '../../src/sync/engine.ts';
import { hdfsServer, hdfsSkipReason, uniqueDir, uploadDirToHdfs } from '../helpers/hdfs.ts';
import { repoRoot, scratchDir } from '../helpers/paths.ts';
import { harnessPython } from './harness.ts';
import { interopSkipReason } from './helpers.ts';

const SOURCE_WAREHOUSE = 'hdfs://prod-nn:8020/warehouse';
const sampleWarehouse = path.join(repoRoot, 'examples', 'replica', 'warehouse');
const table = { namespace: ['sales'], name: 'orders' };

/**
 * Reads every snapshot of each catalog's sales.orders in one Spark session: row count and a digest
 * of the sorted rows, by snapshot id.
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
    t = f"{name}.sales.orders"
    location = spark.sql(f"SELECT file FROM {t}.metadata_log_entries ORDER BY timestamp DESC LIMIT 1").collect()[0][0]
    reads = {}
    for (sid,) in spark.sql(f"SELECT snapshot_id FROM {t}.snapshots").collect():
        rows = sorted(spark.read.option("snapshot-id", sid).table(t).toJSON().collect())
        reads[str(sid)] = [len(rows), hashlib.sha256("\\n".join(rows).encode()).hexdigest()]
    out[name] = {"metadataLocation": location, "reads": reads}
print(json.dumps(out))
`;

async function syncInto(
  name: string,
  catalogDir: string,
  tableLocation: string,
  warehouse: string,
  metadataRoot: string,
  router: StorageRouter,
) {
  mkdirSync(catalogDir, { recursive: true });
  const catalog = await SqlCatalog.open({
    name,
    uri: `sqlite:///${catalogDir}/iceberg_catalog.db`,
    storageFor: router.resolver,
  });
  try {
    const r = await syncTable({
      table,
      catalog,
      tableLocation,
      mappings: [{ source: SOURCE_WAREHOUSE, target: warehouse }],
      metadataRoot,
      resolve: router.resolver,
    });
    assert.equal(r.status, 'committed');
    return r.metadataLocation!;
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
    const hdfsLocation = await syncInto(
      'drhdfs',
      path.join(base, 'hdfscat'),
      `hdfs://drns${dir}/warehouse/sales/orders`,
      `hdfs://drns${dir}/warehouse`,
      `hdfs://drns${dir}/dr/sales/orders/metadata`,
      router,
    );
    const localWarehouse = path.join(base, 'replica', 'warehouse');
    cpSync(sampleWarehouse, localWarehouse, { recursive: true });
    const localLocation = await syncInto(
      'drlocal',
      path.join(base, 'localcat'),
      path.join(localWarehouse, 'sales', 'orders'),
      localWarehouse,
      path.join(base, 'dr', 'sales', 'orders', 'metadata'),
      router,
    );

    const spec = {
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
    assert.equal(out.drhdfs!.metadataLocation, hdfsLocation);
    assert.equal(out.drlocal!.metadataLocation.replace(/^file:/, ''), localLocation.replace(/^file:/, ''));
    assert.ok(Object.keys(out.drhdfs!.reads).length > 0);
    assert.deepEqual(out.drhdfs!.reads, out.drlocal!.reads);
    const counts = Object.values(out.drhdfs!.reads).map(([n]) => n);
    assert.ok(
      counts.some((n) => n > 0),
      'some snapshot has rows',
    );
    t.diagnostic(
      `Spark read ${counts.length} snapshots from HDFS with the local rows (${counts.join(', ')} rows)`,
    );
  });
});
