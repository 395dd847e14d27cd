/** The command line as scripts use it: exit codes, the `--json` last line, errors on stderr. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { FIXTURE_TABLE, replicatedFixture, runCli } from '../../helpers/cli.ts';
import { requireFixtures } from '../../helpers/requires.ts';

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { ...process.env, ...env });

const table = FIXTURE_TABLE;
const setup = () => replicatedFixture('cli');

describe('iceberg-sync CLI', requireFixtures(), () => {
  it('syncs, reports JSON as the last stdout line, then is up to date; verify passes', () => {
    const s = setup();
    const first = cli(['sync', ...s.args, '--json']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json?.status, 'committed');
    assert.equal(typeof first.json?.snapshotId, 'string');
    assert.equal(first.json?.missingFiles, 0);
    assert.ok((first.json?.manifestsRewritten as number) > 0);
    assert.match(first.stdout, /^status\s+committed$/m);
    const again = cli(['sync', ...s.args, '--json', '--quiet']);
    assert.equal(again.code, 0);
    assert.equal(again.json?.status, 'up-to-date');
    assert.equal(again.json?.metadataLocation, first.json?.metadataLocation);
    assert.equal(again.stderr, '');
    const v = cli(['verify', ...s.args, '--json']);
    assert.equal(v.code, 0, v.stdout);
    assert.equal(v.json?.ok, true);
  });

  it('plan writes nothing and exits 0', () => {
    const s = setup();
    const r = cli(['plan', ...s.args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json?.status, 'planned');
    assert.equal(r.json?.dryRun, true);
    assert.throws(() =>
      readFileSync(path.join(s.base, 'dr', 'ice', table, 'metadata', '.iceberg-sync', 'state.json')),
    );
  });

  it('exits 3 when behind, with the missing file in the copy plan', () => {
    const s = setup();
    const dataDir = path.join(s.replicaRoot, 'ice', table, 'data');
    // Truncate one of the position-delete files of the newest snapshot.
    const deleteFile = spawnSync('find', [dataDir, '-name', '*delete*'], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')[0]!;
    truncateSync(deleteFile, 10);
    const r = cli(['sync', ...s.args, '--json']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.json?.status, 'behind');
    assert.equal(r.json?.missingFiles, 1);
    const plan = readFileSync(r.json?.copyPlan as string, 'utf8');
    assert.ok(plan.trim().endsWith(`,${deleteFile}`), plan);
  });

  it('exits 4 naming file and field for an unmapped path, and 2 for bad usage', () => {
    const s = setup();
    const oneRule = s.args.filter(
      (a, i, all) => !(a === '--map' && all[i + 1]?.startsWith('hdfs:')) && !a.startsWith('hdfs:'),
    );
    const r = cli(['sync', ...oneRule, '--json']);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.json?.status, 'failed');
    assert.equal((r.json?.error as { code: string } | undefined)?.code, 'UNMAPPED_PATH');
    assert.match(
      r.stderr,
      /^iceberg-sync: error: .*\.parquet: file_path column 'hdfs:\/\/localhost:20500\/.*' matches no --map rule$/m,
    );
    const usage = cli(['sync', '--database', 'x']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /required option '--table <name>' not specified/);
    const badMap = cli(['sync', ...s.args, '--map', 'nonsense']);
    assert.equal(badMap.code, 2);
    assert.match(badMap.stderr, /--map 'nonsense' is not of the form SOURCE_PREFIX=TARGET_PREFIX/);
  });

  it('exits 5 while another run holds the lock', () => {
    const s = setup();
    const lockDir = path.join(s.base, 'dr', 'ice', table, 'metadata', '.iceberg-sync');
    spawnSync('mkdir', ['-p', lockDir]);
    // A lock held by a live process (this test's parent shell is alive: use our own pid).
    writeFileSync(
      path.join(lockDir, 'lock'),
      JSON.stringify({ pid: process.pid, host: hostname(), since: 'now' }),
    );
    const r = cli(['sync', ...s.args, '--json']);
    assert.equal(r.code, 5, r.stderr);
    assert.equal((r.json?.error as { code: string } | undefined)?.code, 'LOCKED');
    rmSync(path.join(lockDir, 'lock'));
  });

  it('exits 6 when the metadata root cannot be written, and the catalog keeps its last good state', () => {
    const s = setup();
    const first = cli(['sync', ...s.args, '--json', '--quiet']);
    assert.equal(first.code, 0, first.stderr);
    // A metadata root below a regular file can be written by nobody, root included.
    const blocker = path.join(s.base, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const roots = [path.join(blocker, 'metadata')];
    if (process.getuid?.() !== 0) {
      // Permission bits only bind non-root users.
      const ro = path.join(s.base, 'ro');
      mkdirSync(ro);
      chmodSync(ro, 0o555);
      roots.push(path.join(ro, 'metadata'));
    }
    for (const root of roots) {
      const r = cli(['sync', ...s.args, '--metadata-root', root, '--json']);
      assert.equal(r.code, 6, r.stderr);
      assert.equal(r.json?.status, 'failed');
      assert.match(r.stderr, /^iceberg-sync: error: /m);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    const after = cli(['sync', ...s.args, '--json', '--quiet']);
    assert.equal(after.json?.status, 'up-to-date');
    assert.equal(after.json?.metadataLocation, first.json?.metadataLocation);
  });

  it('inspect lists the prefixes of every spelling, inside delete files too', () => {
    const s = setup();
    const r = cli(['inspect', path.join(s.replicaRoot, 'ice', table), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const prefixes = ((r.json?.prefixes ?? []) as { prefix: string; fields: string[] }[]).map(
      (p) => p.prefix,
    );
    for (const rule of s.rules)
      assert.ok(prefixes.includes(rule.source), `${rule.source} in ${prefixes.join(', ')}`);
  });
});
