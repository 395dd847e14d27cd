/**
 * Correcting --map after a failed first run: the run that committed nothing does not pin its
 * rules, and a change of rules after a commit is still refused.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.ts';
import { impalaFixtures, scratchDir } from '../../helpers/paths.ts';
import { replicate } from '../../helpers/replicate.ts';
import { requireFixtures } from '../../helpers/requires.ts';

const table = 'iceberg_v2_partitioned_position_deletes';
const tableDir = path.join(impalaFixtures, 'hadoop_catalog', 'ice', table);

describe('iceberg-sync sync after the --map rules change', requireFixtures(), () => {
  it('takes corrected rules after an UNMAPPED_PATH failure, and refuses a change after a commit', () => {
    const base = scratchDir('cli-remap');
    const replicaRoot = path.join(base, 'replica');
    const rules = replicate(tableDir, path.join(replicaRoot, 'ice', table));
    assert.equal(rules.length, 2, 'the fixture needs both spellings of its location');
    const common = ['--warehouse', path.join(base, 'dr'), '--database', 'ice', '--table', table];
    common.push('--replicated-path', replicaRoot, '--json');
    const maps = (rs: typeof rules) => rs.flatMap((r) => ['--map', `${r.source}=${r.target}`]);
    const state = path.join(base, 'dr', 'ice', table, 'metadata', '.iceberg-sync', 'state.json');

    // A first try maps to a second copy and has no rule for the hdfs:// spelling the
    // position-delete files use: it fails after writing outputs that name the second copy.
    const copy = path.join(base, 'copy', 'ice', table);
    replicate(tableDir, copy);
    const wrong = rules.filter((r) => !r.source.startsWith('hdfs:')).map((r) => ({ ...r, target: copy }));
    const first = runCli(['sync', ...common, ...maps(wrong)]);
    assert.equal(first.code, 4, first.stderr);
    assert.equal((first.json?.error as { code?: string } | undefined)?.code, 'UNMAPPED_PATH');
    assert.ok(existsSync(state), 'the failed run saved its checkpoint');
    const metadataRoot = path.dirname(path.dirname(state));
    assert.ok(
      readdirSync(metadataRoot).some((n) => n.endsWith('.avro')),
      'the failed run wrote outputs with its rules',
    );

    const fixed = runCli(['sync', ...common, ...maps(rules)]);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.equal(fixed.json?.status, 'committed');
    assert.match(fixed.stderr, /mapping rules differ .* which committed nothing/);
    // Nothing the first try wrote was reused: the commit names no file of the second copy.
    rmSync(path.join(base, 'copy'), { recursive: true });
    const verified = runCli(['verify', ...common, ...maps(rules)]);
    assert.equal(verified.code, 0, verified.stdout);
    assert.equal(verified.json?.ok, true);

    // Once committed, other rules would mix outputs of two mappings: refused, catalog unchanged.
    const extra = { source: 's3://elsewhere/warehouse', target: path.join(replicaRoot, 'elsewhere') };
    const changed = runCli(['sync', ...common, ...maps([...rules, extra])]);
    assert.equal(changed.code, 2, changed.stderr);
    assert.equal((changed.json?.error as { code?: string } | undefined)?.code, 'CONFIG');
    assert.match(
      changed.stderr,
      /the mapping rules differ from those of earlier runs into .*, which committed with them/,
    );
    const again = runCli(['sync', ...common, ...maps(rules)]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json?.status, 'up-to-date');
    assert.equal(again.json?.metadataLocation, fixed.json?.metadataLocation);
  });
});
