/**
 * The command line never writes into the replica, whatever the spelling of the output locations,
 * and refuses before creating anything; `plan` writes nothing anywhere; symlinks in the replica
 * are reported as such and never followed. Every case compares checksums of the whole scratch
 * tree (replica included) before and after.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../../helpers/cli.ts';
import { writeDataFile } from '../../helpers/parquet-files.ts';
import { repoRoot, scratchDir } from '../../helpers/paths.ts';
import { treeChanges, treeDigest } from '../../helpers/tree.ts';

const SOURCE_WAREHOUSE = 'hdfs://prod-nn:8020/warehouse';
const sample = path.join(repoRoot, 'examples', 'replica', 'warehouse');

/** A scratch dir with a copy of the sample replica at `<base>/replica` and the table options. */
function setup(label: string) {
  const base = scratchDir(label);
  const replica = path.join(base, 'replica');
  cpSync(sample, replica, { recursive: true });
  const table = path.join(replica, 'sales', 'orders');
  const tableArgs = ['--database', 'sales', '--table', 'orders', '--replicated-path', replica];
  const mapArgs = ['--map', `${SOURCE_WAREHOUSE}=${replica}`];
  return { base, replica, table, args: [...tableArgs, ...mapArgs] };
}

/** Runs the CLI and asserts that nothing at all changed below `base`. */
function runUnchanged(base: string, args: string[]) {
  const before = treeDigest(base);
  const r = runCli(args);
  assert.deepEqual(treeChanges(before, treeDigest(base)), [], `${args.join(' ')}\n${r.stderr}`);
  return r;
}

/** Asserts a refusal: exit 2, a CONFIG error naming the output and the replica, and how. */
function assertRefused(r: ReturnType<typeof runCli>, output: RegExp, replica: string) {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, output);
  assert.ok(r.stderr.includes(`inside the replicated tree ${replica}`), r.stderr);
  assert.match(r.stderr, /The replica is never written: choose a location outside it/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal((r.json?.error as { code?: string } | undefined)?.code, 'CONFIG');
}

/** The name of the newest `vN.metadata.json` in a metadata directory. */
function newestMetadataName(dir: string): string {
  return readdirSync(dir)
    .filter((n) => /^v\d+\.metadata\.json$/.test(n))
    .sort((a, b) => Number(/\d+/.exec(b)![0]) - Number(/\d+/.exec(a)![0]))[0]!;
}

