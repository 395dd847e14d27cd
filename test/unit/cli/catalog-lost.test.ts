/**
 * The DR catalog and the checkpoint disagree: the catalog database deleted, the table's row dropped
 * or pointed elsewhere, the metadata file the catalog names deleted. Sync must never stay stuck on
 * "behind", never overwrite an entry it did not write, and repair what it can; verify must list
 * what is wrong (exit 7). Also killed runs in the middle of a repair.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { killedCliRun, runCli } from '../../helpers/cli.ts';
import { catalogLocation, sampleSite } from '../../helpers/sample-site.ts';

function site(prefix: string) {
  const s = sampleSite(prefix);
  const first = runCli(['sync', ...s.args, '--json', '--quiet']);
  assert.equal(first.code, 0, first.stderr);
  return { ...s, committed: String(first.json?.metadataLocation) };
}

function sql(dbFile: string, statement: string, ...params: string[]): void {
  const db = new DatabaseSync(dbFile);
  try {
    db.prepare(statement).run(...params);
  } finally {
    db.close();
  }
}

const location = catalogLocation;

describe('sync when the DR catalog lost the table', () => {
  for (const [how, lose] of [
    ['the catalog database deleted', (s: ReturnType<typeof site>) => rmSync(s.dbFile)],
    ['the table row dropped', (s: ReturnType<typeof site>) => sql(s.dbFile, 'DELETE FROM iceberg_tables')],
  ] as const) {
    it(`${how}: the next run registers the table again (exit 0), says so, and verify passes`, () => {
      const s = site('lost');
      lose(s);
      const plan = runCli(['plan', ...s.args, '--json']);
      assert.equal(plan.code, 0, plan.stderr);
      assert.match(String(plan.json?.recovered), /no longer has the table/);
      const r = runCli(['sync', ...s.args, '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.json?.status, 'committed');
      assert.match(String(r.json?.recovered), /no longer has the table this tool committed last/);
      assert.match(r.stderr, /warning: the DR catalog no longer has the table/);
      assert.equal(r.json?.manifestsRewritten, 0, 'every output is reused');
      assert.equal(location(s.dbFile), r.json?.metadataLocation);
      const again = runCli(['sync', ...s.args, '--json']);
      assert.equal(again.json?.status, 'up-to-date');
      assert.equal(again.json?.recovered, undefined);
      const v = runCli(['verify', ...s.args, '--json']);
      assert.equal(v.code, 0, v.stdout);
    });
  }

  it('the row pointed at a file this tool did not write: exit 9, nothing committed; --overwrite-catalog commits', () => {
    const s = site('foreign');
    const foreign = path.join(s.base, 'elsewhere', 'v99.metadata.json');
    sql(s.dbFile, 'UPDATE iceberg_tables SET metadata_location = ?', foreign);
    for (const cmd of ['sync', 'plan']) {
      const r = runCli([cmd, ...s.args, '--json']);
      assert.equal(r.code, 9, r.stderr);
      assert.equal((r.json?.error as { code?: string } | undefined)?.code, 'CATALOG_DIVERGED');
      assert.ok(r.stderr.includes(foreign), r.stderr);
      assert.match(r.stderr, /--overwrite-catalog/);
      assert.equal(location(s.dbFile), foreign, `${cmd} left the catalog alone`);
    }
    const forced = runCli(['sync', ...s.args, '--overwrite-catalog', '--json']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(location(s.dbFile), forced.json?.metadataLocation);
    assert.ok(String(forced.json?.metadataLocation).startsWith(s.root));
    assert.equal(runCli(['verify', ...s.args]).code, 0);
  });

  it('the row moved back to an older output of this tool (a restored backup): the run moves it forward', () => {
    // v6 and then v8 committed, both outputs of this tool; the catalog is then set back to v6.
    const s6 = site('restored');
    rmSync(s6.dr, { recursive: true });
    const at6 = runCli([
      'sync',
      ...s6.args,
      '--source-metadata',
      path.join(s6.replica, 'sales/orders/metadata/v6.metadata.json'),
      '--json',
    ]);
    assert.equal(at6.code, 0, at6.stderr);
    const v6Output = String(at6.json?.metadataLocation);
    const latest = runCli(['sync', ...s6.args, '--json']);
    assert.equal(latest.code, 0, latest.stderr);
    sql(s6.dbFile, 'UPDATE iceberg_tables SET metadata_location = ?', v6Output);
    const r = runCli(['sync', ...s6.args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(String(r.json?.recovered), /not at this tool's last commit/);
    assert.equal(location(s6.dbFile), latest.json?.metadataLocation);
    assert.equal(runCli(['verify', ...s6.args]).code, 0);
  });
});

describe('sync when the metadata the DR catalog points at is gone', () => {
  it('the current metadata.json deleted: verify exits 7 naming it; sync writes it again and verify passes', () => {
    const s = site('gone-json');
    rmSync(s.committed);
    const v = runCli(['verify', ...s.args, '--json']);
    assert.equal(v.code, 7, v.stdout);
    const problems = (v.json?.problems ?? []) as { path: string; problem: string }[];
    assert.deepEqual(
      problems.map((p) => p.path),
      [s.committed],
    );
    assert.match(problems[0]!.problem, /current metadata file is missing/);
    const r = runCli(['sync', ...s.args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(String(r.json?.recovered), /is gone/);
    assert.ok(existsSync(String(r.json?.metadataLocation)));
    assert.equal(runCli(['verify', ...s.args]).code, 0);
  });

  it('the metadata root emptied but for the checkpoint: every output is written again', () => {
    const s = site('gone-all');
    for (const n of readdirSync(s.root))
      if (n !== '.iceberg-sync') rmSync(path.join(s.root, n), { recursive: true });
    const v = runCli(['verify', ...s.args, '--json']);
    assert.equal(v.code, 7, v.stdout);
    const r = runCli(['sync', ...s.args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((r.json?.manifestsRewritten as number) > 0, 'the manifests are rewritten');
    assert.ok((r.json?.deleteFilesRewritten as number) > 0, 'the delete files are rewritten');
    const after = runCli(['verify', ...s.args, '--json']);
    assert.equal(after.code, 0, after.stdout);
  });
});

describe('a repair killed at any moment', () => {
  const cues: [RegExp | undefined, number | undefined][] = [
    [/^check: /m, undefined],
    [/rewrote \d+\/\d+ manifests$/m, undefined],
    [/^commit: /m, undefined],
    [undefined, 60],
    [undefined, 200],
  ];
  for (const [cue, ms] of cues) {
    it(`the catalog lost and its metadata root emptied, killed ${cue ? `on ${cue}` : `after ${ms} ms`}: the next run recovers`, async () => {
      const s = site('lost-kill');
      rmSync(s.dbFile);
      for (const n of readdirSync(s.root))
        if (n !== '.iceberg-sync') rmSync(path.join(s.root, n), { recursive: true });
      const k = await killedCliRun(['sync', ...s.args], cue, ms);
      const held = location(s.dbFile);
      assert.ok(held === undefined || held === s.committed || held.startsWith(s.root), String(held));
      const r = runCli(['sync', ...s.args, '--json']);
      assert.ok(r.code === 0, `${r.code}: ${r.stderr} (killed: ${k.signal ?? k.code})`);
      assert.ok(['committed', 'up-to-date'].includes(String(r.json?.status)));
      const v = runCli(['verify', ...s.args, '--json']);
      assert.equal(v.code, 0, v.stdout);
    });
  }
});
