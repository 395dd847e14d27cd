/**
 * Benchmark of the rewrite-mode sync engine (not a test). Builds a synthetic replicated Iceberg
 * v2 table — metadata naming `hdfs://prod-nn:8020/warehouse/db/events/...`, files under
 * `<scratch>/replica/db/events/...` — then times, into a SQLite DR catalog:
 *
 * 1. a full sync of every commit;
 * 2. an incremental sync after one more commit of 50 data files (1 manifest, 1 manifest list);
 * 3. a no-op sync (up to date, no listings);
 * 4. `verifyTable` of the committed DR table.
 *
 * Scratch data goes to `<repo>/.work/bench/sync/` (git-ignored), rebuilt on every run.
 *
 * Run: node bench/sync.bench.ts [dataFiles] [commits]     (default 10000 20)
 */
import { rm } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SqlCatalog } from '../src/catalog/sql/sql.ts';
import { StorageRouter } from '../src/storage/router.ts';
import { type SyncTableOptions, syncTable } from '../src/sync/engine.ts';
import type { SyncReport } from '../src/sync/report.ts';
import { verifyTable } from '../src/sync/verify.ts';
import type { PathMappingRule } from '../src/table/path-mapping.ts';
import { SyntheticTableWriter } from './synthetic-table.ts';

const DATA_FILES = Number(process.argv[2] ?? 10_000);
const COMMITS = Number(process.argv[3] ?? 20);
const PARTITIONS = 100;
const INCREMENT_FILES = 50;
if (!Number.isInteger(DATA_FILES) || !Number.isInteger(COMMITS) || DATA_FILES < 1 || COMMITS < 1) {
  console.error('usage: node bench/sync.bench.ts [dataFiles] [commits]');
  process.exit(2);
}

const repoRoot = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), '..');
const scratch = nodePath.join(repoRoot, '.work', 'bench', 'sync');
const SOURCE_WAREHOUSE = 'hdfs://prod-nn:8020/warehouse';
const replicaWarehouse = nodePath.join(scratch, 'replica');
const tableLocation = nodePath.join(replicaWarehouse, 'db', 'events');
const metadataRoot = nodePath.join(scratch, 'dr', 'db', 'events', 'metadata');
const mappings: PathMappingRule[] = [{ source: SOURCE_WAREHOUSE, target: replicaWarehouse }];

const fmtInt = (n: number) => n.toLocaleString('en-US');
const fmtMs = (ms: number) => `${ms < 10 ? ms.toFixed(1) : fmtInt(Math.round(ms))} ms`;

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

await rm(scratch, { recursive: true, force: true });
const table = new SyntheticTableWriter({
  localLocation: tableLocation,
  sourceLocation: `${SOURCE_WAREHOUSE}/db/events`,
  partitions: PARTITIONS,
});

// 1. The replicated table: COMMITS appends spreading DATA_FILES files over the partitions.
const build = await timed(async () => {
  for (let k = 0; k < COMMITS; k++) {
    const files = Math.floor(DATA_FILES / COMMITS) + (k < DATA_FILES % COMMITS ? 1 : 0);
    await table.commit(files);
  }
});
console.log(
  `node ${process.version}; table: ${fmtInt(table.dataFiles)} data files in ${PARTITIONS} partitions, ` +
    `${COMMITS} commits (v1..v${COMMITS}), built in ${fmtMs(build.ms)}`,
);
console.log(`scratch: ${scratch}`);

const resolve = new StorageRouter().resolver;
const catalog = await SqlCatalog.open({
  name: 'dr',
  uri: `sqlite:///${nodePath.join(scratch, 'catalog.db')}`,
  storageFor: resolve,
});
const syncOptions: SyncTableOptions = {
  table: { namespace: ['db'], name: 'events' },
  catalog,
  tableLocation,
  mappings,
  metadataRoot,
  resolve,
};

interface Row {
  readonly phase: string;
  readonly status: string;
  readonly ms: number;
  readonly manifests: string;
  readonly lists: string;
  readonly reused: string;
  readonly listings: string;
  readonly dataFiles: string;
  readonly newFiles: string;
}
const rows: Row[] = [];
const problems: string[] = [];

