/**
 * Benchmark of Glue catalog commits (not a test): against the Glue endpoint IMSYNC_GLUE_ENDPOINT
 * names (run `source scripts/start-glue.sh` first for the local emulator; any credentials), times
 *
 * 1. one writer committing N times in a row (GetTable + UpdateTable per commit, each writing its
 *    metadata file first): commits/s and the mean commit latency;
 * 2. W writers committing to one table at once, each reloading and retrying after a conflict until
 *    it has committed N/W times: commits/s and how many attempts lost.
 *
 * Figures from the emulator measure this tool and moto on loopback, not Glue's service latency.
 *
 * Run: node bench/glue-commit.bench.ts [commits] [writers]     (default 200 4)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { GlueClient } from '@aws-sdk/client-glue';
import { GlueCatalog } from '../src/catalog/glue/glue.ts';
import { CommitConflictError } from '../src/errors.ts';
import { LocalStorage } from '../src/storage/local/local.ts';

const COMMITS = Number(process.argv[2] ?? 200);
const WRITERS = Number(process.argv[3] ?? 4);
if (![COMMITS, WRITERS].every((n) => Number.isInteger(n) && n >= 1)) {
  console.error('usage: node bench/glue-commit.bench.ts [commits] [writers]');
  process.exit(2);
}
const endpoint = process.env.IMSYNC_GLUE_ENDPOINT;
if (!endpoint) {
  console.error('IMSYNC_GLUE_ENDPOINT is unset: run `source scripts/start-glue.sh` first');
  process.exit(2);
}

const repoRoot = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), '..');
const dir = nodePath.join(repoRoot, '.work', 'bench', 'glue');
const storage = new LocalStorage();
const db = `bench_${randomBytes(4).toString('hex')}`;
const bytes = new TextEncoder().encode('{"bench":true}');

const open = () =>
  new GlueCatalog({
    name: 'bench',
    client: new GlueClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    }),
    endpoint,
    storageFor: () => storage,
  });
const next = () => `${dir}/${randomUUID()}.metadata.json`;

async function sequential(): Promise<void> {
  const cat = open();
  const id = { namespace: [db], name: 'seq' };
  let current = await cat.commitTable(id, undefined, next(), bytes);
  const start = performance.now();
  for (let i = 0; i < COMMITS; i++) current = await cat.commitTable(id, current, next(), bytes);
  const ms = performance.now() - start;
  console.log(
    `one writer:   ${COMMITS} commits in ${(ms / 1000).toFixed(2)} s = ${((COMMITS * 1000) / ms).toFixed(1)} commits/s, ` +
      `${(ms / COMMITS).toFixed(1)} ms per commit`,
  );
  await cat.close();
}

async function contended(): Promise<void> {
  const cats = Array.from({ length: WRITERS }, open);
  const id = { namespace: [db], name: 'race' };
  await cats[0]!.commitTable(id, undefined, next(), bytes);
  const each = Math.max(1, Math.floor(COMMITS / WRITERS));
  let lost = 0;
  const start = performance.now();
  await Promise.all(
    cats.map(async (cat) => {
      for (let done = 0; done < each; ) {
        const current = (await cat.loadTable(id))!.metadataLocation;
        try {
          await cat.commitTable(id, current, next(), bytes);
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
  console.log(
    `${WRITERS} writers:    ${total} commits in ${(ms / 1000).toFixed(2)} s = ${((total * 1000) / ms).toFixed(1)} commits/s, ` +
      `${lost} attempts lost to a conflict (${((lost * 100) / (lost + total)).toFixed(0)}%)`,
  );
  for (const c of cats) await c.close();
}

console.log(`Glue commits against ${endpoint} (database ${db})`);
try {
  await sequential();
  await contended();
} finally {
  await rm(dir, { recursive: true, force: true });
}
