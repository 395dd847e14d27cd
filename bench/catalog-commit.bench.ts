/**
 * Benchmark of catalog commits (not a test): for each catalog at hand, registers a table and then
 * commits N new metadata files one after another with compare-and-swap, as `sync` does once per
 * table and run, and prints commits per second (and table loads per second). Each commit writes
 * its small metadata file first, as every catalog's commit does.
 *
 * Catalogs: SQL on SQLite (always, under `<repo>/.work/bench/catalog`, git-ignored), SQL on
 * PostgreSQL when IMSYNC_PG_URL names a server (`source scripts/start-postgres.sh`), Hive
 * Metastore 3.x / 4.x when IMSYNC_HIVE3_URI / IMSYNC_HIVE4_URI name one
 * (`source scripts/start-hive.sh`). A catalog type adds one entry to `catalogs()`; the timing
 * is generic over the `Catalog` contract.
 *
 * Run: node bench/catalog-commit.bench.ts [commits]     (default 200)
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Catalog } from '../src/catalog/catalog.ts';
import { HiveCatalog, parseMetastoreUris } from '../src/catalog/hive/hive.ts';
import { SqlCatalog } from '../src/catalog/sql/sql.ts';
import { LocalStorage } from '../src/storage/local/local.ts';

const COMMITS = Number(process.argv[2] ?? 200);
if (!Number.isInteger(COMMITS) || COMMITS < 1) {
  console.error('usage: node bench/catalog-commit.bench.ts [commits]');
  process.exit(2);
}

const repoRoot = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), '..');
const work = nodePath.join(repoRoot, '.work', 'bench', 'catalog');
const storage = new LocalStorage();

/** One catalog under measure. */
interface BenchCatalog {
  readonly name: string;
  open(): Promise<Catalog>;
}

function catalogs(): BenchCatalog[] {
  const out: BenchCatalog[] = [
    {
      name: 'SQL on SQLite',
      open: () =>
        SqlCatalog.open({ name: 'bench', uri: `sqlite:///${work}/catalog.db`, storageFor: () => storage }),
    },
  ];
  const pg = process.env.IMSYNC_PG_URL;
  if (pg) {
    out.push({
      name: 'SQL on PostgreSQL',
      open: () => SqlCatalog.open({ name: 'bench', uri: pg, storageFor: () => storage }),
    });
  }
  for (const v of ['3', '4']) {
    const uri = process.env[`IMSYNC_HIVE${v}_URI`];
    if (uri) {
      out.push({
        name: `Hive Metastore ${v}.x`,
        open: () =>
          HiveCatalog.open({ name: 'bench', addresses: parseMetastoreUris(uri), storageFor: () => storage }),
      });
    }
  }
  return out;
}

/** A small valid table metadata document (what the Hive catalog reads for the table's shape). */
function metadata(location: string, n: number): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      'format-version': 2,
      'table-uuid': randomUUID(),
      location,
      'last-sequence-number': n,
      'last-updated-ms': Date.now(),
      'last-column-id': 1,
      'current-schema-id': 0,
      schemas: [
        { type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'id', required: false, type: 'long' }] },
      ],
      'default-spec-id': 0,
      'partition-specs': [{ 'spec-id': 0, fields: [] }],
      'last-partition-id': 999,
      'default-sort-order-id': 0,
      'sort-orders': [{ 'order-id': 0, fields: [] }],
      properties: { 'bench.commit': String(n) },
      'current-snapshot-id': -1,
      snapshots: [],
    }),
  );
}

async function bench(c: BenchCatalog): Promise<void> {
  const catalog = await c.open();
  try {
    const id = { namespace: ['bench'], name: `t_${randomUUID().slice(0, 8)}` };
    const tableDir = nodePath.join(work, 'tables', id.name);
    const next = () => nodePath.join(tableDir, 'metadata', `${randomUUID()}.metadata.json`);
    await catalog.ensureNamespace(id.namespace);
    let current = await catalog.commitTable(id, undefined, next(), metadata(tableDir, 0));
    const t0 = performance.now();
    for (let i = 1; i <= COMMITS; i++)
      current = await catalog.commitTable(id, current, next(), metadata(tableDir, i));
    const commitMs = performance.now() - t0;
    const t1 = performance.now();
    for (let i = 0; i < COMMITS; i++) await catalog.loadTable(id);
    const loadMs = performance.now() - t1;
    console.log(
      `${c.name.padEnd(22)} ${((COMMITS * 1000) / commitMs).toFixed(1).padStart(8)} commits/s` +
        `  ${((COMMITS * 1000) / loadMs).toFixed(1).padStart(8)} loads/s  (${COMMITS} sequential commits)`,
    );
  } finally {
    await catalog.close();
  }
}

await rm(work, { recursive: true, force: true });
await mkdir(work, { recursive: true });
for (const c of catalogs()) await bench(c);
await rm(work, { recursive: true, force: true });
