/**
 * SIGTERM or SIGINT to a one-table command (a systemd stop, a pod's stop, Ctrl-C): the run stops
 * at its next step with exit code 8, the catalog at its last commit, no lock left; the next run
 * commits.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { SyntheticTableWriter } from '../../../bench/synthetic-table.ts';
import { cliBin, runCli } from '../../helpers/cli.ts';
import { scratchDir } from '../../helpers/paths.ts';

const source = 'hdfs://prod-nn:8020/warehouse';

/** Runs the CLI, sends `signal` when stderr matches `cue`; resolves how it ended. */
function signalledRun(args: string[], cue: RegExp, signal: NodeJS.Signals) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; sent: boolean }>(
    (resolve, reject) => {
      const child = spawn(process.execPath, [cliBin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      let sent = false;
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString('utf8');
        if (!sent && cue.test(stderr)) {
          sent = true;
          child.kill(signal);
        }
      });
      child.on('error', reject);
      child.on('close', (code, sig) => resolve({ code, signal: sig, stderr, sent }));
    },
  );
}

describe('a one-table command stopped by a signal', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: exit 8, nothing committed, no lock; the next run commits`, async () => {
      const base = scratchDir(`sig-${signal}`);
      const replica = path.join(base, 'replica');
      const table = new SyntheticTableWriter({
        localLocation: path.join(replica, 'db', 'events'),
        sourceLocation: `${source}/db/events`,
        partitions: 40,
      });
      for (let i = 0; i < 30; i++) await table.commit(40);
      const dr = path.join(base, 'dr');
      const args = [
        '--warehouse',
        dr,
        '--database',
        'db',
        '--table',
        'events',
        '--replicated-path',
        replica,
        '--map',
        `${source}=${replica}`,
      ];
      const r = await signalledRun(['sync', ...args, '--log-format', 'json'], /"phase":"check"/, signal);
      assert.ok(r.sent, r.stderr);
      assert.equal(r.signal, null, 'the process handled the signal itself');
      assert.equal(r.code, 8, r.stderr);
      const last = JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { code: string; msg: string };
      assert.equal(last.code, 'ABORTED');
      assert.match(last.msg, new RegExp(`${signal} received`));
      assert.equal(existsSync(path.join(dr, 'db', 'events', 'metadata', '.iceberg-sync', 'lock')), false);
      const v = runCli(['verify', ...args, '--json']);
      assert.notEqual(v.code, 0, 'nothing is committed yet');
      const next = runCli(['sync', ...args, '--json', '--quiet']);
      assert.equal(next.code, 0, next.stderr);
      assert.equal(next.json?.status, 'committed');
    });
  }
});
