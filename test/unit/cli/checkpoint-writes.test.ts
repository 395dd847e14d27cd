/** The checkpoint of a table with nothing new is left alone (sync and add-files): no rewrite of identical bytes. */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.ts';
import { writeDataFile } from '../../helpers/parquet-files.ts';
import { impalaFixtures, scratchDir } from '../../helpers/paths.ts';
import { replicate } from '../../helpers/replicate.ts';
import { requireFixtures } from '../../helpers/requires.ts';

const table = 'iceberg_v2_partitioned_position_deletes';
const tableDir = path.join(impalaFixtures, 'hadoop_catalog', 'ice', table);

/**
 * Runs the command once (it must commit), then twice more (up to date each time), and checks that
 * the checkpoint `state` was left alone by the two: same bytes, and neither replaced (an atomic
 * save makes a new inode) nor touched (mtime).
 */
function commitThenTwoNoOps(args: string[], state: string): void {
  const first = runCli(args);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.json?.status, 'committed');
  const bytes = readFileSync(state);
  const before = statSync(state, { bigint: true });
  for (let i = 0; i < 2; i++) {
    const again = runCli(args);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json?.status, 'up-to-date');
  }
  const after = statSync(state, { bigint: true });
  assert.deepEqual(readFileSync(state), bytes);
  assert.equal(after.ino, before.ino);
  assert.equal(after.mtimeNs, before.mtimeNs);
}

describe('iceberg-sync sync checkpoint writes', requireFixtures(), () => {
  it('leaves state.json untouched (bytes, file, mtime) when a run finds nothing new', () => {
    const base = scratchDir('cli-checkpoint');
    const replicaRoot = path.join(base, 'replica');
    const rules = replicate(tableDir, path.join(replicaRoot, 'ice', table));
    const args = ['sync', '--warehouse', path.join(base, 'dr'), '--database', 'ice', '--table', table];
    args.push('--replicated-path', replicaRoot, '--json');
    for (const r of rules) args.push('--map', `${r.source}=${r.target}`);
    const state = path.join(base, 'dr', 'ice', table, 'metadata', '.iceberg-sync', 'state.json');

    commitThenTwoNoOps(args, state);
  });
});

describe('iceberg-sync add-files checkpoint writes', () => {
  it('leaves add-files-state.json untouched when a run finds nothing new, and saves it when files arrive', () => {
    const base = scratchDir('cli-addfiles-checkpoint');
    const data = path.join(base, 'replica', 'clicks');
    const args = [
      'add-files',
      '--warehouse',
      path.join(base, 'dr'),
      '--database',
      'web',
      '--table',
      'clicks',
    ];
    args.push('--replicated-path', data, '--create', '--json');
    writeDataFile(path.join(data, 'a.parquet'), [1n, 2n]);
    const state = path.join(base, 'dr', 'web', 'clicks', 'metadata', '.iceberg-sync', 'add-files-state.json');

    commitThenTwoNoOps(args, state);

    writeDataFile(path.join(data, 'b.parquet'), [3n]);
    const more = runCli(args);
    assert.equal(more.code, 0, more.stderr);
    assert.equal(more.json?.filesAdded, 1);
    const tracked = JSON.parse(readFileSync(state, 'utf8')).tracked as Record<string, number>;
    assert.equal(Object.keys(tracked).length, 2, 'the new file is in the saved state');
  });
});
