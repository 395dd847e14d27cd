/**
 * The watch loop over real tables synced by the real engine into a real SQLite catalog: a new
 * replicated commit is picked up within two intervals, a failing table backs off exponentially
 * (capped) and is retried at once after a policy reload, a broken policy file leaves the previous
 * one in force, a stop lets the table in flight finish and starts no other, and a second stop cuts
 * it short with the catalog untouched. No lock is ever left behind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WarehouseMetrics } from '../../../src/metrics/metrics.ts';
import type { WarehouseRunReport } from '../../../src/metrics/warehouse-types.ts';
import { silentLogger } from '../../../src/util/logger.ts';
import { type WatchDeps, WatchLoop, type WatchRound } from '../../../src/watch/loop.ts';
import { catalogState, locksLeft, newestSnapshotId, watchSite } from '../../helpers/watch-site.ts';
import { tableListDeps } from '../../helpers/watch-tables.ts';

/** Deps whose runs call `onStart(table)` as each table starts (to stop the loop mid-run). */
function hooked(deps: WatchDeps, onStart: (table: string) => void): WatchDeps {
  return {
    ...deps,
    runOnce: (ctx) =>
      deps.runOnce({
        ...ctx,
        onTableStart: (t) => {
          ctx.onTableStart(t);
          onStart(t);
        },
      }),
  };
}

const statusOf = (r: WarehouseRunReport, table: string) => r.tables.find((t) => t.table === table)?.status;

