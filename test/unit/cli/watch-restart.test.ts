/**
 * `iceberg-sync watch` after a restart: the lag sparkline of /status.json starts with the runs the
 * tables' histories recorded before it, not empty.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, truncateSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { decodeMetadata } from '../../../src/iceberg/metadata-json.ts';
import type { HistoryRecord } from '../../../src/warehouse/history.ts';
import { cliBin } from '../../helpers/cli.ts';
import { impalaFixtures, scratchDir } from '../../helpers/paths.ts';
import { replicate } from '../../helpers/replicate.ts';
import { requireFixtures } from '../../helpers/requires.ts';
import { runFinished, watchProcess } from '../../helpers/watch-process.ts';

const table = 'iceberg_v2_partitioned_position_deletes';
const key = `ice.${table}`;
const tableDir = path.join(impalaFixtures, 'hadoop_catalog', 'ice', table);

interface LagSample {
  at: string;
  lagSeconds: number;
}

/** Runs watch until its first round is done; returns its /status.json then, and stops it. */
async function oneRound(
  args: readonly string[],
): Promise<{ rounds: number; lagHistory: Record<string, LagSample[]> }> {
  const w = watchProcess([cliBin, 'watch', ...args]);
  try {
    const url = await w.url();
    await w.waitFor(runFinished, 'the first run');
    for (;;) {
      const s = (await (await fetch(`${url}/status.json`)).json()) as {
        rounds: number;
        lagHistory: Record<string, LagSample[]>;
      };
      if (s.rounds >= 1) return s;
    }
  } finally {
    w.child.kill('SIGTERM');
    assert.equal((await w.exit).code, 0, w.lines.map((l) => l.msg).join('\n'));
  }
}

describe('iceberg-sync watch restarted', requireFixtures(), () => {
  it('seeds the lag sparkline from the run history', async () => {
    const base = scratchDir('cli-watch-restart');
    const replicaRoot = path.join(base, 'replica');
    const replica = path.join(replicaRoot, 'ice', table);
    const rules = replicate(tableDir, replica);
    // One delete file of the newest version is short: the table stays behind, with a lag.
    const deleteFile = spawnSync('find', [path.join(replica, 'data'), '-name', '*delete*'], {
      encoding: 'utf8',
    })
      .stdout.trim()
      .split('\n')[0]!;
    truncateSync(deleteFile, 10);
    const args = ['--warehouse', path.join(base, 'dr'), '--replicated-path', replicaRoot];
    for (const r of rules) args.push('--map', `${r.source}=${r.target}`);
    args.push('--interval', '1h', '--metrics-port', '0', '--log-format', 'json');

    const first = await oneRound(args);
    const historyFile = path.join(base, 'dr', 'ice', table, 'metadata', '.iceberg-sync', 'history.jsonl');
    const recorded = readFileSync(historyFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as HistoryRecord);
    assert.equal(recorded.length, 1);
    const run = recorded[0]!;
    assert.equal(run.status, 'behind');
    // The lag recorded is the one status shows: newest replicated commit minus the DR snapshot's.
    const metadataDir = path.join(replica, 'metadata');
    const newestName = readdirSync(metadataDir)
      .filter((n) => n.endsWith('.metadata.json'))
      .sort((a, b) => Number(/\d+/.exec(b)![0]) - Number(/\d+/.exec(a)![0]))[0]!;
    const newest = decodeMetadata(readFileSync(path.join(metadataDir, newestName)), newestName).metadata;
    const commitTime = (id: string | bigint) =>
      Number(newest.snapshots.find((s) => s.snapshotId.toString() === id.toString())!.timestampMs);
    const expectedLag = (commitTime(newest.currentSnapshotId!) - commitTime(run.snapshotId!)) / 1000;
    assert.ok(expectedLag > 0);
    assert.equal(run.lagSeconds, expectedLag);
    assert.equal(first.lagHistory[key]?.at(-1)?.lagSeconds, expectedLag);

    const second = await oneRound(args);
    const points = second.lagHistory[key] ?? [];
    assert.deepEqual(points[0], {
      at: new Date(Date.parse(run.at) + run.durationMs).toISOString(),
      lagSeconds: expectedLag,
    });
    // Then this process's own status checks (before and after its first run).
    assert.ok(points.length >= 2, JSON.stringify(points));
    for (const p of points.slice(1)) assert.equal(p.lagSeconds, expectedLag);
  });
});
