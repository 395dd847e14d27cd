/**
 * Benchmark of whole-warehouse runs (not a test). Builds a replicated warehouse of N small tables
 * (copies of the bundled sample, 27 files each, over 10 namespaces in both layouts), syncs it once
 * into a SQLite DR catalog, then times, each in a fresh process (wall clock and peak RSS):
 *
 * 1. `syncAll` with nothing new (the steady state of a schedule);
 * 2. `syncAll` with one table changed (its newest metadata.json arrives);
 * 3. the no-op run split over 4 workers with `--shard i/4`, the workers at once (as an Indexed
 *    Job's pods), wall clock of the slowest and each worker's peak RSS;
 * 4. `warehouseStatus` over every table.
 *
 * Scratch data goes to `<repo>/.work/bench/warehouse/` (git-ignored), rebuilt on every run.
 *
 * Run: node bench/warehouse.bench.ts [tables] [concurrency]     (default 1000 8)
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as nodePath from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../src/util/logger.ts';
import { loadPolicy } from '../src/warehouse/policy.ts';
import { syncAll } from '../src/warehouse/run.ts';
import { parseShard } from '../src/warehouse/selection.ts';
import { warehouseStatus } from '../src/warehouse/status.ts';

const repoRoot = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), '..');
const scratch = nodePath.join(repoRoot, '.work', 'bench', 'warehouse');
const config = nodePath.join(scratch, 'dr.yaml');
const sample = nodePath.join(repoRoot, 'examples', 'replica', 'warehouse', 'sales', 'orders');

/** One measured step, run in this process (`--worker STEP [SHARD]`): prints its figures as JSON. */
async function worker(step: string, shard: string | undefined, concurrency: number): Promise<void> {
  const policy = await loadPolicy(config, { concurrency });
  const t0 = performance.now();
  let summary: Record<string, number>;
  if (step === 'status') {
    const rows = await warehouseStatus(policy, { logger: silentLogger });
    summary = { tables: rows.length, within: rows.filter((r) => r.withinThreshold).length };
  } else {
    const run = await syncAll(policy, {
      logger: silentLogger,
      ...(shard ? { shard: parseShard(shard) } : {}),
    });
    summary = { tables: run.tables.length, exitCode: run.exitCode };
    for (const t of run.tables) summary[t.status] = (summary[t.status] ?? 0) + 1;
  }
  const ms = performance.now() - t0;
  process.stdout.write(`${JSON.stringify({ ms, maxRssKb: process.resourceUsage().maxRSS, ...summary })}\n`);
}

interface Figures {
  ms: number;
  maxRssKb: number;
  [k: string]: number;
}

function inChild(step: string, concurrency: number, shard?: string): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const args = [
      fileURLToPath(import.meta.url),
      '--worker',
      step,
      String(concurrency),
      ...(shard ? [shard] : []),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!));
      } catch {
        reject(new Error(`${step} worker exited ${code}: ${out}`));
      }
    });
  });
}

const fmt = (f: Figures) =>
  `${(f.ms / 1000).toFixed(2)} s, peak RSS ${Math.round(f.maxRssKb / 1024)} MiB (${Object.entries(f)
    .filter(([k]) => !['ms', 'maxRssKb'].includes(k))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')})`;

if (process.argv[2] === '--worker') {
  await worker(process.argv[3]!, process.argv[5], Number(process.argv[4]));
} else {
  const N = Number(process.argv[2] ?? 1000);
  const concurrency = Number(process.argv[3] ?? 8);
  if (!Number.isInteger(N) || N < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
    console.error('usage: node bench/warehouse.bench.ts [tables] [concurrency]');
    process.exit(2);
  }
  rmSync(scratch, { recursive: true, force: true });
  const replica = nodePath.join(scratch, 'replica');
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const ns = i % 10;
    cpSync(sample, nodePath.join(replica, ns % 2 ? `ns${ns}.db` : `ns${ns}`, `t${i}`), { recursive: true });
  }
  // The changed table: its newest version has not arrived yet.
  const changed = nodePath.join(replica, 'ns0', 't0', 'metadata', 'v8.metadata.json');
  const held = nodePath.join(scratch, 'held-v8.metadata.json');
  renameSync(changed, held);
  mkdirSync(nodePath.join(scratch, 'dr'), { recursive: true });
  writeFileSync(
    config,
    [
      'catalog:',
      '  dr:',
      `    uri: sqlite:///${nodePath.join(scratch, 'dr', 'catalog.db')}`,
      `    warehouse: ${nodePath.join(scratch, 'dr', 'iceberg')}`,
      'replication:',
      `  replicated-paths: [${replica}]`,
      '',
    ].join('\n'),
  );
  console.log(
    `${N} tables (27 files each) built in ${((performance.now() - t0) / 1000).toFixed(1)} s; concurrency ${concurrency}; node ${process.versions.node}`,
  );
  console.log(`first sync-all (every table rewritten): ${fmt(await inChild('sync', concurrency))}`);
  console.log(`sync-all, nothing new:                 ${fmt(await inChild('sync', concurrency))}`);
  renameSync(held, changed);
  console.log(`sync-all, one table changed:           ${fmt(await inChild('sync', concurrency))}`);
  const t1 = performance.now();
  const shards = await Promise.all([0, 1, 2, 3].map((i) => inChild('sync', concurrency, `${i}/4`)));
  const wall = performance.now() - t1;
  console.log(
    `sync-all, nothing new, 4 shards at once: ${(wall / 1000).toFixed(2)} s wall; per worker: ${shards.map((s) => `${(s.ms / 1000).toFixed(2)} s / ${Math.round(s.maxRssKb / 1024)} MiB / ${s.tables} tables`).join('; ')}`,
  );
  console.log(`status, every table:                   ${fmt(await inChild('status', concurrency))}`);
}