function expect(phase: string, what: string, actual: unknown, expected: unknown): void {
  if (actual !== expected)
    problems.push(`${phase}: ${what} is ${String(actual)}, expected ${String(expected)}`);
}

async function runSync(phase: string, newFiles: number): Promise<SyncReport> {
  const { ms, value: r } = await timed(() => syncTable(syncOptions));
  rows.push({
    phase,
    status: r.status,
    ms,
    manifests: fmtInt(r.manifestsRewritten),
    lists: fmtInt(r.manifestListsRewritten),
    reused: fmtInt(r.manifestsReused),
    listings: fmtInt(r.listings),
    dataFiles: fmtInt(table.dataFiles),
    newFiles: fmtInt(newFiles),
  });
  if (r.missingFiles > 0)
    problems.push(`${phase}: ${r.missingFiles} missing file(s), e.g. ${JSON.stringify(r.missing[0])}`);
  if (r.skippedVersions.length > 0) problems.push(`${phase}: skipped ${JSON.stringify(r.skippedVersions)}`);
  return r;
}

// 2. Full sync.
const full = await runSync('full', table.dataFiles);
expect('full', 'status', full.status, 'committed');
expect('full', 'manifests rewritten', full.manifestsRewritten, COMMITS);
expect('full', 'manifest lists rewritten', full.manifestListsRewritten, COMMITS);
expect(
  'full',
  'source metadata',
  full.sourceMetadata,
  nodePath.join(tableLocation, 'metadata', `v${COMMITS}.metadata.json`),
);

// 3. One more commit at the source, then an incremental sync.
const before = table.dataFiles;
await table.commit(INCREMENT_FILES);
const incremental = await runSync('incremental', table.dataFiles - before);
expect('incremental', 'status', incremental.status, 'committed');
expect('incremental', 'manifests rewritten', incremental.manifestsRewritten, 1);
expect('incremental', 'manifest lists rewritten', incremental.manifestListsRewritten, 1);
expect(
  'incremental',
  'source metadata',
  incremental.sourceMetadata,
  nodePath.join(tableLocation, 'metadata', `v${COMMITS + 1}.metadata.json`),
);

// 4. Nothing new: a no-op.
const noop = await runSync('no-op', 0);
expect('no-op', 'status', noop.status, 'up-to-date');
expect('no-op', 'manifests rewritten', noop.manifestsRewritten, 0);
expect('no-op', 'manifest lists rewritten', noop.manifestListsRewritten, 0);
expect('no-op', 'listings', noop.listings, 0);

// 5. Verify the committed DR table.
const verify = await timed(() =>
  verifyTable({ table: syncOptions.table, catalog, mappings, metadataRoot, resolve }),
);
await catalog.close();
expect('verify', 'ok', verify.value.ok, true);
expect('verify', 'data files checked', verify.value.filesChecked >= table.dataFiles, true);

const header: Row = {
  phase: 'phase',
  status: 'status',
  ms: Number.NaN,
  manifests: 'manifests',
  lists: 'lists',
  reused: 'reused',
  listings: 'listings',
  dataFiles: 'data files',
  newFiles: 'new files',
};
const cells = (r: Row) => [
  r.phase.padEnd(12),
  r.status.padEnd(10),
  (Number.isNaN(r.ms) ? 'wall' : fmtMs(r.ms)).padStart(10),
  r.manifests.padStart(9),
  r.lists.padStart(6),
  r.reused.padStart(7),
  r.listings.padStart(9),
  r.dataFiles.padStart(11),
  r.newFiles.padStart(10),
];
console.log();
for (const r of [header, ...rows]) console.log(cells(r).join('  ').trimEnd());
console.log(
  `${'verify'.padEnd(12)}  ${(verify.value.ok ? 'ok' : 'FAILED').padEnd(10)}  ${fmtMs(verify.ms).padStart(10)}  ` +
    `${fmtInt(verify.value.filesChecked)} files checked, ${fmtInt(verify.value.outputFilesScanned)} output files scanned, ` +
    `${verify.value.problems.length} problem(s)`,
);
for (const p of verify.value.problems.slice(0, 5)) problems.push(`verify: ${p.path}: ${p.problem}`);
if (problems.length > 0) {
  console.log('\nunexpected:');
  for (const p of problems) console.log(`  ${p}`);
  process.exitCode = 1;
}
