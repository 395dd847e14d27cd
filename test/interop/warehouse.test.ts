/**
 * A whole replicated warehouse against real readers: the harness's fixture tables (written by
 * Apache Iceberg's Spark runtime and by PyIceberg: v1, v2, v3, partitioned and evolved,
 * position and equality deletes, deletion vectors) replicated twice, once in the Hadoop layout
 * (`<ns>/<table>`) and once in the Hive layout (`copy.db/<table>`), plus the one whose metadata
 * lives apart from its location, named by the policy: 21 tables, one of them partially
 * replicated, one with a corrupt manifest, and one more the policy excludes. One
 * `sync-all` commits the complete ones, reports the other two with their reasons and exits 3;
 * PyIceberg and DuckDB read every committed table through the DR catalog exactly as the source;
 * a rerun writes no metadata; a new table is picked up by the next run; `status` gives lags that
 * match the commit times the harness reads from the source.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { readAvroFile } from '../../src/avro/container.ts';
import { decodeMetadata } from '../../src/iceberg/metadata-json.ts';
import { runCli } from '../helpers/cli.ts';
import { listFilesRecursive, repoRoot, snapshotTree } from '../helpers/paths.ts';
import { findTables } from '../helpers/replicate.ts';
import {
  type GeneratedManifest,
  generateFixtures,
  type ReadResult,
  readTables,
  type TableRead,
} from './harness.ts';
import { assertSameReads, interopSkipReason } from './helpers.ts';

const skip = interopSkipReason();
const work = path.join(repoRoot, '.work', 'interop');
const genDir = path.join(work, 'gen');
const base = path.join(work, 'warehouse');
const replica = path.join(base, 'replica');
const dr = path.join(base, 'dr');
const dbFile = path.join(dr, 'catalog.db');
const config = path.join(base, 'dr.yaml');
const ENGINES = ['pyiceberg', 'duckdb'] as const;

interface TableReport {
  table: string;
  status: string;
  snapshotId?: string;
  missingFiles: number;
  exitCode?: number;
  report?: { missing?: { reason: string; target: string }[] };
}

/** The newest metadata.json of a replicated table directory. */
function newestMetadata(dir: string): string {
  const files = readdirSync(path.join(dir, 'metadata'))
    .filter((n) => n.endsWith('.metadata.json'))
    .map((n) => ({ n, v: Number(/^v?(\d+)/.exec(n)?.[1] ?? -1) }))
    .sort((a, b) => b.v - a.v);
  return path.join(dir, 'metadata', files[0]!.n);
}

/** The current snapshot's manifest list and the manifests it adds over its parent's, by file name. */
function newestFiles(dir: string): { list: string; newManifests: string[] } {
  const file = newestMetadata(dir);
  const m = decodeMetadata(readFileSync(file), file).metadata;
  const cur = m.snapshots.find((s) => s.snapshotId === m.currentSnapshotId)!;
  const parent = m.snapshots.find((s) => s.snapshotId === cur.parentSnapshotId);
  const local = (p: string) => path.join(dir, 'metadata', path.basename(p));
  const manifests = (list: string) =>
    (readAvroFile(readFileSync(local(list)), list).records as { manifest_path: string }[]).map((r) =>
      path.basename(r.manifest_path),
    );
  const old = new Set(parent?.manifestList ? manifests(parent.manifestList) : []);
  return {
    list: local(cur.manifestList!),
    newManifests: manifests(cur.manifestList!).filter((n) => !old.has(n)),
  };
}

