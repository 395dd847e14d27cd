/**
 * The Prometheus metrics of warehouse runs: the exposition read back by a real Prometheus parser
 * (Python's prometheus_client) holds exactly what the run reports and status rows said, `promtool
 * check metrics` finds nothing to lint, and the node_exporter textfile is replaced atomically with
 * its counters carried from one process to the next.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { METRIC_NAMES, TABLE_RESULTS, WarehouseMetrics } from '../../../src/metrics/metrics.ts';
import { carryOverPath, recordRunToTextfile } from '../../../src/metrics/textfile.ts';
import type { TableStatus, WarehouseRunReport } from '../../../src/metrics/warehouse-types.ts';
import {
  type ParsedFamily,
  parseExposition,
  promtoolCheck,
  requirePromClientParser,
  requirePromtool,
  samplesOf,
  sampleValue,
} from '../../helpers/ops-tools.ts';
import { scratchDir } from '../../helpers/paths.ts';

const N = METRIC_NAMES;

/** A table name that needs every escape of the label syntax. */
const ODD = 'web."clicks"\\2026\nq';

function run(runId: string, startedAt: string, seconds: number, tables: WarehouseRunReport['tables']) {
  const finishedAt = new Date(Date.parse(startedAt) + seconds * 1000).toISOString();
  const failed = tables.some((t) => t.status === 'failed');
  return {
    runId,
    startedAt,
    finishedAt,
    status: failed ? 'failed' : tables.some((t) => t.status === 'behind') ? 'behind' : 'ok',
    exitCode: failed ? 6 : tables.some((t) => t.status === 'behind') ? 3 : 0,
    tables,
  } satisfies WarehouseRunReport;
}

const first = run('run-1', '2026-12-01T10:00:00.000Z', 95.5, [
  {
    table: 'sales.orders',
    status: 'committed',
    snapshotId: '8333117215585693734',
    missingFiles: 0,
    filesRewritten: 14,
    bytesWritten: 123_456,
    durationMs: 4_250,
  },
  { table: 'sales.returns', status: 'up-to-date', missingFiles: 0, filesRewritten: 0, durationMs: 120 },
  { table: ODD, status: 'behind', missingFiles: 7, filesRewritten: 3, bytesWritten: 999, durationMs: 2_000 },
  {
    table: 'hr.payroll',
    status: 'failed',
    missingFiles: 0,
    durationMs: 50,
    error: { code: 'PERMISSION_DENIED', message: 'denied' },
  },
  { table: 'hr.skipped', status: 'skipped', missingFiles: 0, durationMs: 0 },
]);

const status: TableStatus[] = [
  { table: 'sales.orders', lagSeconds: 0, thresholdSeconds: 900, withinThreshold: true, missingFiles: 0 },
  {
    table: 'sales.returns',
    lagSeconds: 120.25,
    thresholdSeconds: 900,
    withinThreshold: true,
    missingFiles: 0,
  },
  { table: ODD, lagSeconds: 7_260, thresholdSeconds: 3_600, withinThreshold: false, missingFiles: 7 },
  // Never committed: no lag figure, so not within its threshold.
  { table: 'hr.payroll', thresholdSeconds: 900, withinThreshold: false, missingFiles: 0 },
  {
    table: 'hr.skipped',
    lagSeconds: 30,
    thresholdSeconds: 900,
    withinThreshold: true,
    missingFiles: 0,
    lastRun: { status: 'committed', at: '2026-11-30T08:00:00.000Z', durationMs: 1_500 },
  },
];

const epoch = (iso: string) => Date.parse(iso) / 1000;

