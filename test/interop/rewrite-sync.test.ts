/**
 * Rewrite-mode sync against real readers: tables written by Apache Iceberg's Spark runtime and by
 * PyIceberg are replicated by copying their tree to a new prefix, the original is moved away, and
 * after `sync` Spark (path, Hadoop catalog and JDBC catalog), PyIceberg (path and SqlCatalog) and
 * DuckDB must read every snapshot and every ref with exactly the rows the source had.
 */
import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeAvroFile, readAvroFile } from '../../src/avro/container.ts';
import { HadoopCatalog } from '../../src/catalog/hadoop/hadoop.ts';
import { SqlCatalog } from '../../src/catalog/sql/sql.ts';
import { decodeMetadata, encodeMetadata } from '../../src/iceberg/metadata-json.ts';
import { rewritePositionDeleteFile } from '../../src/parquet/position-deletes.ts';
import { rewritePuffinFooter } from '../../src/puffin/puffin.ts';
import { LocalStorage } from '../../src/storage/local/local.ts';
import { StorageRouter } from '../../src/storage/router.ts';
import { syncTable } from '../../src/sync/engine.ts';
import { verifyTable } from '../../src/sync/verify.ts';
import { repoRoot } from '../helpers/paths.ts';
import {
  ALL_ENGINES,
  type GeneratedManifest,
  generateFixtures,
  readTables,
  type TableRead,
} from './harness.ts';
import { assertSameReads, interopSkipReason, readsByName } from './helpers.ts';

const skip = interopSkipReason();
const work = path.join(repoRoot, '.work', 'interop');
const genDir = path.join(work, 'gen');
const base = path.join(work, 'rewrite');
const replica = path.join(base, 'replica');
const hadoopWarehouse = path.join(base, 'hadoop-wh');
const sqlDb = path.join(base, 'catalog.db');
const router = new StorageRouter();

function walkFiles(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = path.join(dir, n);
    if (statSync(p).isDirectory()) out.push(...walkFiles(p));
    else out.push(p);
  }
  return out;
}