describe('sync-all over a replicated warehouse of fixture tables, read by PyIceberg and DuckDB', {
  skip,
}, () => {
  let manifest: GeneratedManifest;
  let source: Map<string, TableRead>;
  /** `ns.table` in the replica → the fixture table it copies. */
  const copies = new Map<string, string>();
  const behind = 'copy.v2_identity_mor';
  const broken = 'copy.v3_deletion_vectors';

  before(async () => {
    manifest = await generateFixtures(genDir);
    const read: ReadResult = await readTables({
      engines: [...ENGINES],
      tables: manifest.tables.map((t) => ({ name: t.name, metadata: t.currentMetadata })),
    });
    source = new Map(read.tables.map((t) => [t.name, t]));
    rmSync(base, { recursive: true, force: true });
    mkdirSync(dr, { recursive: true });
    // Tables found as <ns>/<table>/metadata: every fixture table but the one that keeps its
    // metadata apart from its location (write.metadata.path), which the policy names instead.
    for (const dir of findTables(manifest.warehouse)) {
      const t = manifest.tables.find((g) => path.resolve(g.locationPath) === path.resolve(dir));
      if (!t) continue;
      const [ns] = t.identifier.split('.');
      cpSync(dir, path.join(replica, ns!, t.name), { recursive: true });
      copies.set(`${ns}.${t.name}`, t.name);
      cpSync(dir, path.join(replica, 'copy.db', t.name), { recursive: true });
      copies.set(`copy.${t.name}`, t.name);
    }
    const apart = manifest.tables.find((g) => g.name === 'v2_paths_apart');
    const apartEntry: string[] = [];
    if (apart) {
      cpSync(path.join(manifest.warehouse, 'elsewhere'), path.join(replica, 'elsewhere'), {
        recursive: true,
      });
      const metadataDir = path.join(
        replica,
        path.relative(manifest.warehouse, path.dirname(apart.currentMetadata)),
      );
      apartEntry.push(
        '  tables:',
        '    jdbc_db.v2_paths_apart:',
        `      location: ${path.join(replica, path.relative(manifest.warehouse, apart.locationPath))}`,
        `      metadata-dir: ${metadataDir}`,
        `      map: ['${manifest.warehouse}=${replica}']`,
      );
      copies.set('jdbc_db.v2_paths_apart', 'v2_paths_apart');
    }
    // Partially replicated: the newest manifest list has not arrived.
    const b = newestFiles(path.join(replica, 'copy.db', 'v2_identity_mor'));
    rmSync(b.list);
    // A corrupt manifest of the newest snapshot, of the recorded size.
    const c = newestFiles(path.join(replica, 'copy.db', 'v3_deletion_vectors'));
    const victim = path.join(replica, 'copy.db', 'v3_deletion_vectors', 'metadata', c.newManifests[0]!);
    writeFileSync(victim, Buffer.alloc(readFileSync(victim).length, 0x42));
    // Excluded by the policy.
    cpSync(path.join(replica, 'db', 'v2_types'), path.join(replica, 'tmp', 'scratch'), { recursive: true });
    writeFileSync(
      config,
      [
        'catalog:',
        '  dr:',
        `    uri: sqlite:///${dbFile}`,
        `    warehouse: ${path.join(dr, 'iceberg')}`,
        'replication:',
        `  replicated-paths: [${replica}]`,
        "  exclude: ['tmp.*']",
        '  concurrency: 3',
        ...apartEntry,
        '',
      ].join('\n'),
    );
  });

  const complete = () => [...copies.keys()].filter((k) => k !== behind && k !== broken).sort();

  it('commits the complete tables and reports the behind and the broken one (exit 3)', () => {
    assert.ok(copies.size >= 20, `${copies.size} tables`);
    const r = runCli(['sync-all', '--config', config, '--json'], process.env, 600_000);
    const report = r.json as { exitCode: number; tables: TableReport[] };
    assert.ok(report, r.stderr);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(report.exitCode, 3);
    const t = new Map(report.tables.map((x) => [x.table, x]));
    assert.deepEqual([...t.keys()].sort(), [...copies.keys()].sort(), 'the excluded table is not taken');
    for (const key of complete()) {
      const g = manifest.tables.find((x) => x.name === copies.get(key))!;
      assert.equal(t.get(key)?.status, 'committed', `${key}: ${JSON.stringify(t.get(key))}`);
      assert.equal(t.get(key)?.snapshotId, g.currentSnapshotId ?? undefined, key);
    }
    for (const key of [behind, broken]) {
      const x = t.get(key)!;
      assert.equal(x.status, 'behind', key);
      assert.equal(x.exitCode, 3);
      assert.ok(x.missingFiles >= 1, key);
    }
    assert.equal(t.get(behind)!.report?.missing?.[0]?.reason, 'missing');
    assert.equal(t.get(broken)!.report?.missing?.[0]?.reason, 'unreadable');
    assert.match(r.stderr, /copy\.v3_deletion_vectors\s+behind .*first: unreadable /);
  });

  it('PyIceberg and DuckDB read every committed table through the DR catalog as the source', async (t) => {
    const keys = complete();
    const read = await readTables({
      engines: [...ENGINES],
      tables: keys.map((key) => ({
        name: key,
        catalog: { type: 'sql' as const, uri: `sqlite:///${dbFile}`, name: 'dr', warehouse: dr },
        identifier: key,
      })),
    });
    const got = new Map(read.tables.map((x) => [x.name, x]));
    for (const key of keys) {
      const expected = source.get(copies.get(key)!)!;
      for (const engine of ENGINES) assertSameReads(t, engine, expected, got.get(key)!);
    }
  });

  it('a rerun writes no metadata and commits nothing', () => {
    const before = snapshotTree(dr);
    const r = runCli(['sync-all', '--config', config, '--json'], process.env, 600_000);
    assert.equal(r.code, 3, r.stderr);
    const tables = (r.json as { tables: TableReport[] }).tables;
    for (const x of tables)
      assert.equal(x.status, [behind, broken].includes(x.table) ? 'behind' : 'up-to-date', x.table);
    const changed = [...snapshotTree(dr)].filter(([f, v]) => before.get(f) !== v).map(([f]) => f);
    assert.deepEqual(
      changed.filter((f) => /\.(avro|metadata\.json|parquet|puffin)$/.test(f)),
      [],
    );
  });

  it('picks up a table that appears in the replica', () => {
    cpSync(path.join(replica, 'db', 'v2_types'), path.join(replica, 'copy.db', 'v2_types_new'), {
      recursive: true,
    });
    const r = runCli(
      ['sync-all', '--config', config, '--json', '--include', 'copy.v2_*'],
      process.env,
      600_000,
    );
    const t = new Map((r.json as { tables: TableReport[] }).tables.map((x) => [x.table, x]));
    assert.equal(t.get('copy.v2_types_new')?.status, 'committed');
    assert.equal(t.get('copy.v2_types')?.status, 'up-to-date');
    assert.ok(listFilesRecursive(path.join(dr, 'iceberg', 'copy', 'v2_types_new', 'metadata')).length > 0);
  });

  it('status: lag 0 where current, and the commit-time gap where behind, within the default RPO', () => {
    const r = runCli(['status', '--config', config, '--json'], process.env, 600_000);
    const rows = new Map(
      (r.json as { tables: Record<string, unknown>[] }).tables.map((s) => [s.table as string, s]),
    );
    for (const key of complete()) {
      assert.equal(rows.get(key)?.lagSeconds, 0, key);
      assert.equal(rows.get(key)?.withinThreshold, true, key);
    }
    // The harness read the source's snapshots with their commit times.
    const snaps = source.get('v2_identity_mor')!.snapshots!;
    const cur = snaps.find((s) => s.snapshotId === source.get('v2_identity_mor')!.currentSnapshotId)!;
    const parent = snaps.find((s) => s.snapshotId === cur.parentId)!;
    const b = rows.get(behind)!;
    assert.equal(b.drSnapshotId, parent.snapshotId);
    assert.equal(b.replicaNewestReferencedSnapshotId, cur.snapshotId);
    assert.equal(b.lagSeconds, (cur.timestampMs! - parent.timestampMs!) / 1000);
    assert.equal(b.missingFiles, 1);
    assert.equal(r.code, 0, 'every lag is within the default hour');
  });
});