/** Checks every per-table and per-run figure of the parsed exposition against the inputs. */
function assertMatches(families: ParsedFamily[], report: WarehouseRunReport, rows: TableStatus[]) {
  const byName = new Map(families.map((f) => [f.name, f]));
  // prometheus_client names a counter family without its `_total`.
  assert.equal(byName.get('iceberg_sync_runs')?.type, 'counter');
  assert.equal(byName.get(N.runDuration)?.type, 'histogram');
  assert.equal(byName.get(N.tableLag)?.type, 'gauge');
  for (const f of families) assert.ok(f.documentation.length > 0, `${f.name} has help text`);

  assert.equal(sampleValue(families, N.runs, { result: report.status }), 1);
  const seconds = (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000;
  assert.equal(sampleValue(families, `${N.runDuration}_count`), 1);
  assert.equal(sampleValue(families, `${N.runDuration}_sum`), seconds);
  // Cumulative buckets: 0 below the duration, 1 from the first bound at or above it.
  for (const b of samplesOf(families, `${N.runDuration}_bucket`)) {
    const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
    assert.equal(b.value, le >= seconds ? 1 : 0, `bucket le=${b.labels.le}`);
  }
  assert.equal(sampleValue(families, N.lastRunTimestamp), epoch(report.finishedAt));
  assert.equal(sampleValue(families, N.lastRunDuration), seconds);
  assert.equal(sampleValue(families, N.lastRunExitCode), report.exitCode);
  for (const s of TABLE_RESULTS) {
    const n = report.tables.filter((t) => t.status === s).length;
    assert.equal(sampleValue(families, N.tables, { status: s }), n, `tables with status ${s}`);
  }

  for (const t of report.tables) {
    const table = t.table;
    assert.equal(sampleValue(families, N.tableRuns, { table, result: t.status }), 1, `${table} runs`);
    if (t.status === 'skipped') {
      assert.equal(sampleValue(families, N.tableRewrittenFiles, { table }), undefined);
      continue;
    }
    assert.equal(sampleValue(families, N.tableRewrittenFiles, { table }), t.filesRewritten ?? 0);
    assert.equal(sampleValue(families, N.tableRewrittenBytes, { table }), t.bytesWritten ?? 0);
    assert.equal(sampleValue(families, N.tableLastRun, { table }), epoch(report.finishedAt));
    assert.equal(sampleValue(families, N.tableLastRunDuration, { table }), t.durationMs / 1000);
    const succeeded = ['committed', 'up-to-date', 'behind'].includes(t.status);
    assert.equal(
      sampleValue(families, N.tableLastSuccess, { table }),
      succeeded ? epoch(report.finishedAt) : undefined,
      `${table} last success`,
    );
    for (const s of TABLE_RESULTS) {
      assert.equal(sampleValue(families, N.tableLastRunStatus, { table, status: s }), s === t.status ? 1 : 0);
    }
  }

  for (const r of rows) {
    const table = r.table;
    assert.equal(sampleValue(families, N.tableLag, { table }), r.lagSeconds, `${table} lag`);
    assert.equal(sampleValue(families, N.tableLagThreshold, { table }), r.thresholdSeconds);
    assert.equal(sampleValue(families, N.tableWithinThreshold, { table }), r.withinThreshold ? 1 : 0);
    assert.equal(sampleValue(families, N.tableMissingFiles, { table }), r.missingFiles);
  }
}

describe('warehouse metrics', () => {
  describe('read back by prometheus_client', requirePromClientParser(), () => {
    it('hold what the run report and the status rows said, label escapes included', async () => {
      const m = new WarehouseMetrics();
      m.recordRun(first);
      m.setStatus(status);
      const families = parseExposition(await m.text());
      assertMatches(families, first, status);
      // A table skipped this run keeps the last run its history recorded.
      assert.equal(
        sampleValue(families, N.tableLastRun, { table: 'hr.skipped' }),
        epoch('2026-11-30T08:00:00Z'),
      );
      assert.equal(
        sampleValue(families, N.tableLastSuccess, { table: 'hr.skipped' }),
        epoch('2026-11-30T08:00:00Z'),
      );
      assert.equal(
        sampleValue(families, N.tableLastRunStatus, { table: 'hr.skipped', status: 'committed' }),
        1,
      );
    });

    it('carry the counters of one textfile run to the next, and drop tables the policy no longer has', async () => {
      const dir = scratchDir('metrics-textfile');
      const file = path.join(dir, 'iceberg-sync.prom');
      await recordRunToTextfile(file, { report: first, status });
      assertMatches(parseExposition(readFileSync(file, 'utf8')), first, status);

      // The next run (another process): one table fewer in the policy, one more commit.
      const second = run('run-2', '2026-12-01T11:00:00.000Z', 12, [
        {
          table: 'sales.orders',
          status: 'committed',
          missingFiles: 0,
          filesRewritten: 6,
          bytesWritten: 1_000,
          durationMs: 900,
        },
        {
          table: 'sales.returns',
          status: 'failed',
          missingFiles: 0,
          durationMs: 10,
          error: { code: 'STORAGE', message: 'x' },
        },
        {
          table: ODD,
          status: 'up-to-date',
          missingFiles: 0,
          filesRewritten: 0,
          bytesWritten: 0,
          durationMs: 100,
        },
      ]);
      await recordRunToTextfile(file, { report: second });
      const text = readFileSync(file, 'utf8');
      const families = parseExposition(text);
      const v = (name: string, labels: Record<string, string> = {}) => sampleValue(families, name, labels);
      // Both runs had a failed table.
      assert.equal(first.status, 'failed');
      assert.equal(v(N.runs, { result: 'failed' }), 2);
      assert.equal(v(`${N.runDuration}_count`), 2);
      assert.equal(v(`${N.runDuration}_sum`), 95.5 + 12);
      assert.equal(v(N.tableRewrittenFiles, { table: 'sales.orders' }), 14 + 6);
      assert.equal(v(N.tableRewrittenBytes, { table: 'sales.orders' }), 123_456 + 1_000);
      assert.equal(v(N.tableRuns, { table: 'sales.orders', result: 'committed' }), 2);
      assert.equal(v(N.tableRuns, { table: 'sales.returns', result: 'up-to-date' }), 1);
      assert.equal(v(N.tableRuns, { table: 'sales.returns', result: 'failed' }), 1);
      // A failed run leaves the last success where the earlier process put it.
      assert.equal(v(N.tableLastSuccess, { table: 'sales.returns' }), epoch(first.finishedAt));
      assert.equal(v(N.tableLastSuccess, { table: 'sales.orders' }), epoch(second.finishedAt));
      assert.equal(v(N.lastRunExitCode), second.exitCode);
      // hr.* left the policy: none of their series remain, carried over or not.
      assert.ok(!text.includes('hr.payroll') && !text.includes('hr.skipped'), text);
      // Only the textfile and its carry-over are in the directory: no temporary file is left.
      assert.deepEqual(readdirSync(dir).sort(), ['.iceberg-sync.prom.carry-over.json', 'iceberg-sync.prom']);
    });

    it('start the counters again, with a warning, when the carry-over file is damaged', async () => {
      const dir = scratchDir('metrics-damaged');
      const file = path.join(dir, 'dr.prom');
      await recordRunToTextfile(file, { report: first });
      writeFileSync(carryOverPath(file), '{"not": "a list"');
      const warnings: string[] = [];
      const logger = {
        error: () => {},
        warn: (m: unknown) => warnings.push(String(m)),
        info: () => {},
        debug: () => {},
      };
      await recordRunToTextfile(file, { report: first }, logger);
      const families = parseExposition(readFileSync(file, 'utf8'));
      assert.equal(sampleValue(families, N.runs, { result: first.status }), 1);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /carry-over\.json is damaged.*start again from 0/);
    });
  });

  describe('linted by promtool', requirePromtool(), () => {
    it('finds nothing in the textfile exposition', async () => {
      const m = new WarehouseMetrics();
      m.recordRun(first);
      m.setStatus(status);
      m.setConsecutiveFailures('hr.payroll', 3);
      m.recordPolicyReload(true);
      const r = promtoolCheck(await m.text());
      assert.equal(r.code, 0, r.output);
      assert.equal(r.output, '', 'no findings');
    });

    it("finds nothing in watch's exposition with the process metrics", async () => {
      const m = new WarehouseMetrics({ processMetrics: true });
      m.recordRun(first);
      m.setStatus(status);
      const text = await m.text();
      assert.match(text, /^process_cpu_seconds_total /m);
      assert.match(text, /^nodejs_heap_size_used_bytes /m);
      const r = promtoolCheck(text);
      assert.equal(r.code, 0, r.output);
      assert.equal(r.output, '', 'no findings');
    });
  });
});
