/**
 * The HTTP face of watch and its page, over a loop fed by small fakes of its inputs (a run that
 * waits for the test, fixed status rows): readiness only after the first run and not while
 * stopping, the page escaping what it shows, marking tables over their threshold, drawing the lag
 * history as inline SVG with no script and no external asset.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WarehouseMetrics } from '../../../src/metrics/metrics.ts';
import type { TableStatus, WarehouseRunReport } from '../../../src/metrics/warehouse-types.ts';
import { silentLogger } from '../../../src/util/logger.ts';
import { type WatchDeps, WatchLoop, type WatchState } from '../../../src/watch/loop.ts';
import { startWatchServer } from '../../../src/watch/server.ts';
import { renderStatusPage, sparkline, tableState } from '../../../src/watch/status-page.ts';

const HOSTILE = 'ns.<script>alert(1)</script>&"x"';

function rows(lag: number): TableStatus[] {
  return [
    { table: 'sales.orders', lagSeconds: 0, thresholdSeconds: 900, withinThreshold: true, missingFiles: 0 },
    {
      table: HOSTILE,
      lagSeconds: lag,
      thresholdSeconds: 600,
      withinThreshold: lag <= 600,
      missingFiles: 2,
      lastRun: { status: 'behind', at: '2026-12-01T10:00:00.000Z', durationMs: 1_200 },
    },
  ];
}

describe('the watch server', () => {
  it('is live at once, ready only after the first run, and not ready while stopping', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let lag = 100;
    const deps: WatchDeps = {
      loadPolicy: async () => {},
      runOnce: async (ctx): Promise<WarehouseRunReport> => {
        await gate;
        return {
          runId: ctx.runId,
          startedAt: new Date().toISOString(),
          finishedAt: new Date().toISOString(),
          status: 'behind',
          exitCode: 3,
          tables: [{ table: HOSTILE, status: 'behind', missingFiles: 2, durationMs: 5 }],
        };
      },
      statusOf: async () => {
        lag += 400;
        return rows(lag);
      },
    };
    const metrics = new WarehouseMetrics();
    let rounds = 0;
    let roundDone!: () => void;
    const firstRound = new Promise<void>((r) => {
      roundDone = r;
    });
    const loop = new WatchLoop(deps, {
      intervalMs: 20,
      metrics,
      logger: silentLogger,
      onRound: async () => {
        if (++rounds === 3) roundDone();
      },
    });
    const server = await startWatchServer({
      port: 0,
      state: () => loop.state(),
      metrics,
      logger: silentLogger,
    });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const running = loop.run();
      assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
      const before = await fetch(`${server.url}/readyz`);
      assert.equal(before.status, 503);
      assert.equal(await before.text(), 'first run not finished yet\n');
      release();
      await firstRound;
      assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
      const page = await (await fetch(`${server.url}/`)).text();
      assert.ok(!page.includes('<script>'), 'the table name is escaped');
      assert.ok(page.includes('ns.&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;x&quot;'));
      assert.match(page, /data-state="over-threshold"/);
      assert.match(page, /<svg class="spark"/, 'three status checks draw a sparkline');
      loop.stop();
      assert.equal((await fetch(`${server.url}/readyz`)).status, 503);
      assert.equal(await running, 0);
      const json = JSON.parse(await (await fetch(`${server.url}/status.json`)).text()) as WatchState & {
        lagHistory: Record<string, unknown[]>;
      };
      assert.ok((json.lagHistory[HOSTILE]?.length ?? 0) >= 3);
    } finally {
      await server.close();
    }
  });

  it('refuses an address it cannot bind with a usage error', async () => {
    const a = await startWatchServer({
      port: 0,
      state: () => ({}) as WatchState,
      metrics: new WarehouseMetrics(),
      logger: silentLogger,
    });
    try {
      const port = Number(new URL(a.url).port);
      await assert.rejects(
        startWatchServer({
          port,
          state: () => ({}) as WatchState,
          metrics: new WarehouseMetrics(),
          logger: silentLogger,
        }),
        (e: Error & { code?: string }) =>
          e.code === 'CONFIG' && /cannot listen on 127\.0\.0\.1:\d+.*EADDRINUSE/.test(e.message),
      );
    } finally {
      await a.close();
    }
  });
});

describe('the status page', () => {
  const state = (status: TableStatus[]): WatchState => ({
    startedAt: '2026-12-01T09:00:00.000Z',
    phase: 'waiting',
    nextRunAt: '2026-12-01T10:05:00.000Z',
    rounds: 4,
    ready: true,
    intervalMs: 300_000,
    inFlight: [],
    status,
    lagHistory: new Map([
      [
        HOSTILE,
        [0, 300, 700, 1_300].map((lag, i) => ({
          at: new Date(Date.UTC(2026, 11, 1, 9, i * 5)).toISOString(),
          lagSeconds: lag,
        })),
      ],
    ]),
    backoff: [{ table: 'hr.payroll', failures: 3, until: '2026-12-01T11:00:00.000Z' }],
  });

  it('lists every table, worst first, with its state as text and as a marker', () => {
    const all: TableStatus[] = [
      ...rows(1_300),
      {
        table: 'hr.payroll',
        thresholdSeconds: 900,
        withinThreshold: false,
        missingFiles: 0,
        lastRun: {
          status: 'failed',
          at: '2026-12-01T10:00:00.000Z',
          durationMs: 10,
          error: { code: 'PERMISSION_DENIED', message: 'denied' },
        },
      },
    ];
    const html = renderStatusPage(state(all));
    const order = [...html.matchAll(/<tr class="state-([a-z-]+)" data-table="([^"]+)"/g)].map((m) => [
      m[2],
      m[1],
    ]);
    assert.deepEqual(order, [
      ['hr.payroll', 'failed'],
      ['ns.&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;x&quot;', 'over-threshold'],
      ['sales.orders', 'ok'],
    ]);
    assert.match(html, /OVER THRESHOLD/);
    assert.match(html, /PERMISSION_DENIED: denied/);
    assert.match(html, /backing off after 3 failures/);
    assert.ok(
      !/<script|src=|href=|@import|url\(/i.test(html.replace(/&lt;script&gt;/g, '')),
      'no script, no external asset',
    );
    assert.equal(tableState(all[1]!), 'over-threshold');
  });

  it('draws the lag against the threshold, red once over it', () => {
    const points = state([]).lagHistory.get(HOSTILE)!;
    const svg = sparkline(points, 600, HOSTILE);
    assert.match(svg, /^<svg class="spark"/);
    assert.match(svg, /<polyline points="(?:[\d.]+,[\d.]+ ){3}[\d.]+,[\d.]+" class="lag over"\/>/);
    assert.match(svg, /<line [^>]*class="threshold"\/>/);
    assert.match(svg, /<title>ns\.&lt;script&gt;/);
    assert.match(sparkline(points.slice(0, 1), 600, 'x'), /not enough runs yet/);
  });
});