describe('the replica guard on the command line (exit 2, nothing created)', () => {
  it('a metadata root whose parent is a symlink into the replica', () => {
    const s = setup('guard-parent-link');
    symlinkSync(s.table, path.join(s.base, 'dr'));
    const root = path.join(s.base, 'dr', 'meta');
    for (const cmd of ['sync', 'plan']) {
      const r = runUnchanged(s.base, [
        cmd,
        ...s.args,
        '--warehouse',
        path.join(s.base, 'wh'),
        '--metadata-root',
        root,
        '--json',
      ]);
      assertRefused(
        r,
        new RegExp(`metadata root ${root} resolves to ${path.join(s.table, 'meta')}, inside`),
        s.replica,
      );
      assert.equal(existsSync(path.join(s.base, 'wh')), false, 'no warehouse, no catalog file');
    }
  });

  it('a metadata root that is itself a symlink into the replica', () => {
    const s = setup('guard-root-link');
    const root = path.join(s.base, 'meta-link');
    symlinkSync(path.join(s.table, 'metadata'), root);
    const r = runUnchanged(s.base, [
      'sync',
      ...s.args,
      '--warehouse',
      path.join(s.base, 'wh'),
      '--metadata-root',
      root,
      '--json',
    ]);
    assertRefused(
      r,
      new RegExp(`metadata root ${root} resolves to ${path.join(s.table, 'metadata')}, inside`),
      s.replica,
    );
  });

  it('--warehouse equal to the replica, inside it, or spelled with a trailing slash or ..', () => {
    const s = setup('guard-warehouse');
    const spellings = [
      s.replica,
      `${s.replica}/`,
      path.join(s.replica, 'dr'),
      `${s.base}/elsewhere/../replica/dr`,
    ];
    for (const wh of spellings) {
      const r = runUnchanged(s.base, ['sync', ...s.args, '--warehouse', wh, '--json']);
      // The SQLite catalog file is the first thing the run would have created.
      assertRefused(r, /SQLite catalog file .*iceberg_catalog\.db (is|resolves to .*,) inside/, s.replica);
    }
  });

  it('a configured SQLite catalog file in the replica, and a Hadoop catalog warehouse in it', () => {
    const s = setup('guard-catalogs');
    const db = path.join(s.table, 'catalog.db');
    const wh = ['--warehouse', path.join(s.base, 'wh')];
    const sql = runUnchanged(s.base, [
      'sync',
      ...s.args,
      ...wh,
      '--catalog-uri',
      `sqlite:///${db}`,
      '--json',
    ]);
    assertRefused(sql, new RegExp(`SQLite catalog file ${db} is inside`), s.replica);
    const hadoop = runUnchanged(s.base, [
      'sync',
      ...s.args,
      '--catalog-type',
      'hadoop',
      '--warehouse',
      path.join(s.replica, 'hadoop-wh'),
      '--json',
    ]);
    assertRefused(hadoop, /hadoop catalog warehouse .*hadoop-wh is inside/, s.replica);
  });

  it('a copy plan inside the replica, and a state directory that is a symlink into it', () => {
    const s = setup('guard-state');
    const wh = path.join(s.base, 'wh');
    const plan = path.join(s.table, 'copy-plan.csv');
    for (const cmd of ['sync', 'plan']) {
      const r = runUnchanged(s.base, [cmd, ...s.args, '--warehouse', wh, '--copy-plan', plan, '--json']);
      assertRefused(r, new RegExp(`copy plan \\(--copy-plan\\) ${plan} is inside`), s.replica);
    }
    const root = path.join(s.base, 'meta');
    mkdirSync(root);
    symlinkSync(s.table, path.join(root, '.iceberg-sync'));
    const r = runUnchanged(s.base, ['sync', ...s.args, '--warehouse', wh, '--metadata-root', root, '--json']);
    assertRefused(
      r,
      new RegExp(`state directory ${root}/.iceberg-sync resolves to ${s.table}, inside`),
      s.replica,
    );
  });

  it('add-files: a metadata root or warehouse in the replicated directory, by symlink or directly', () => {
    const base = scratchDir('guard-addfiles');
    const data = path.join(base, 'replica', 'clicks');
    writeDataFile(path.join(data, 'a.parquet'), [1n, 2n], { notes: false });
    const common = [
      '--database',
      'web',
      '--table',
      'clicks',
      '--replicated-path',
      data,
      '--create',
      '--json',
    ];
    symlinkSync(data, path.join(base, 'data-link'));
    const viaLink = path.join(base, 'data-link', 'meta');
    for (const args of [
      ['add-files', ...common, '--warehouse', path.join(base, 'wh'), '--metadata-root', viaLink],
      [
        'sync',
        '--mode',
        'add-files',
        ...common,
        '--warehouse',
        path.join(base, 'wh'),
        '--metadata-root',
        viaLink,
      ],
      [
        'plan',
        '--mode',
        'add-files',
        ...common,
        '--warehouse',
        path.join(base, 'wh'),
        '--metadata-root',
        viaLink,
      ],
    ]) {
      const r = runUnchanged(base, args);
      assertRefused(r, new RegExp(`metadata root ${viaLink} resolves to ${data}/meta, inside`), data);
    }
    const r = runUnchanged(base, ['add-files', ...common, '--warehouse', data]);
    assertRefused(r, /SQLite catalog file .*iceberg_catalog\.db is inside/, data);
  });
});

