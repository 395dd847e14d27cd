/** The add-files command line: JSON report, exit codes, `sync --mode add-files`, dry runs, verify. */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.ts';
import { writeDataFile } from '../../helpers/parquet-files.ts';
import { scratchDir } from '../../helpers/paths.ts';

const cli = (args: string[]) => runCli(args);

describe('iceberg-sync add-files', () => {
  it('creates, appends, reports rejected and deferred files with exit codes 4 and 3, and verifies', () => {
    const base = scratchDir('cli-addfiles');
    const data = path.join(base, 'replica', 'clicks');
    const common = [
      '--warehouse',
      path.join(base, 'dr'),
      '--database',
      'web',
      '--table',
      'clicks',
      '--replicated-path',
      data,
    ];
    writeDataFile(path.join(data, 'region=eu', 'a.parquet'), [1n, 2n]);
    writeDataFile(path.join(data, 'region=us', 'b.parquet'), [3n]);

    const plan = cli(['add-files', ...common, '--create', '--partition-by', 'region', '--dry-run', '--json']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.equal(plan.json?.status, 'planned');
    assert.equal(plan.json?.filesAdded, 2);
    const plan2 = cli([
      'plan',
      '--mode',
      'add-files',
      ...common,
      '--create',
      '--partition-by',
      'region',
      '--json',
    ]);
    assert.equal(plan2.code, 0, plan2.stderr);
    assert.equal(plan2.json?.status, 'planned');
    assert.equal(plan2.json?.created, true);

    const created = cli(['add-files', ...common, '--create', '--partition-by', 'region', '--json']);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.json?.status, 'committed');
    assert.equal(created.json?.created, true);
    assert.equal(created.json?.filesAdded, 2);
    assert.equal(created.json?.filesSkipped, 0);
    assert.match(String(created.json?.snapshotId), /^\d+$/);
    assert.match(created.stdout, /committed \(table created\)/);

    // A damaged file: the good new one is added, the bad one listed, exit 4.
    writeDataFile(path.join(data, 'region=eu', 'c.parquet'), [4n]);
    const good = readFileSync(path.join(data, 'region=eu', 'c.parquet'));
    writeFileSync(path.join(data, 'region=eu', 'd.parquet'), good.subarray(0, 40));
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(path.join(data, 'region=eu', 'd.parquet'), past, past);
    const bad = cli(['add-files', ...common, '--json']);
    assert.equal(bad.code, 4, bad.stderr);
    assert.equal(bad.json?.status, 'committed');
    assert.equal(bad.json?.filesAdded, 1);
    assert.equal(bad.json?.filesSkipped, 1);
    assert.deepEqual(
      ((bad.json?.rejected ?? []) as { path: string }[]).map((r) => r.path),
      [path.join(data, 'region=eu', 'd.parquet')],
    );
    assert.notEqual(bad.json?.snapshotId, created.json?.snapshotId);
    assert.match(bad.stdout, /rejected .*d\.parquet: /);

    // A file still arriving (modified just now) waits for the default settle time: exit 3.
    rmSync(path.join(data, 'region=eu', 'd.parquet'));
    writeDataFile(path.join(data, 'region=us', 'e.parquet'), [5n], { settled: false });
    const young = cli(['sync', '--mode', 'add-files', ...common, '--json']);
    assert.equal(young.code, 3, young.stderr);
    assert.equal(young.json?.status, 'up-to-date');
    assert.equal(((young.json?.deferred ?? []) as unknown[]).length, 1);
    const settled = cli(['add-files', ...common, '--settle', '0', '--json']);
    assert.equal(settled.code, 0, settled.stderr);
    assert.equal(settled.json?.filesAdded, 1);

    const verify = cli(['verify', ...common, '--json']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.equal(verify.json?.ok, true);
  });

  it('rejects bad options with exit 2 and a clear message', () => {
    const base = scratchDir('cli-addfiles-usage');
    const common = ['--warehouse', path.join(base, 'dr'), '--database', 'web', '--table', 'clicks'];
    const noPath = cli(['add-files', ...common]);
    assert.equal(noPath.code, 2);
    assert.match(noPath.stderr, /--replicated-path/);
    const badVersion = cli([
      'add-files',
      ...common,
      '--replicated-path',
      base,
      '--create',
      '--format-version',
      '4',
    ]);
    assert.equal(badVersion.code, 2);
    assert.match(badVersion.stderr, /--format-version: must be 1, 2 or 3 \(got '4'\)/);
    const noTable = cli(['add-files', ...common, '--replicated-path', path.join(base, 'nothing')]);
    assert.equal(noTable.code, 6);
    assert.match(noTable.stderr, /no such table .*--create/);
  });
});
