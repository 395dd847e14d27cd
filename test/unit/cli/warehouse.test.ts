/**
 * The warehouse commands end to end through the CLI, on a replicated warehouse of 24 tables made
 * from the bundled sample: sync-all commits the complete tables, reports the partially replicated
 * and the corrupt one with their reasons and exits with the aggregated code; a rerun writes no
 * metadata; a new table is picked up; two runs at once commit each table once; shards split the
 * tables; plan-all writes nothing but the copy plans asked for; status gives the lag from the
 * tables' own commit times.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { cliBin, runCli } from '../../helpers/cli.ts';
import { listFilesRecursive, snapshotTree } from '../../helpers/paths.ts';
import { sampleMetadata, sampleWarehouseSite } from '../../helpers/sample-warehouse.ts';

interface TableReport {
  table: string;
  status: string;
  snapshotId?: string;
  missingFiles: number;
  exitCode?: number;
  error?: { code: string; message: string };
}

interface RunReport {
  status: string;
  exitCode: number;
  runId: string;
  tables: TableReport[];
  copyPlans?: {
    table: string;
    files: number;
    distcp: { list: string; targetDir: string; command: string }[];
  }[];
}

function byTable(r: RunReport): Map<string, TableReport> {
  return new Map(r.tables.map((t) => [t.table, t]));
}

function catalogRows(dbFile: string): Map<string, string> {
  const db = new DatabaseSync(dbFile, { readOnly: true });
  try {
    const rows = db
      .prepare('SELECT table_namespace, table_name, metadata_location FROM iceberg_tables')
      .all() as {
      table_namespace: string;
      table_name: string;
      metadata_location: string;
    }[];
    return new Map(rows.map((r) => [`${r.table_namespace}.${r.table_name}`, r.metadata_location]));
  } finally {
    db.close();
  }
}

function runAsync(args: string[]): Promise<{ code: number | null; json: RunReport; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve({ code, json: JSON.parse(out.trim().split('\n').at(-1)!), stderr: err });
      } catch (e) {
        reject(new Error(`no JSON report (${(e as Error).message}); stderr: ${err.slice(-2000)}`));
      }
    });
  });
}

const meta = sampleMetadata();
const newestId = String(meta['current-snapshot-id']);
const newest = meta.snapshots.find((s) => String(s['snapshot-id']) === newestId)!;
const previous = meta.snapshots.at(-2)!;

describe('sync-all, plan-all, verify-all and status over a replicated warehouse', () => {
  it('commits the complete tables, reports the behind and the broken one, and a rerun writes nothing', () => {
    const w = sampleWarehouseSite('wh-sync');
    assert.ok(w.tables.size >= 24, `${w.tables.size} tables`);
    const r = runCli(['sync-all', '--config', w.config, '--json']);
    const report = r.json as unknown as RunReport;
    assert.ok(report, r.stderr);
    // Bad input (the corrupt manifest, 4) ranks above behind (3).
    assert.equal(r.code, 4, r.stderr);
    assert.equal(report.exitCode, 4);
    assert.equal(report.status, 'failed');
    const t = byTable(report);
    assert.deepEqual(
      [...t.keys()].sort(),
      [...w.complete, w.behind, w.broken, w.invalid].sort(),
      'every table but the excluded one, discovered in both layouts',
    );
    for (const name of w.complete) {
      assert.equal(t.get(name)?.status, 'committed', name);
      assert.equal(t.get(name)?.snapshotId, newestId, name);
      assert.equal(t.get(name)?.exitCode, 0);
    }
    const behind = t.get(w.behind)!;
    assert.equal(behind.status, 'behind');
    assert.equal(behind.exitCode, 3);
    assert.equal(
      behind.snapshotId,
      String(previous['snapshot-id']),
      'the newest complete version is committed',
    );
    assert.equal(behind.missingFiles, 1);
    // A corrupt manifest cannot be told from one still being copied in place: the table stays at
    // the newest version without it, and the reason names the file.
    const broken = t.get(w.broken)!;
    assert.equal(broken.status, 'behind');
    assert.equal(broken.exitCode, 3);
    assert.equal(broken.snapshotId, String(previous['snapshot-id']));
    const brokenMissing = (broken as { report?: { missing: { reason: string; target: string }[] } }).report!
      .missing;
    assert.equal(brokenMissing[0]?.reason, 'unreadable');
    assert.match(brokenMissing[0]!.target, /-m0\.avro$/);
    const invalid = t.get(w.invalid)!;
    assert.equal(invalid.status, 'failed');
    assert.equal(invalid.exitCode, 4);
    assert.equal(invalid.error?.code, 'CORRUPT_FILE');
    assert.match(
      invalid.error!.message,
      /v8\.metadata\.json: no readable, valid metadata\.json/,
      'the message names the file',
    );
    // The summary table on stderr names every table with its status.
    assert.match(r.stderr, /TABLE\s+STATUS\s+SNAPSHOT\s+MISSING/);
    assert.match(r.stderr, /ops\.invalid\s+failed\s+-\s+0\s+[\d.]+ s\s+CORRUPT_FILE: /);
    assert.match(
      r.stderr,
      /ops\.broken\s+behind\s+\d+\s+1\s+[\d.]+ s\s+1 file\(s\) not at the DR site \(first: unreadable /,
    );
    assert.match(r.stderr, /23 table\(s\): 20 committed, 2 behind, 1 failed; exit code 4 \(failed\)/);
    const rows = catalogRows(w.dbFile);
    for (const name of [...w.complete, w.behind, w.broken])
      assert.ok(rows.has(name), `${name} in the catalog`);
    assert.equal(rows.has(w.excluded), false, 'the excluded table is not synced');
    assert.equal(rows.has(w.invalid), false, 'nothing committed for the invalid table');
    // Each table's run history has its line.
    const history = path.join(w.dr, 'wh', 'sales', 't0', 'metadata', '.iceberg-sync', 'history.jsonl');
    const lines = readFileSync(history, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].runId, report.runId);
    assert.equal(lines[0].status, 'committed');
    assert.equal(lines[0].snapshotId, newestId);

    // A rerun writes no metadata and commits nothing: only the history grows.
    const before = snapshotTree(w.dr);
    const stateFiles = listFilesRecursive(w.dr).filter((f) => f.endsWith('/state.json'));
    const statesBefore = new Map(stateFiles.map((f) => [f, readFileSync(f, 'utf8')]));
    const catalogBefore = catalogRows(w.dbFile);
    const again = runCli(['sync-all', '--config', w.config, '--json']);
    const r2 = again.json as unknown as RunReport;
    assert.equal(again.code, 4, again.stderr);
    for (const name of w.complete) assert.equal(byTable(r2).get(name)?.status, 'up-to-date', name);
    assert.equal(byTable(r2).get(w.behind)?.status, 'behind');
    assert.equal(byTable(r2).get(w.invalid)?.status, 'failed');
    const after = snapshotTree(w.dr);
    const changed = [...after].filter(([f, v]) => before.get(f) !== v).map(([f]) => path.relative(w.dr, f));
    const completeRoots = w.complete.map((n) => `wh/${n.replace('.', '/')}/`);
    assert.deepEqual(
      changed.filter(
        (f) =>
          completeRoots.some((r) => f.startsWith(r)) &&
          !f.endsWith('/history.jsonl') &&
          // The engine saves its checkpoint on every run; its content must not change.
          !(
            f.endsWith('/state.json') &&
            statesBefore.get(path.join(w.dr, f)) === readFileSync(path.join(w.dr, f), 'utf8')
          ),
      ),
      [],
      'nothing but the run history changed for the complete tables',
    );
    // The behind ones save their checkpoint and copy plan again, and write no metadata.
    assert.deepEqual(
      changed.filter((f) => /\.(avro|metadata\.json|parquet|puffin)$/.test(f)),
      [],
      'no metadata written',
    );
    assert.deepEqual(catalogRows(w.dbFile), catalogBefore);
    assert.equal(readFileSync(history, 'utf8').trim().split('\n').length, 2);

    // A table that appears in the replica is picked up by the next run.
    w.addTable('fin.db/fresh');
    const third = runCli(['sync-all', '--config', w.config, '--json', '--include', 'fin.*']);
    const r3 = byTable(third.json as unknown as RunReport);
    assert.equal(third.code, 0, third.stderr);
    assert.equal(r3.get('fin.fresh')?.status, 'committed');
    assert.equal(r3.get('fin.t0')?.status, 'up-to-date');
    assert.equal(r3.has('sales.t0'), false, '--include replaces the policy globs');

    // verify-all checks every committed table; the invalid one is not in the catalog.
    const v = runCli([
      'verify-all',
      '--config',
      w.config,
      '--json',
      '--exclude',
      'ops.invalid',
      '--exclude',
      'tmp.*',
    ]);
    assert.equal(v.code, 0, v.stderr);
    const vt = (v.json as unknown as RunReport).tables;
    assert.equal(vt.length, 23);
    for (const x of vt) assert.equal(x.status, 'verified', x.table);
  });

  it('status gives the DR snapshot, the replica newest and the lag from the commit times', () => {
    const w = sampleWarehouseSite('wh-status', 1, '  tables:\n    web.behind: { rpo: 100ms }\n');
    const before = runCli(['status', '--config', w.config, '--json', '--include', 'sales.*']);
    assert.equal(before.code, 3, 'never synced: the lag is unknown, so not within the threshold');
    runCli(['sync-all', '--config', w.config, '--json']);
    const r = runCli(['status', '--config', w.config, '--json']);
    const rows = new Map(
      ((r.json as { tables: Record<string, unknown>[] }).tables ?? []).map((s) => [s.table as string, s]),
    );
    const ok = rows.get('sales.t0')!;
    assert.equal(ok.drSnapshotId, newestId);
    assert.equal(ok.replicaNewestReferencedSnapshotId, newestId);
    assert.equal(ok.replicaNewestSnapshotId, newestId);
    assert.equal(ok.lagSeconds, 0);
    assert.equal(ok.withinThreshold, true);
    assert.equal(ok.thresholdSeconds, 3600);
    assert.equal(ok.drCommittedAt, new Date(newest['timestamp-ms']).toISOString());
    assert.equal((ok.lastRun as { status: string }).status, 'committed');
    const behind = rows.get('web.behind')!;
    assert.equal(behind.drSnapshotId, String(previous['snapshot-id']));
    assert.equal(behind.replicaNewestReferencedSnapshotId, newestId);
    assert.equal(behind.replicaNewestSnapshotId, String(previous['snapshot-id']));
    assert.equal(behind.lagSeconds, (newest['timestamp-ms'] - previous['timestamp-ms']) / 1000);
    assert.equal(behind.missingFiles, 1);
    assert.equal(behind.thresholdSeconds, 0.1);
    assert.equal(behind.withinThreshold, false, 'over its 100 ms threshold');
    const invalid = rows.get('ops.invalid')!;
    assert.equal(invalid.drSnapshotId, undefined);
    assert.equal((invalid.error as { code: string }).code, 'CORRUPT_FILE');
    assert.equal(r.code, 4, 'the invalid table (4) ranks above the one over its threshold (3)');
    const only = runCli(['status', '--config', w.config, '--include', 'web.*']);
    assert.equal(only.code, 3, only.stderr);
    assert.match(only.stdout, /web\.behind\s+\d+\s+\d+\s+0\.?\d* s|web\.behind/);
    assert.match(only.stdout, /NO/);
    const fine = runCli(['status', '--config', w.config, '--include', 'sales.*', '--no-plan']);
    assert.equal(fine.code, 0, fine.stdout + fine.stderr);
  });

  it('two sync-all runs at once commit every table exactly once, the other run skipping or finding it done', async () => {
    const w = sampleWarehouseSite('wh-race', 4);
    const args = [
      'sync-all',
      '--config',
      w.config,
      '--json',
      '--exclude',
      'ops.{broken,invalid}',
      '--exclude',
      'web.behind',
      '--exclude',
      'tmp.*',
    ];
    const [a, b] = await Promise.all([runAsync(args), runAsync(args)]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const names = [...byTable(a.json).keys()].sort();
    assert.equal(names.length, 16);
    for (const name of names) {
      const outcomes = [byTable(a.json).get(name)!, byTable(b.json).get(name)!];
      const committed = outcomes.filter((o) => o.status === 'committed');
      assert.equal(committed.length, 1, `${name}: ${outcomes.map((o) => o.status)}`);
      const other = outcomes.find((o) => o.status !== 'committed')!;
      assert.ok(['up-to-date', 'skipped'].includes(other.status), `${name}: ${other.status}`);
      if (other.status === 'skipped') assert.equal(other.error?.code, 'LOCKED');
      // One commit: one metadata.json under the table's metadata root.
      const [ns, t] = name.split('.');
      const root = path.join(w.dr, 'wh', ns!, t!, 'metadata');
      assert.equal(readdirSync(root).filter((f) => f.endsWith('.metadata.json')).length, 1, name);
      const hist = readFileSync(path.join(root, '.iceberg-sync', 'history.jsonl'), 'utf8')
        .trim()
        .split('\n');
      assert.equal(hist.map((l) => JSON.parse(l).status).filter((s) => s === 'committed').length, 1);
    }
  });

  it('shards split the tables disjointly; plan-all writes nothing but the copy plans asked for', () => {
    const w = sampleWarehouseSite('wh-shard', 3);
    const before = snapshotTree(w.base);
    const all = runCli(['plan-all', '--config', w.config, '--json']);
    assert.equal(all.code, 4, all.stderr);
    const everything = (all.json as unknown as RunReport).tables.map((t) => t.table).sort();
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const s = runCli(['plan-all', '--config', w.config, '--json', '--shard', `${i}/3`]);
      seen.push(...(s.json as unknown as RunReport).tables.map((t) => t.table));
    }
    assert.deepEqual(seen.sort(), everything, 'each table in exactly one shard');
    assert.deepEqual(snapshotTree(w.base), before, 'plan-all wrote nothing');
    assert.equal(existsSync(w.dbFile), false, 'not even the catalog file');
    for (const t of (all.json as unknown as RunReport).tables) {
      const want =
        t.table === w.invalid ? 'failed' : [w.behind, w.broken].includes(t.table) ? 'behind' : 'planned';
      assert.equal(t.status, want, t.table);
    }

    const plans = path.join(w.base, 'plans');
    const p = runCli(['plan-all', '--config', w.config, '--json', '--copy-plan', plans]);
    const copyPlans = (p.json as unknown as RunReport).copyPlans!;
    assert.deepEqual(
      copyPlans.map((c) => c.table),
      [w.broken, w.behind],
    );
    const plan = copyPlans[1];
    assert.equal(plan!.files, 1);
    assert.equal(plan!.distcp.length, 1);
    const d = plan!.distcp[0]!;
    assert.equal(d.targetDir, path.join(w.tables.get(w.behind)!, 'metadata'));
    assert.equal(
      readFileSync(d.list, 'utf8').trim(),
      newest['manifest-list'],
      'the source path, as the metadata names it',
    );
    assert.equal(d.command, `hadoop distcp -f file://${d.list} file://${d.targetDir}`);
    assert.match(p.stderr, /hadoop distcp -f /);
    const csv = readFileSync(path.join(plans, `${w.behind}.csv`), 'utf8').trim();
    assert.equal(
      csv,
      `${newest['manifest-list']},${path.join(d.targetDir, path.basename(newest['manifest-list']))}`,
    );
    assert.deepEqual(
      listFilesRecursive(plans)
        .map((f) => path.relative(plans, f))
        .sort(),
      [w.broken, w.behind].flatMap((t) => [`${t}.csv`, `${t}.distcp.sh`, `${t}.distcp/1.list`]).sort(),
      'nothing for the tables with nothing missing',
    );
  });

  it('SIGTERM stops a run cleanly: no new table starts, exit 8, and the next run finishes the rest', async () => {
    const w = sampleWarehouseSite('wh-term', 5);
    const args = [
      'sync-all',
      '--config',
      w.config,
      '--json',
      '--concurrency',
      '1',
      '--include',
      '{sales,web,fin,ops}.t*',
    ];
    const child = spawn(process.execPath, [cliBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString('utf8');
        if (/: committed/.test(err) && !child.killed) child.kill('SIGTERM');
      });
      child.on('close', resolve);
    });
    assert.equal(code, 8, err);
    assert.match(err, /SIGTERM: stopping after the tables in flight/);
    const report = JSON.parse(out.trim().split('\n').at(-1)!) as RunReport;
    assert.equal(report.status, 'aborted');
    assert.equal(report.tables.length, 20);
    const skipped = report.tables.filter((t) => t.status === 'skipped');
    assert.ok(skipped.length > 0, 'tables not started are skipped');
    for (const t of report.tables) {
      assert.ok(['committed', 'skipped', 'failed'].includes(t.status), `${t.table}: ${t.status}`);
      if (t.status !== 'committed') assert.equal(t.error?.code, 'ABORTED', t.table);
    }
    const again = runCli(['sync-all', '--config', w.config, '--json', '--include', '{sales,web,fin,ops}.t*']);
    assert.equal(again.code, 0, again.stderr);
    const after = (again.json as unknown as RunReport).tables;
    const before = byTable(report);
    for (const t of after) {
      assert.equal(
        t.status,
        before.get(t.table)?.status === 'committed' ? 'up-to-date' : 'committed',
        t.table,
      );
    }
  });

  it('refuses a bad policy with exit code 2 naming the key', () => {
    const w = sampleWarehouseSite('wh-bad', 1, '  file-concurrency: lots\n');
    const r = runCli(['sync-all', '--config', w.config, '--json']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /replication\.file-concurrency: must be a positive whole number \(got 'lots'\)/);
    assert.equal((r.json as { status: string }).status, 'failed');
    // A catalog file inside the replica is refused before anything is created.
    writeFileSync(
      w.config,
      readFileSync(w.config, 'utf8')
        .replace(/uri: sqlite:\/\/\/.*$/m, `uri: sqlite:///${path.join(w.replica, 'sales', 'cat.db')}`)
        .replace('  file-concurrency: lots\n', ''),
    );
    const inside = runCli(['sync-all', '--config', w.config]);
    assert.equal(inside.code, 2, inside.stderr);
    assert.match(inside.stderr, /SQLite catalog file .* inside the replicated tree/);
    assert.equal(existsSync(path.join(w.replica, 'sales', 'cat.db')), false);
  });
});