describe('plan writes nothing anywhere', () => {
  it('sync mode: a DR warehouse that does not exist stays absent; an existing catalog keeps its bytes', () => {
    const s = setup('plan-nothing');
    const wh = path.join(s.base, 'dr', 'warehouse');
    const first = runUnchanged(s.base, ['plan', ...s.args, '--warehouse', wh, '--json']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json?.status, 'planned');
    assert.equal(first.json?.copyPlan, null);
    assert.equal(existsSync(path.join(s.base, 'dr')), false);

    // With a committed table (of the older versions) and a newer replicated version to plan.
    const dir = path.join(s.table, 'metadata');
    const newest = newestMetadataName(dir);
    renameSync(path.join(dir, newest), path.join(s.base, newest));
    const committed = runCli(['sync', ...s.args, '--warehouse', wh, '--json']);
    assert.equal(committed.json?.status, 'committed', committed.stderr);
    renameSync(path.join(s.base, newest), path.join(dir, newest));
    const next = runUnchanged(s.base, ['plan', ...s.args, '--warehouse', wh, '--json']);
    assert.equal(next.json?.status, 'planned', next.stdout);
    assert.equal(next.json?.newestSourceMetadata, path.join(dir, newest));
    assert.equal(next.json?.metadataLocation, committed.json?.metadataLocation, 'the catalog is as it was');
    // verify reads only, too.
    const verify = runUnchanged(s.base, [
      'verify',
      ...s.args,
      '--warehouse',
      path.join(s.base, 'nowhere'),
      '--json',
    ]);
    assert.equal(verify.code, 6, verify.stderr);
    assert.match(verify.stderr, /is not in catalog/);
  });

  it('sync mode: the copy plan is written only where --copy-plan says', () => {
    const s = setup('plan-copyplan');
    const dataDir = path.join(s.table, 'data', 'region=amer');
    const dataFile = path.join(dataDir, readdirSync(dataDir).find((n) => !n.includes('deletes'))!);
    renameSync(dataFile, `${dataFile}.away`);
    const planFile = path.join(s.base, 'plans', 'missing.csv');
    const before = treeDigest(s.base);
    const r = runCli([
      'plan',
      ...s.args,
      '--warehouse',
      path.join(s.base, 'dr'),
      '--copy-plan',
      planFile,
      '--json',
    ]);
    assert.equal(r.json?.copyPlan, planFile, r.stderr);
    const changes = treeChanges(before, treeDigest(s.base));
    assert.deepEqual(changes, ['created plans', 'created plans/missing.csv']);
  });

  it('add-files mode: nothing is created, neither the warehouse nor the catalog nor a lock', () => {
    const base = scratchDir('plan-addfiles');
    const data = path.join(base, 'replica', 'clicks');
    writeDataFile(path.join(data, 'region=eu', 'a.parquet'), [1n, 2n], { notes: false });
    const common = [
      '--database',
      'web',
      '--table',
      'clicks',
      '--replicated-path',
      data,
      '--warehouse',
      path.join(base, 'dr'),
      '--create',
      '--partition-by',
      'region:string',
      '--json',
    ];
    for (const args of [
      ['plan', '--mode', 'add-files', ...common],
      ['add-files', '--dry-run', ...common],
    ]) {
      const r = runUnchanged(base, args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json?.status, 'planned');
      assert.equal(r.json?.filesAdded, 1);
    }
    assert.equal(existsSync(path.join(base, 'dr')), false);
    // After a real run, a plan leaves the catalog and the checkpoint byte for byte.
    assert.equal(runCli(['add-files', ...common]).code, 0);
    writeDataFile(path.join(data, 'region=us', 'b.parquet'), [3n], { notes: false });
    const r = runUnchanged(base, ['plan', '--mode', 'add-files', ...common]);
    assert.equal(r.json?.filesAdded, 1, r.stderr);
  });
});

