/**
 * Rewrite-mode sync against real readers: tables written by Apache Iceberg's Spark runtime and by
 * PyIceberg are replicated by copying their tree to a new prefix, the original is moved away, and
 * after `sync` Spark (path, Hadoop catalog and JDBC catalog), PyIceberg (path and SqlCatalog) and
 * DuckDB must read every snapshot and every ref with exactly the rows the source had.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodeAvroFile, readAvroFile } from '../../src/avro/container.ts';
import { HadoopCatalog } from '../../src/catalog/hadoop.ts';
import { SqlCatalog } from '../../src/catalog/sql.ts';
import { decodeMetadata, encodeMetadata } from '../../src/iceberg/metadata-json.ts';
import { rewritePositionDeleteFile } from '../../src/parquet/position-deletes.ts';
import { rewritePuffinFooter } from '../../src/puffin/puffin.ts';
import { LocalStorage } from '../../src/storage/local.ts';
import { StorageRouter } from '../../src/storage/router.ts';
import { syncTable } from '../../src/sync/engine.ts';
import { verifyTable } from '../../src/sync/verify.ts';
import { repoRoot } from '../helpers/paths.ts';
import { ALL_ENGINES, type GeneratedManifest, generateFixtures, type ReadResult, readTables, type TableRead } from './harness.ts';
import { assertSameReads, interopSkipReason } from './helpers.ts';

const skip = interopSkipReason();
const work = path.join(repoRoot, '.work', 'interop');
const genDir = path.join(work, 'gen');
const base = path.join(work, 'rewrite');
const replica = path.join(base, 'replica');
const hadoopWarehouse = path.join(base, 'hadoop-wh');
const sqlDb = path.join(base, 'catalog.db');
const router = new StorageRouter();

function byName(result: ReadResult): Map<string, TableRead> {
  return new Map(result.tables.map((t) => [t.name, t]));
}

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
    source = byName(
      await readTables({ tables: manifest.tables.map((t) => ({ name: t.name, metadata: t.currentMetadata })) }),
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
    const hadoop = new HadoopCatalog({ name: 'drh', warehouse: hadoopWarehouse, storage: new LocalStorage() });
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
          const v = await verifyTable({ table, catalog, mappings: rules, metadataRoot: root, resolve: router.resolver });
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
        { name: `${g.name}@jdbc`, catalog: { type: 'jdbc' as const, uri: `jdbc:sqlite:${sqlDb}`, name: 'dr', warehouse: base }, identifier: d.id },
        { name: `${g.name}@hadoop`, catalog: { type: 'hadoop' as const, warehouse: hadoopWarehouse }, identifier: d.id },
      ];
    });
    const result = byName(await readTables({ tables: requests }));
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
    for (const f of walkFiles(copy)) {
      const bytes = readFileSync(f);
      let out: Uint8Array | undefined;
      if (f.endsWith('.metadata.json')) {
        const d = decodeMetadata(bytes, f);
        out = encodeMetadata(d.json, { gzip: d.gzip, pretty: d.pretty });
      } else if (f.endsWith('.avro') && f.includes(`${path.sep}metadata${path.sep}`)) {
        const a = readAvroFile(bytes, f);
        out = encodeAvroFile(a.header, a.records, { blockSizes: a.blockRecordCounts });
      } else if (f.endsWith('.puffin') || (f.endsWith('.stats'))) {
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
    const original = byName(await readTables({ tables: manifest.tables.map((g) => ({ name: g.name, metadata: g.currentMetadata })) }));
    const away = `${manifest.warehouse}.orig`;
    renameSync(manifest.warehouse, away);
    renameSync(copy, manifest.warehouse);
    let reencoded: Map<string, TableRead>;
    try {
      reencoded = byName(await readTables({ tables: manifest.tables.map((g) => ({ name: g.name, metadata: g.currentMetadata })) }));
    } finally {
      renameSync(manifest.warehouse, copy);
      renameSync(away, manifest.warehouse);
    }
    for (const g of manifest.tables) {
      for (const engine of ALL_ENGINES) assertSameReads(t, engine, original.get(g.name)!, reencoded.get(g.name)!);
    }
  });
});