describe('rewrite-mode sync read by Spark, PyIceberg and DuckDB', { skip }, () => {
  let manifest: GeneratedManifest;
  let source: Map<string, TableRead>;
  let away: string;
  const dr = new Map<string, { sql: string; hadoop: string; id: string }>();

  before(async () => {
    manifest = await generateFixtures(genDir);
    // Read the originals first, then move them away so nothing can read them by accident.
    source = readsByName(
      await readTables({
        tables: manifest.tables.map((t) => ({ name: t.name, metadata: t.currentMetadata })),
      }),
    );
    rmSync(base, { recursive: true, force: true });
    mkdirSync(base, { recursive: true });
    cpSync(manifest.warehouse, replica, { recursive: true });
    away = `${manifest.warehouse}.away`;
    renameSync(manifest.warehouse, away);
  });

  after(() => {
    if (away && existsSync(away)) renameSync(away, manifest.warehouse);
  });

  it('syncs every table into a SQL (SQLite) and a Hadoop catalog; verify passes', async () => {
    const sql = await SqlCatalog.open({ name: 'dr', uri: `sqlite:///${sqlDb}`, storageFor: router.resolver });
    const hadoop = new HadoopCatalog({
      name: 'drh',
      warehouse: hadoopWarehouse,
      storage: new LocalStorage(),
    });
    const rules = [{ source: manifest.warehouse, target: replica }];
    try {
      for (const t of manifest.tables) {
        const table = { namespace: ['dr'], name: t.name };
        const tableLocation = path.join(replica, path.relative(manifest.warehouse, t.locationPath));
        const sourceMetadata = path.join(replica, path.relative(manifest.warehouse, t.currentMetadata));
        const common = { table, tableLocation, sourceMetadata, mappings: rules, resolve: router.resolver };
        const sqlRoot = path.join(base, 'sql-metadata', t.name);
        const r1 = await syncTable({ ...common, catalog: sql, metadataRoot: sqlRoot });
        assert.equal(r1.status, 'committed', `${t.name}: ${JSON.stringify(r1.missing.slice(0, 3))}`);
        assert.equal(r1.snapshotId, t.currentSnapshotId);
        const hadoopRoot = path.join(hadoopWarehouse, 'dr', t.name, 'metadata');
        const r2 = await syncTable({ ...common, catalog: hadoop, metadataRoot: hadoopRoot });
        assert.equal(r2.status, 'committed');
        for (const [catalog, root] of [
          [sql, sqlRoot],
          [hadoop, hadoopRoot],
        ] as const) {
          const v = await verifyTable({
            table,
            catalog,
            mappings: rules,
            metadataRoot: root,
            resolve: router.resolver,
          });
          assert.deepEqual(v.problems, [], `${t.name}: verify`);
        }
        dr.set(t.name, { sql: r1.metadataLocation!, hadoop: r2.metadataLocation!, id: `dr.${t.name}` });
      }
    } finally {
      await sql.close();
      await hadoop.close();
    }
  });

  it('reads every snapshot and ref exactly as the source, through every catalog', async (t) => {
    assert.equal(dr.size, manifest.tables.length, 'the sync test ran first');
    const requests = manifest.tables.flatMap((g) => {
      const d = dr.get(g.name)!;
      return [
        { name: `${g.name}@path`, metadata: d.sql },
        {
          name: `${g.name}@jdbc`,
          catalog: { type: 'jdbc' as const, uri: `jdbc:sqlite:${sqlDb}`, name: 'dr', warehouse: base },
          identifier: d.id,
        },
        {
          name: `${g.name}@hadoop`,
          catalog: { type: 'hadoop' as const, warehouse: hadoopWarehouse },
          identifier: d.id,
        },
      ];
    });
    const result = readsByName(await readTables({ tables: requests }));
    let same = 0;
    for (const g of manifest.tables) {
      for (const via of ['path', 'jdbc', 'hadoop']) {
        const read = result.get(`${g.name}@${via}`)!;
        for (const engine of ALL_ENGINES) {
          // Through a Hadoop catalog PyIceberg has no catalog type; path reads cover it.
          if (!read.reads[engine]) continue;
          same += assertSameReads(t, engine, source.get(g.name)!, read).same;
        }
      }
    }
    t.diagnostic(`${same} identical reads in all`);
    assert.ok(same > manifest.tables.length * 3, 'the comparison covered reads');
  });
  it('is incremental: after more source commits a second sync rewrites only the new manifests', async (t) => {
    const sql = await SqlCatalog.open({ name: 'dr', uri: `sqlite:///${sqlDb}`, storageFor: router.resolver });
    const incReplica = path.join(base, 'replica-inc');
    const rules = [{ source: manifest.warehouse, target: incReplica }];
    const requests: { name: string; metadata: string }[] = [];
    const names: string[] = [];
    try {
      for (const name of ['v2_identity_mor', 'v2_bucket_day_evolution']) {
        const g = manifest.tables.find((x) => x.name === name)!;
        const rel = path.relative(manifest.warehouse, g.locationPath);
        cpSync(path.join(away, rel), path.join(incReplica, rel), { recursive: true });
        const metaDir = path.join(incReplica, rel, 'metadata');
        const versions = readdirSync(metaDir)
          .map((f) => ({ f, v: Number(/^v(\d+)\./.exec(f)?.[1] ?? 0) }))
          .filter((x) => x.v > 0)
          .sort((a, b) => a.v - b.v);
        // The first copy reached only an earlier version: hold back the last three commits.
        const held = versions.slice(-3);
        const holdDir = path.join(base, 'held', name);
        mkdirSync(holdDir, { recursive: true });
        for (const h of held) renameSync(path.join(metaDir, h.f), path.join(holdDir, h.f));
        const table = { namespace: ['inc'], name };
        const opts = {
          table,
          catalog: sql,
          tableLocation: path.join(incReplica, rel),
          mappings: rules,
          metadataRoot: path.join(base, 'inc-metadata', name),
          resolve: router.resolver,
        };
        const first = await syncTable(opts);
        assert.equal(first.status, 'committed');
        const firstDoc = decodeMetadata(readFileSync(first.sourceMetadata!), first.sourceMetadata!);
        for (const h of held) renameSync(path.join(holdDir, h.f), path.join(metaDir, h.f));
        const second = await syncTable(opts);
        assert.equal(second.status, 'committed');
        assert.equal(second.snapshotId, g.currentSnapshotId);
        // Expected work, from the metadata itself: manifests the last version lists that the first
        // synced version did not, and the manifest lists of snapshots the first version lacked.
        const lastDoc = decodeMetadata(readFileSync(second.sourceMetadata!), second.sourceMetadata!);
        const toReplica = (p: string) =>
          path.join(incReplica, path.relative(manifest.warehouse, p.replace(/^file:(\/\/)?/, '')));
        const manifestsOf = (doc: typeof lastDoc) => {
          const out = new Set<string>();
          for (const s of doc.metadata.snapshots) {
            const l = toReplica(s.manifestList!);
            for (const r of readAvroFile(readFileSync(l), l).records as Record<string, unknown>[])
              out.add(String(r.manifest_path));
          }
          return out;
        };
        const before = manifestsOf(firstDoc);
        const fresh = [...manifestsOf(lastDoc)].filter((m) => !before.has(m));
        const oldLists = new Set(firstDoc.metadata.snapshots.map((s) => s.manifestList));
        const freshLists = lastDoc.metadata.snapshots.filter((s) => !oldLists.has(s.manifestList));
        assert.equal(second.manifestsRewritten, fresh.length, `${name}: manifests rewritten`);
        assert.equal(second.manifestListsRewritten, freshLists.length, `${name}: manifest lists rewritten`);
        t.diagnostic(
          `${name}: first sync ${first.manifestsRewritten} manifests; second ${second.manifestsRewritten} manifests, ${second.manifestListsRewritten} lists, ${second.manifestsReused} reused`,
        );
        const third = await syncTable(opts);
        assert.equal(third.status, 'up-to-date');
        assert.equal(third.manifestsRewritten + third.manifestListsRewritten, 0);
        requests.push({ name, metadata: second.metadataLocation! });
        names.push(name);
      }
    } finally {
      await sql.close();
    }
    const result = readsByName(await readTables({ tables: requests }));
    for (const name of names) {
      for (const engine of ALL_ENGINES) assertSameReads(t, engine, source.get(name)!, result.get(name)!);
    }
  });
});