describe('the watch loop', () => {
  it('picks up a new replicated commit within two intervals of its arrival', async () => {
    const site = await watchSite('watch-pickup', [{ key: 'sales.orders', commits: 2 }]);
    const writer = site.writers.get('sales.orders')!;
    const rounds: WatchRound[] = [];
    let arrivedAtRound: number | undefined;
    let wanted: string | undefined;
    let loop: WatchLoop;
    const seen = new Promise<WatchRound>((resolve) => {
      loop = new WatchLoop(tableListDeps(site.policyFile), {
        intervalMs: 300,
        logger: silentLogger,
        onRound: async (round) => {
          rounds.push(round);
          if (round.index === 1) {
            // The commit lands between runs or during one, at a moment the loop does not choose.
            setTimeout(() => {
              void writer.commit(3).then(() => {
                const s = loop.state();
                arrivedAtRound = s.rounds + (s.phase === 'running' ? 1 : 0);
                wanted = newestSnapshotId(writer);
              });
            }, 450);
          }
          const t = round.report.tables[0];
          if (wanted !== undefined && t?.snapshotId === wanted) {
            resolve(round);
            loop.stop();
          }
        },
      });
    });
    const done = loop!.run();
    const picked = await seen;
    assert.equal(await done, 0);
    assert.equal(rounds[0]!.report.tables[0]!.status, 'committed');
    assert.equal(picked.report.tables[0]!.status, 'committed');
    assert.ok(arrivedAtRound !== undefined);
    assert.ok(
      picked.index - arrivedAtRound <= 2,
      `arrived while round ${arrivedAtRound} was the latest started; committed by round ${picked.index}`,
    );
    assert.deepEqual(locksLeft(site), []);
  });

  it('backs a failing table off exponentially up to the cap, retries at once after a policy reload, and resets on success', async () => {
    const site = await watchSite('watch-backoff', [
      { key: 'sales.orders', commits: 1 },
      { key: 'hr.payroll', commits: 1, wrongLocation: true },
    ]);
    let now = Date.parse('2026-12-01T00:00:00Z');
    const metrics = new WarehouseMetrics();
    const seq: (string | undefined)[] = [];
    const failures: number[] = [];
    let loop: WatchLoop;
    const finished = new Promise<void>((resolve) => {
      loop = new WatchLoop(tableListDeps(site.policyFile), {
        intervalMs: 1_000,
        maxBackoffMs: 4_000,
        clock: () => now,
        metrics,
        logger: silentLogger,
        onRound: async (round) => {
          seq.push(statusOf(round.report, 'hr.payroll'));
          failures.push(loop.state().backoff.find((b) => b.table === 'hr.payroll')?.failures ?? 0);
          assert.equal(
            statusOf(round.report, 'sales.orders'),
            round.index === 1 ? 'committed' : 'up-to-date',
          );
          if (round.index === 8) {
            // The operator fixes the table's location; the loop sees the changed file before the next run.
            const [good, typo] = site.policy.tables;
            site.writePolicy({
              ...site.policy,
              tables: [good!, { ...typo!, tableLocation: typo!.tableLocation.replace(/-typo$/, '') }],
            });
          }
          if (round.index === 9) {
            loop.stop();
            resolve();
          }
          now += 1_000;
        },
      });
    });
    const code = loop!.run();
    await finished;
    assert.equal(await code, 0);
    // Failure n waits 2^(n-1) intervals, capped at 4: tried at runs 1, 2, 4 and 8; the reload
    // before run 9 lets it be tried at once, and it commits.
    assert.deepEqual(seq, [
      'failed',
      'failed',
      'skipped',
      'failed',
      'skipped',
      'skipped',
      'skipped',
      'failed',
      'committed',
    ]);
    assert.deepEqual(failures, [1, 2, 2, 3, 3, 3, 3, 4, 0]);
    const text = await metrics.text();
    assert.match(text, /^iceberg_sync_table_consecutive_failures\{table="hr.payroll"\} 0$/m);
    assert.match(text, /^iceberg_sync_policy_reloads_total\{result="success"\} 1$/m);
    assert.match(text, /^iceberg_sync_table_runs_total\{table="hr.payroll",result="skipped"\} 4$/m);
    assert.deepEqual(locksLeft(site), []);
  });

  it('keeps the previous policy when the reloaded file is broken, and says so', async () => {
    const site = await watchSite('watch-badreload', [{ key: 'sales.orders', commits: 1 }]);
    const metrics = new WarehouseMetrics();
    let loop: WatchLoop;
    const reports: WarehouseRunReport[] = [];
    const finished = new Promise<void>((resolve) => {
      loop = new WatchLoop(tableListDeps(site.policyFile), {
        intervalMs: 50,
        metrics,
        logger: silentLogger,
        onRound: async (round) => {
          reports.push(round.report);
          if (round.index === 1) {
            (await import('node:fs')).writeFileSync(site.policyFile, '{"tables": ');
            loop.requestReload('SIGHUP received');
          }
          if (round.index === 3) {
            loop.stop();
            resolve();
          }
        },
      });
    });
    const code = loop!.run();
    await finished;
    assert.equal(await code, 0);
    assert.deepEqual(
      reports.map((r) => statusOf(r, 'sales.orders')),
      ['committed', 'up-to-date', 'up-to-date'],
      'the old policy stays in force',
    );
    const s = loop!.state();
    assert.match(s.policyError ?? '', /policy\.json/);
    assert.match(await metrics.text(), /^iceberg_sync_policy_reloads_total\{result="failure"\} [1-9]/m);
    assert.equal(s.ready, false, 'not ready once stopped');
  });

  it('on stop, finishes the table in flight, starts no other, and exits 0 with no lock left', async () => {
    const site = await watchSite('watch-stop', [
      { key: 'a.first', commits: 3 },
      { key: 'a.second', commits: 3 },
      { key: 'a.third', commits: 3 },
    ]);
    const rounds: WatchRound[] = [];
    const loop: WatchLoop = new WatchLoop(
      hooked(tableListDeps(site.policyFile), (t) => {
        if (t === 'a.second') loop.stop('SIGTERM received');
      }),
      { intervalMs: 60_000, logger: silentLogger, onRound: async (r) => void rounds.push(r) },
    );
    assert.equal(await loop.run(), 0);
    assert.equal(rounds.length, 1);
    const r = rounds[0]!.report;
    assert.deepEqual(
      r.tables.map((t) => [t.table, t.status, t.error?.code]),
      [
        ['a.first', 'committed', undefined],
        ['a.second', 'committed', undefined],
        ['a.third', 'skipped', 'ABORTED'],
      ],
    );
    const state = await catalogState(site);
    assert.deepEqual(state.get('a.second')?.problems, []);
    assert.equal(state.get('a.second')?.location, r.tables[1]!.metadataLocation);
    assert.equal(state.get('a.third')?.location, undefined);
    assert.deepEqual(locksLeft(site), []);
  });

  it('on a second stop, cuts the table in flight short: exit 8, its catalog untouched, no lock left', async () => {
    const site = await watchSite('watch-abort', [
      { key: 'a.first', commits: 2 },
      { key: 'a.second', commits: 30, files: 20, partitions: 20 },
    ]);
    const rounds: WatchRound[] = [];
    const loop: WatchLoop = new WatchLoop(
      hooked(tableListDeps(site.policyFile), (t) => {
        if (t === 'a.second') {
          loop.stop('SIGTERM received');
          loop.abort('SIGTERM received again');
        }
      }),
      { intervalMs: 60_000, logger: silentLogger, onRound: async (r) => void rounds.push(r) },
    );
    assert.equal(await loop.run(), 8);
    const r = rounds[0]!.report;
    assert.equal(statusOf(r, 'a.first'), 'committed');
    assert.equal(statusOf(r, 'a.second'), 'failed');
    assert.equal(r.tables[1]!.error?.code, 'ABORTED');
    const state = await catalogState(site);
    assert.equal(state.get('a.second')?.location, undefined, 'nothing committed for the table cut short');
    assert.deepEqual(state.get('a.first')?.problems, []);
    assert.deepEqual(locksLeft(site), []);
  });
});
