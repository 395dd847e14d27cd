/**
 * Benchmark (prints, asserts nothing): the metrics exposition of a warehouse of N tables, with
 * and without a carried-over seed (the textfile path), and its size.
 *   node bench/metrics.bench.ts [tables=1000]
 */
import { WarehouseMetrics } from '../src/metrics/metrics.ts';
import type { TableStatus, WarehouseRunReport } from '../src/metrics/warehouse-types.ts';

const n = Number(process.argv[2] ?? 1000);
const statuses = ['committed', 'up-to-date', 'behind', 'failed'] as const;
const report: WarehouseRunReport = {
  runId: 'bench',
  startedAt: '2026-12-01T10:00:00Z',
  finishedAt: '2026-12-01T10:05:00Z',
  status: 'failed',
  exitCode: 6,
  tables: Array.from({ length: n }, (_, i) => ({
    table: `ns${i % 20}.table_${i}`,
    status: statuses[i % 4]!,
    missingFiles: i % 7,
    filesRewritten: i % 13,
    bytesWritten: i * 1000,
    durationMs: 100 + i,
  })),
};
const rows: TableStatus[] = report.tables.map((t, i) => ({
  table: t.table,
  lagSeconds: i * 3,
  thresholdSeconds: 900,
  withinThreshold: i * 3 <= 900,
  missingFiles: t.missingFiles,
}));

async function time<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await fn();
  console.log(`${label}: ${(performance.now() - t0).toFixed(1)} ms`);
  return r;
}

const m = new WarehouseMetrics({ processMetrics: true });
m.recordRun(report);
m.setStatus(rows);
const text = await time(`exposition of ${n} tables (watch, no seed)`, () => m.text());
await time('again (warm)', () => m.text());
console.log(
  `size: ${(text.length / 1024).toFixed(0)} KiB, ${text.split('\n').filter((l) => l && !l.startsWith('#')).length} samples`,
);
const seed = await m.carryOver();
const next = new WarehouseMetrics({ seed });
next.recordRun(report);
next.setStatus(rows);
await time(`exposition with a carried-over seed (textfile path)`, () => next.text());
console.log(`carry-over: ${(JSON.stringify(seed).length / 1024).toFixed(0)} KiB`);