describe('decode and re-encode with no change, read by Spark, PyIceberg and DuckDB', { skip }, () => {
  it('reads every re-encoded table exactly as the original', async (t) => {
    const manifest = await generateFixtures(genDir);
    const copy = path.join(work, 'reencoded');
    rmSync(copy, { recursive: true, force: true });
    // The copy keeps its paths: every metadata file is decoded and re-encoded in place, then the
    // copy is swapped in for the original while the readers run.
    cpSync(manifest.warehouse, copy, { recursive: true });
    let files = 0;
    // Tables the generator could not write (listed as skipped) may have left partial files.
    const skipped = new Set(manifest.skipped.map((x) => x.name));
    for (const f of walkFiles(copy)) {
      if (
        path
          .relative(copy, f)
          .split(path.sep)
          .some((seg) => skipped.has(seg))
      )
        continue;
      const bytes = readFileSync(f);
      let out: Uint8Array | undefined;
      if (f.endsWith('.metadata.json')) {
        const d = decodeMetadata(bytes, f);
        out = encodeMetadata(d.json, { gzip: d.gzip, pretty: d.pretty });
      } else if (f.endsWith('.avro') && f.includes(`${path.sep}metadata${path.sep}`)) {
        const a = readAvroFile(bytes, f);
        out = encodeAvroFile(a.header, a.records, { blockSizes: a.blockRecordCounts });
      } else if (f.endsWith('.puffin') || f.endsWith('.stats')) {
        out = rewritePuffinFooter(bytes, () => undefined, f).bytes;
      } else if (f.endsWith('-deletes.parquet')) {
        out = (await rewritePositionDeleteFile(bytes, (p) => p, f)).bytes;
      }
      if (out) {
        writeFileSync(f, out);
        files++;
      }
    }
    t.diagnostic(`${files} files re-encoded`);
    const original = readsByName(
      await readTables({
        tables: manifest.tables.map((g) => ({ name: g.name, metadata: g.currentMetadata })),
      }),
    );
    const away = `${manifest.warehouse}.orig`;
    renameSync(manifest.warehouse, away);
    renameSync(copy, manifest.warehouse);
    let reencoded: Map<string, TableRead>;
    try {
      reencoded = readsByName(
        await readTables({
          tables: manifest.tables.map((g) => ({ name: g.name, metadata: g.currentMetadata })),
        }),
      );
    } finally {
      renameSync(manifest.warehouse, copy);
      renameSync(away, manifest.warehouse);
    }
    for (const g of manifest.tables) {
      for (const engine of ALL_ENGINES)
        assertSameReads(t, engine, original.get(g.name)!, reencoded.get(g.name)!);
    }
  });
});
