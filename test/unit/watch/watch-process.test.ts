/**
 * watch as a process, with the real engine and a real SQLite catalog: its HTTP endpoints
 * (`/metrics` read back by prometheus_client and checked against `/status.json`, lint-free for
 * promtool), SIGTERM during a run (the table in flight finishes, no other starts, exit 0, no lock
 * left), and SIGKILL at any moment (every table stays at a whole commit; the next watch finishes
 * the job, taking the dead one's locks over).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { decodeMetadata } from '../../../src/iceberg/metadata-json.ts';
import { METRIC_NAMES as N } from '../../../src/metrics/metrics.ts';
import type { TableStatus, WarehouseRunReport } from '../../../src/metrics/warehouse-types.ts';
import { toLocalPath } from '../../../src/storage/local/local.ts';
import {
  parseExposition,
  promtoolCheck,
  requirePromClientParser,
  requirePromtool,
  sampleValue,
} from '../../helpers/ops-tools.ts';
import { snapshotTree } from '../../helpers/paths.ts';
import { inCI } from '../../helpers/requires.ts';
import { runFinished, startWatch, syncEnded, syncStarted } from '../../helpers/watch-process.ts';
import { catalogState, locksLeft, newestSnapshotId, watchSite } from '../../helpers/watch-site.ts';

interface StatusJson {
  ready: boolean;
  rounds: number;
  status: TableStatus[];
  lastReport?: WarehouseRunReport;
}

const get = async (url: string) => {
  const r = await fetch(url);
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
};

describe('watch as a process', () => {
  it('serves /healthz, /readyz, /status.json, the page and /metrics that match the status', async (t) => {
    const site = await watchSite('watch-http', [
      { key: 'sales.orders', commits: 2 },
      { key: 'sales.returns', commits: 3, partial: true, thresholdSeconds: 30 },
    ]);
    const metricsFile = path.join(site.base, 'iceberg-sync.prom');
    const w = startWatch(site.policyFile, 60_000, metricsFile);
    try {
      const url = await w.url();
      await w.waitFor(runFinished, 'the first run');
      assert.equal((await get(`${url}/healthz`)).status, 200);
      // Ready once the first run (and its status check) is done: the textfile is written then too.
      let s: StatusJson;
      do {
        s = JSON.parse((await get(`${url}/status.json`)).body) as StatusJson;
      } while (s.rounds < 1);
      const ready = await get(`${url}/readyz`);
      assert.equal(ready.status, 200, ready.body);
      assert.equal(s.ready, true);
      assert.deepEqual(
        s.status.map((r) => [r.table, r.lastRun?.status]),
        [
          ['sales.orders', 'committed'],
          ['sales.returns', 'behind'],
        ],
      );
      const behind = s.status[1]!;
      // The replica's newest commit is a minute after the DR's (the synthetic tables commit a minute apart).
      assert.equal(behind.lagSeconds, 60);
      assert.equal(behind.withinThreshold, false);
      assert.equal(behind.missingFiles, 1);

      const page = await get(`${url}/`);
      assert.equal(page.status, 200);
      assert.match(page.type, /^text\/html/);
      assert.match(page.body, /data-table="sales\.returns" data-state="over-threshold"/);
      assert.equal((await get(`${url}/nope`)).status, 404);
      const post = await fetch(`${url}/metrics`, { method: 'POST' });
      assert.equal(post.status, 405);

      const metrics = await get(`${url}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.type, /^text\/plain; version=0\.0\.4/);
      for (const [label, text] of [
        ['/metrics', metrics.body],
        ['the textfile', readFileSync(metricsFile, 'utf8')],
      ] as const) {
        await t.test(
          `${label}: read back by prometheus_client, as the status says`,
          requirePromClientParser(),
          () => {
            const families = parseExposition(text);
            for (const r of s.status) {
              const table = r.table;
              assert.equal(sampleValue(families, N.tableLag, { table }), r.lagSeconds, `${table} lag`);
              assert.equal(sampleValue(families, N.tableLagThreshold, { table }), r.thresholdSeconds);
              assert.equal(
                sampleValue(families, N.tableWithinThreshold, { table }),
                r.withinThreshold ? 1 : 0,
              );
              assert.equal(sampleValue(families, N.tableMissingFiles, { table }), r.missingFiles);
              assert.equal(sampleValue(families, N.tableRuns, { table, result: r.lastRun!.status }), 1);
              assert.equal(
                sampleValue(families, N.tableLastRunStatus, { table, status: r.lastRun!.status }),
                1,
              );
            }
            assert.equal(sampleValue(families, N.runs, { result: s.lastReport!.status }), 1);
            assert.equal(sampleValue(families, N.lastRunExitCode), s.lastReport!.exitCode);
            assert.equal(sampleValue(families, `${N.runDuration}_count`), 1);
            if (label === '/metrics') assert.ok(sampleValue(families, 'process_resident_memory_bytes')! > 0);
          },
        );
        await t.test(`${label}: promtool check metrics finds nothing`, requirePromtool(), () => {
          const r = promtoolCheck(text);
          assert.equal(r.code, 0, r.output);
          assert.equal(r.output, '');
        });
      }
    } finally {
      w.child.kill('SIGTERM');
    }
    assert.equal((await w.exit).code, 0);
    assert.deepEqual(w.other, [], 'every stderr line is JSON');
    // Every line of the runs carries the run id.
    const runLines = w.lines.filter((l) => typeof l.table === 'string' || /^run /.test(l.msg));
    assert.ok(runLines.length >= 6);
    for (const l of runLines) assert.match(String(l.runId), /^\d{8}T\d{6}Z-[0-9a-f]{6}$/, l.msg);
  });

  it('on SIGTERM during a run, finishes the table in flight, starts no other, exits 0 and leaves no lock', async () => {
    const site = await watchSite('watch-sigterm', [
      { key: 'a.first', commits: 2 },
      { key: 'a.big', commits: 40, files: 50, partitions: 40 },
      { key: 'a.last', commits: 2 },
    ]);
    const w = startWatch(site.policyFile, 60_000);
    await w.waitFor(syncStarted('a.big'), 'a.big started');
    w.child.kill('SIGTERM');
    const { code, signal } = await w.exit;
    assert.equal(signal, null);
    assert.equal(code, 0, w.lines.map((l) => l.msg).join('\n'));
    const stop = w.lines.find((l) => /^SIGTERM received/.test(l.msg));
    assert.ok(stop, 'the stop is logged');
    assert.deepEqual(stop.inFlight, ['a.big'], 'the signal came while a.big was syncing');
    assert.equal(w.lines.find(syncEnded('a.big'))?.status, 'committed', 'the table in flight finished');
    assert.equal(w.lines.find(syncStarted('a.last')), undefined, 'no table started after the signal');
    const state = await catalogState(site);
    assert.deepEqual(state.get('a.big')?.problems, []);
    assert.ok(state.get('a.big')?.location);
    assert.equal(state.get('a.last')?.location, undefined);
    assert.deepEqual(locksLeft(site), []);
  });

  it('killed at any moment, leaves every table at a whole commit; the next watch finishes the job', {
    timeout: inCI ? 600_000 : 300_000,
  }, async () => {
    const site = await watchSite('watch-sigkill', [
      { key: 'a.first', commits: 3 },
      { key: 'a.big', commits: 30, files: 40, partitions: 30 },
      { key: 'a.last', commits: 3 },
    ]);
    const writer = site.writers.get('a.big')!;
    const cues: { label: string; at: (w: ReturnType<typeof startWatch>) => Promise<unknown> }[] = [
      { label: 'as a.first starts', at: (w) => w.waitFor(syncStarted('a.first'), 'a.first') },
      { label: 'as a.big starts', at: (w) => w.waitFor(syncStarted('a.big'), 'a.big') },
      ...[50, 200, 500].map((ms) => ({
        label: `${ms} ms into a.big`,
        at: async (w: ReturnType<typeof startWatch>) => {
          await w.waitFor(syncStarted('a.big'), 'a.big');
          await new Promise((r) => setTimeout(r, ms));
        },
      })),
      { label: 'as a.last starts', at: (w) => w.waitFor(syncStarted('a.last'), 'a.last') },
    ];
    for (const cue of cues) {
      // New commits keep arriving, so each watch has work in a.big.
      for (let i = 0; i < 3; i++) await writer.commit(40);
      const replicaBefore = snapshotTree(site.replica);
      const w = startWatch(site.policyFile, 60_000);
      try {
        await cue.at(w);
      } finally {
        w.child.kill('SIGKILL');
      }
      await w.exit;
      for (const [table, s] of await catalogState(site)) {
        assert.deepEqual(s.problems, [], `${cue.label}: ${table} at ${s.location} is a whole commit`);
      }
      // The replica was only read.
      assert.deepEqual(snapshotTree(site.replica), replicaBefore, cue.label);
    }

    // A new watch takes the dead ones' locks over and brings every table to the newest commit.
    const w = startWatch(site.policyFile, 60_000);
    await w.waitFor(runFinished, 'a whole run');
    w.child.kill('SIGTERM');
    assert.equal((await w.exit).code, 0);
    for (const table of ['a.first', 'a.big', 'a.last']) {
      const status = w.lines.find(syncEnded(table))?.status;
      assert.ok(status === 'committed' || status === 'up-to-date', `${table}: ${status}`);
    }
    const state = await catalogState(site);
    for (const [table, s] of state) {
      assert.ok(s.location, `${table} is in the catalog`);
      assert.deepEqual(s.problems, [], table);
    }
    const big = toLocalPath(state.get('a.big')!.location!);
    assert.equal(
      String(decodeMetadata(readFileSync(big), big).metadata.currentSnapshotId),
      newestSnapshotId(writer),
      'a.big is at the newest replicated commit',
    );
    assert.deepEqual(locksLeft(site), []);
  });
});
