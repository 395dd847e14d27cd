/**
 * Benchmark of catalog commits (not a test), for every catalog reachable here: the SQL catalog on
 * SQLite (always), Iceberg's reference REST catalog (a private server, when IMSYNC_REST_CLASSPATH
 * names its build), AWS Glue's emulator (IMSYNC_GLUE_ENDPOINT) and Hive Metastores
 * (IMSYNC_HIVE3_URI, IMSYNC_HIVE4_URI); `source` the scripts/start-*.sh of the servers first.
 * For each it times
 *
 * 1. one writer committing N times in a row as a sync does: load the table, then commit against
 *    the location loaded (each commit writes its metadata file first): commits/s and the mean
 *    latency of the two;
 * 2. W writers committing to one table at once, each reloading and retrying after a conflict until
 *    it has committed N/W times: commits/s and how many attempts lost.
 *
 * Every commit adds a snapshot, as a sync does (a REST catalog commits server-side, so it needs
 * real metadata). Figures on loopback servers measure this tool and the server, not a WAN.
 *
 * Run: node bench/catalog-commit.bench.ts [commits] [writers] [only]     (default 100 4)
 * `only` keeps the catalogs whose name starts with one of its comma-separated words (`rest`,
 * `sql,glue`); servers of the others are not started.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { GlueClient } from '@aws-sdk/client-glue';
import type { Catalog, TableIdentifier } from '../src/catalog/catalog.ts';
import { GlueCatalog } from '../src/catalog/glue/glue.ts';
import { HiveCatalog, parseMetastoreUris } from '../src/catalog/hive/hive.ts';
import { RestCatalog } from '../src/catalog/rest/rest.ts';
import { SqlCatalog } from '../src/catalog/sql/sql.ts';
import { CommitConflictError } from '../src/errors.ts';
import { LocalStorage } from '../src/storage/local/local.ts';
import { contractMetadata } from '../test/helpers/contract-metadata.ts';
import { startRestServer } from '../test/helpers/rest.ts';

const COMMITS = Number(process.argv[2] ?? 100);
const WRITERS = Number(process.argv[3] ?? 4);
const ONLY = (process.argv[4] ?? '')
  .split(',')
  .map((w) => w.trim().toLowerCase())
  .filter((w) => w !== '');
const wanted = (name: string) => ONLY.length === 0 || ONLY.some((w) => name.toLowerCase().startsWith(w));
if (![COMMITS, WRITERS].every((n) => Number.isInteger(n) && n >= 1)) {
  console.error('usage: node bench/catalog-commit.bench.ts [commits] [writers] [only]');
  process.exit(2);
}

const repoRoot = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), '..');
const dir = nodePath.join(repoRoot, '.work', 'bench', 'catalog-commit');
const storage = new LocalStorage();
const db = `bench_${randomBytes(4).toString('hex')}`;
const next = () => `${dir}/${randomUUID()}.metadata.json`;

/** A catalog to measure: how to open one handle on it, and what to stop afterwards. */
interface Target {
  readonly name: string;
  open(): Promise<Catalog>;
  stop?(): Promise<void>;
}

async function targets(): Promise<Target[]> {
  const out: Target[] = [];
  if (wanted('SQL')) {
    out.push({
      name: 'SQL (SQLite)',
      open: () =>
        SqlCatalog.open({ name: 'bench', uri: `sqlite:///${dir}/catalog.db`, storageFor: () => storage }),
    });
  }
  if (process.env.IMSYNC_REST_CLASSPATH && wanted('REST')) {
    const server = await startRestServer();
    out.push({
      name: 'REST (reference server)',
      open: () => RestCatalog.open({ name: 'bench', uri: server.uri, storageFor: () => storage }),
      stop: () => server.stop(),
    });
  }
  const glue = process.env.IMSYNC_GLUE_ENDPOINT;
  if (glue && wanted('Glue')) {
    out.push({
      name: 'Glue (emulator)',
      open: async () =>
        new GlueCatalog({
          name: 'bench',
          client: new GlueClient({
            region: 'us-east-1',
            endpoint: glue,
            credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
          }),
          endpoint: glue,
          storageFor: () => storage,
        }),
    });
  }
  for (const v of ['3', '4']) {
    const uri = process.env[`IMSYNC_HIVE${v}_URI`];
    if (uri && wanted('Hive')) {
      out.push({
        name: `Hive Metastore ${v}.x`,
        open: () =>
          HiveCatalog.open({ name: 'bench', addresses: parseMetastoreUris(uri), storageFor: () => storage }),
      });
    }
  }
  return out;
}

/** Snapshots in the metadata at `location` (one more makes the next version). */
async function snapshotsAt(location: string): Promise<number> {
  const doc = JSON.parse(new TextDecoder().decode(await storage.read(location))) as { snapshots?: unknown[] };
  return doc.snapshots?.length ?? 0;
}

async function sequential(t: Target): Promise<string> {
  const cat = await t.open();
  const id: TableIdentifier = { namespace: [db], name: 'seq' };
  await cat.ensureNamespace(id.namespace);
  await cat.commitTable(id, undefined, next(), contractMetadata(id, 'bench', 1));
  const start = performance.now();
  for (let i = 0; i < COMMITS; i++) {
    const current = (await cat.loadTable(id))!.metadataLocation;
    await cat.commitTable(id, current, next(), contractMetadata(id, 'bench', i + 2));
  }
  const ms = performance.now() - start;
  await cat.close();
  return `${((COMMITS * 1000) / ms).toFixed(1)} commits/s, ${(ms / COMMITS).toFixed(1)} ms each`;
}

async function contended(t: Target): Promise<string> {
  const cats = await Promise.all(Array.from({ length: WRITERS }, () => t.open()));
  const id: TableIdentifier = { namespace: [db], name: 'race' };
  await cats[0]!.commitTable(id, undefined, next(), contractMetadata(id, 'bench', 1));
  const each = Math.max(1, Math.floor(COMMITS / WRITERS));
  let lost = 0;
  const start = performance.now();
  await Promise.all(
    cats.map(async (cat) => {
      for (let done = 0; done < each; ) {
        const current = (await cat.loadTable(id))!.metadataLocation;
        const n = (await snapshotsAt(current)) + 1;
        try {
          await cat.commitTable(id, current, next(), contractMetadata(id, 'bench', n));
          done++;
        } catch (err) {
          if (!(err instanceof CommitConflictError)) throw err;
          lost++;
        }
      }
    }),
  );
  const ms = performance.now() - start;
  const total = each * WRITERS;
  for (const c of cats) await c.close();
  return `${((total * 1000) / ms).toFixed(1)} commits/s, ${lost} of ${lost + total} attempts lost (${((lost * 100) / (lost + total)).toFixed(0)}%)`;
}

await mkdir(dir, { recursive: true });
console.log(`catalog commits: ${COMMITS} in a row, then ${WRITERS} writers at once on one table`);
const rows: string[][] = [];
try {
  for (const t of await targets()) {
    try {
      // A catalog that fails a phase is reported in its row; the others still run.
      const phase = (f: (t: Target) => Promise<string>) =>
        f(t).catch((e: unknown) => `failed: ${(e as Error).message}`);
      rows.push([t.name, await phase(sequential), await phase(contended)]);
    } finally {
      await t.stop?.();
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
console.log('| catalog | one writer | several writers |\n| --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
