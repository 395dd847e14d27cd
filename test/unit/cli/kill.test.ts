/**
 * A sync killed (SIGKILL) at any moment: the DR catalog stays at its last good version, whatever it
 * points at verifies, the replica is untouched, and the next run finishes the job.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { SyntheticTableWriter } from '../../../bench/synthetic-table.ts';
import { killedCliRun, runCli } from '../../helpers/cli.ts';
import { scratchDir, snapshotTree } from '../../helpers/paths.ts';

const source = 'hdfs://prod-nn:8020/warehouse';

const cli = (args: string[]) => runCli(args);
const syncKilled = (args: string[], when: RegExp | undefined, afterMs?: number) =>
  killedCliRun(['sync', ...args], when, afterMs);

describe('a sync killed at any moment', () => {
  it('leaves the catalog at its last good version, and the next run finishes', async (t) => {
    const base = scratchDir('kill');
    const replicaRoot = path.join(base, 'replica');
    const table = new SyntheticTableWriter({
      localLocation: path.join(replicaRoot, 'db', 'events'),
      sourceLocation: `${source}/db/events`,
      partitions: 40,
    });
    for (let i = 0; i < 5; i++) await table.commit(40);
    const args = [
      '--warehouse',
      path.join(base, 'dr'),
      '--database',
      'db',
      '--table',
      'events',
      '--replicated-path',
      replicaRoot,
      '--map',
      `${source}=${replicaRoot}`,
    ];

    const first = cli(['sync', ...args, '--json', '--quiet']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json?.status, 'committed');
    const good = String(first.json?.metadataLocation);

    // More commits arrive: the next sync has 40 manifests and 40 manifest lists to write.
    for (let i = 0; i < 40; i++) await table.commit(50);
    const replicaBefore = snapshotTree(replicaRoot);

    // Kill at each stage the progress output names, then at a spread of times.
    const cues: (RegExp | number)[] = [
      /^check: /m,
      /rewrote \d+\/\d+ manifests$/m,
      /rewrote (\d+)\/\1 manifests$/m,
      /manifest lists$/m,
      /^commit: /m,
      50,
      150,
      300,
      600,
      1000,
    ];
    let final: string | undefined;
    let killedBeforeCommit = 0;
    for (const cue of cues) {
      const r = await syncKilled(
        args,
        typeof cue === 'number' ? undefined : cue,
        typeof cue === 'number' ? cue : 30_000,
      );
      const label = typeof cue === 'number' ? `after ${cue} ms` : `on ${cue}`;
      // Each run after a kill also proves that the dead run's lock does not block it.
      if (r.signal !== 'SIGKILL') {
        // It finished before the kill landed (a fast machine); it must have finished well.
        assert.equal(r.code, 0, `${label}: ${r.stderr}`);
      }
      const v = cli(['verify', ...args, '--json']);
      const at = String(v.json?.metadataLocation);
      assert.equal(v.code, 0, `${label}: verify of ${at}: ${v.stdout}`);
      assert.equal(v.json?.ok, true, label);
      if (at === good) {
        if (r.signal === 'SIGKILL') killedBeforeCommit++;
      } else {
        // Once the new version is committed it stays so: a kill never moves the catalog back.
        final ??= at;
        assert.equal(at, final, `${label}: the catalog points at a third version`);
      }
      assert.deepEqual(snapshotTree(replicaRoot), replicaBefore, `${label}: the replica was modified`);
      t.diagnostic(`${label}: ${r.signal ?? `exit ${r.code}`}, catalog at ${path.basename(at)}`);
    }
    assert.ok(killedBeforeCommit >= 3, `${killedBeforeCommit} runs were killed before their commit`);

    const done = cli(['sync', ...args, '--json', '--quiet']);
    assert.equal(done.code, 0, done.stderr);
    assert.ok(['committed', 'up-to-date'].includes(String(done.json?.status)), String(done.json?.status));
    assert.match(String(done.json?.metadataLocation), /v45\.metadata\.json$/);
    if (final) assert.equal(done.json?.metadataLocation, final);
    const again = cli(['sync', ...args, '--json', '--quiet']);
    assert.equal(again.json?.status, 'up-to-date');
    const v = cli(['verify', ...args, '--json']);
    assert.equal(v.json?.ok, true, v.stdout);
    assert.deepEqual(snapshotTree(replicaRoot), replicaBefore, 'the replica was modified');
  });
});