describe('symlinks in the replica are reported, never followed', () => {
  it('sync: a data file that is a symlink is listed with reason symlink, and the run is behind', () => {
    const s = setup('symlink-data');
    const dir = path.join(s.table, 'data', 'region=emea');
    const name = readdirSync(dir).find((n) => !n.includes('deletes'))!;
    const file = path.join(dir, name);
    // The same bytes elsewhere, linked in: the size matches, but it is not a replicated file.
    const elsewhere = path.join(s.base, 'elsewhere.parquet');
    renameSync(file, elsewhere);
    symlinkSync(elsewhere, file);
    const wh = path.join(s.base, 'dr');
    const r = runCli(['sync', ...s.args, '--warehouse', wh, '--json']);
    assert.equal(r.code, 3, r.stderr);
    const missing = ((r.json?.missing ?? []) as { target: string; reason: string }[]).find(
      (m) => m.target === file,
    );
    assert.equal(missing?.reason, 'symlink');
    assert.ok(r.stdout.includes(`${file}: is a symlink (not followed)`), r.stdout);
    const plan = runUnchanged(s.base, ['plan', ...s.args, '--warehouse', wh, '--json']);
    assert.equal(
      ((plan.json?.missing ?? []) as { target: string; reason: string }[]).find((m) => m.target === file)
        ?.reason,
      'symlink',
    );
  });

  it('sync: files below a symlinked directory of the replica are not followed; nor is a symlinked metadata directory', () => {
    const s = setup('symlink-dir');
    const dir = path.join(s.table, 'data', 'region=amer');
    const elsewhere = path.join(s.base, 'elsewhere-amer');
    cpSync(dir, elsewhere, { recursive: true });
    rmSync(dir, { recursive: true });
    symlinkSync(elsewhere, dir);
    const wh = path.join(s.base, 'dr');
    const r = runUnchanged(s.base, ['plan', ...s.args, '--warehouse', wh, '--json']);
    assert.equal(r.code, 3, r.stderr);
    const linked = ((r.json?.missing ?? []) as { target: string; reason: string; symlink?: string }[]).filter(
      (m) => m.target.startsWith(`${dir}/`),
    );
    assert.equal(linked.length, readdirSync(elsewhere).length, JSON.stringify(r.json?.missing));
    for (const m of linked) assert.deepEqual([m.reason, m.symlink], ['symlink', dir]);
    assert.ok(r.stdout.includes(`: lies below the symlink ${dir} (not followed)`), r.stdout);

    const s2 = setup('symlink-metadir');
    const meta = path.join(s2.table, 'metadata');
    cpSync(meta, path.join(s2.base, 'meta-copy'), { recursive: true });
    rmSync(meta, { recursive: true });
    symlinkSync(path.join(s2.base, 'meta-copy'), meta);
    const m = runUnchanged(s2.base, ['plan', ...s2.args, '--warehouse', path.join(s2.base, 'dr'), '--json']);
    assert.equal(m.code, 6, m.stderr);
    assert.ok(m.stderr.includes(`${meta}: is a symlink (not followed)`), m.stderr);
  });

  it('sync: a newest metadata.json that is a symlink is passed over with the reason', () => {
    const s = setup('symlink-meta');
    const dir = path.join(s.table, 'metadata');
    const newest = newestMetadataName(dir);
    const away = path.join(s.base, newest);
    renameSync(path.join(dir, newest), away);
    symlinkSync(away, path.join(dir, newest));
    const r = runUnchanged(s.base, ['plan', ...s.args, '--warehouse', path.join(s.base, 'dr'), '--json']);
    assert.equal(r.code, 3, r.stderr);
    assert.deepEqual(((r.json?.skippedVersions ?? []) as { metadata: string; reason: string }[])[0], {
      metadata: path.join(dir, newest),
      reason: 'is a symlink (not followed)',
    });
  });

  it('add-files: a symlinked file and a symlinked directory are rejected with the reason (exit 4)', () => {
    const base = scratchDir('symlink-addfiles');
    const data = path.join(base, 'replica', 'clicks');
    writeDataFile(path.join(data, 'a.parquet'), [1n], { notes: false });
    writeDataFile(path.join(base, 'outside', 'b.parquet'), [2n], { notes: false });
    symlinkSync(path.join(base, 'outside', 'b.parquet'), path.join(data, 'b.parquet'));
    symlinkSync(path.join(base, 'outside'), path.join(data, 'more'));
    const r = runCli([
      'add-files',
      '--database',
      'web',
      '--table',
      'clicks',
      '--replicated-path',
      data,
      '--warehouse',
      path.join(base, 'dr'),
      '--create',
      '--json',
    ]);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.json?.filesAdded, 1);
    assert.deepEqual(r.json?.rejected, [
      { path: path.join(data, 'b.parquet'), reason: 'is a symlink (not followed)' },
      { path: path.join(data, 'more'), reason: 'is a symlink to a directory (not followed)' },
    ]);
  });
});
