/** The checkpoint of a table with nothing new is left alone: no rewrite of identical bytes. */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.ts';
import { impalaFixtures, scratchDir } from '../../helpers/paths.ts';
import { replicate } from '../../helpers/replicate.ts';
import { requireFixtures } from '../../helpers/requires.ts';

const table = 'iceberg_v2_partitioned_position_deletes';
const tableDir = path.join(impalaFixtures, 'hadoop_catalog', 'ice', table);

describe('iceberg-sync sync checkpoint writes', requireFixtures(), () => {
  it('leaves state.json untouched (bytes, file, mtime) when a run finds nothing new', () => {
    const base = scratchDir('cli-checkpoint');
    const replicaRoot = path.join(base, 'replica');
    const rules = replicate(tableDir, path.join(replicaRoot, 'ice', table));
    const args = ['sync', '--warehouse', path.join(base, 'dr'), '--database', 'ice', '--table', table];
    args.push('--replicated-path', replicaRoot, '--json');
    for (const r of rules) args.push('--map', `${r.source}=${r.target}`);
    const state = path.join(base, 'dr', 'ice', table, 'metadata', '.iceberg-sync', 'state.json');

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
    // An atomic save replaces the file (a new inode) and sets its mtime: neither happened.
    assert.equal(after.ino, before.ino);
    assert.equal(after.mtimeNs, before.mtimeNs);
  });
});
