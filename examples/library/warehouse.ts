/**
 * The library API in two steps, on the bundled sample replica (examples/replica):
 *
 * 1. one table: open a SQLite DR catalog, sync `sales.orders` from its replicated directory;
 * 2. a small warehouse: three copies of the table under two namespaces, a policy given as YAML,
 *    `syncAll` over it (bounded parallelism, one report per table), then `warehouseStatus`.
 *
 * Run it from the repository root after the set-up (`./scripts/setup.sh`):
 *
 *   node examples/library/warehouse.ts [SCRATCH_DIR]
 *
 * It writes only below SCRATCH_DIR (default: a new temporary directory) and prints, as its last
 * line, a JSON summary (test/unit/examples.test.ts runs it and checks that summary).
 */
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createStorageRouter,
  parsePolicy,
  SqlCatalog,
  silentLogger,
  syncAll,
  syncTable,
  warehouseStatus,
} from 'iceberg-metadata-sync';

const sample = fileURLToPath(new URL('../replica/warehouse/sales/orders', import.meta.url));
const scratch = path.resolve(process.argv[2] ?? mkdtempSync(path.join(tmpdir(), 'iceberg-sync-example-')));

// --- 1. One table -------------------------------------------------------------------------------
const one = path.join(scratch, 'one');
const replicaTable = path.join(one, 'replica', 'sales', 'orders');
cpSync(sample, replicaTable, { recursive: true }); // what replication delivered
mkdirSync(path.join(one, 'dr'), { recursive: true });

const router = createStorageRouter(); // every storage backend (local, s3, hdfs, memory)
const catalog = await SqlCatalog.open({
  name: 'dr',
  uri: `sqlite:///${path.join(one, 'dr', 'catalog.db')}`,
  storageFor: router.resolver,
});
const report = await syncTable({
  table: { namespace: ['sales'], name: 'orders' },
  catalog,
  tableLocation: replicaTable,
  // The sample's metadata names the production location; map it onto the replica.
  mappings: [{ source: 'hdfs://prod-nn:8020/warehouse/sales/orders', target: replicaTable }],
  metadataRoot: path.join(one, 'dr', 'sales', 'orders', 'metadata'), // outside the replica
  resolve: router.resolver,
  logger: silentLogger,
});
await catalog.close();
await router.close();
console.log(
  `one table: ${report.status}, snapshot ${report.snapshotId}, ${report.manifestsRewritten} manifests rewritten`,
);

// --- 2. A small warehouse -----------------------------------------------------------------------
const wh = path.join(scratch, 'warehouse');
const replica = path.join(wh, 'replica');
for (const dir of ['sales/orders', 'sales/returns', 'web.db/orders']) {
  cpSync(sample, path.join(replica, dir), { recursive: true });
}
// The policy is the `replication:` section of the configuration file (config/warehouse.example.yaml);
// `loadPolicy(file, flags)` reads it from a file, `parsePolicy` from text.
const policy = await parsePolicy(`
catalog:
  dr:
    uri: sqlite:///${path.join(wh, 'dr', 'catalog.db')}
    warehouse: ${path.join(wh, 'dr', 'iceberg')}
replication:
  replicated-paths: [${replica}]
  exclude: ['*.returns']
  concurrency: 2
  rpo: 1h
`);
mkdirSync(path.join(wh, 'dr'), { recursive: true });
const run = await syncAll(policy, {
  logger: silentLogger,
  onTableDone: (t) => console.log(`  ${t.table}: ${t.status} (snapshot ${t.snapshotId})`),
});
console.log(`warehouse: ${run.status}, exit code ${run.exitCode}, ${run.tables.length} tables`);
const status = await warehouseStatus(policy, { logger: silentLogger });
for (const s of status)
  console.log(`  ${s.table}: lag ${s.lagSeconds} s, within ${s.thresholdSeconds} s: ${s.withinThreshold}`);

console.log(
  JSON.stringify({
    oneTable: { status: report.status, snapshotId: report.snapshotId },
    warehouse: {
      status: run.status,
      exitCode: run.exitCode,
      tables: run.tables.map((t) => ({ table: t.table, status: t.status, snapshotId: t.snapshotId })),
    },
    status: status.map((s) => ({
      table: s.table,
      lagSeconds: s.lagSeconds,
      withinThreshold: s.withinThreshold,
    })),
  }),
);
