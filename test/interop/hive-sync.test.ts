/**
 * Rewrite-mode sync into Hive Metastores, read back by real readers: the harness's fixture tables
 * (written by Spark and PyIceberg) are replicated by copying their tree, the originals are moved
 * away, and after `sync` into Hive Metastore 3.1 Spark (Iceberg's HiveCatalog, `type=hive`) and
 * PyIceberg (HiveCatalog) load every table through the metastore and read every snapshot and ref
 * with exactly the source's rows. A second sync after more source commits is incremental and a
 * third is a no-op. Into Hive Metastore 4.0 no reader here can load through the catalog (PyIceberg
 * 0.12 and Spark's Hive 2.3 client call `get_table`, which Hive 4 removed), so the metadata
 * location it holds is read with PyIceberg's StaticTable and Spark's metadata-file load.
 * The replicated tree is checksummed before and after: nothing writes into it.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HiveCatalog, parseMetastoreUris } from '../../src/catalog/hive/hive.ts';
import { StorageRouter } from '../../src/storage/router.ts';
import { syncTable } from '../../src/sync/engine.ts';
import { verifyTable } from '../../src/sync/verify.ts';
import { hive3Uri, hive4Uri, hiveSkipReason } from '../helpers/hive.ts';
import { repoRoot } from '../helpers/paths.ts';
import { requireServer } from '../helpers/requires.ts';
import { treeChanges, treeDigest } from '../helpers/tree.ts';
import {
  ALL_ENGINES,
  type GeneratedManifest,
  generateFixtures,
  readTables,
  type TableRead,
} from './harness.ts';
import { assertSameReads, interopSkipReason, readsByName } from './helpers.ts';

const interopSkip = interopSkipReason();
const hive3 = requireServer('Hive Metastore 3.1', hiveSkipReason(3));
const hive4 = requireServer('Hive Metastore 4.0', hiveSkipReason(4));
const work = path.join(repoRoot, '.work', 'interop');
// Fixtures of its own: the other rewrite test moves its warehouse away while it runs.
const genDir = path.join(work, 'gen-hive');
const base = path.join(work, 'hive');
const replica = path.join(base, 'replica');
const router = new StorageRouter();

const open = (uri: string) =>
  HiveCatalog.open({ name: 'dr', addresses: parseMetastoreUris(uri), storageFor: router.resolver });

describe('rewrite-mode sync into Hive Metastores, read by Spark and PyIceberg', {
  skip: interopSkip ?? hive3.skip,
}, () => {
  let manifest: GeneratedManifest;
  let source: Map<string, TableRead>;
  let away: string;
  let replicaBefore: Map<string, string>;
  const rules = () => [{ source: manifest.warehouse, target: replica }];
  const common = (t: GeneratedManifest['tables'][number]) => ({
    tableLocation: path.join(replica, path.relative(manifest.warehouse, t.locationPath)),
    sourceMetadata: path.join(replica, path.relative(manifest.warehouse, t.currentMetadata)),
    mappings: rules(),
    resolve: router.resolver,
  });

  before(async () => {
    manifest = await generateFixtures(genDir);
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
    replicaBefore = treeDigest(replica);
  });

  after(() => {
    if (away && existsSync(away)) renameSync(away, manifest.warehouse);
  });

  it('syncs every table into Hive Metastore 3.1; verify passes; Spark and PyIceberg read them through it', async (t) => {
    const catalog = await open(hive3Uri!);
    const requests = [];
    try {
      for (const g of manifest.tables) {
        const table = { namespace: ['hivedr'], name: g.name };
        const metadataRoot = path.join(base, 'metadata3', g.name);
        const r = await syncTable({ ...common(g), table, catalog, metadataRoot });
        assert.equal(r.status, 'committed', `${g.name}: ${JSON.stringify(r.missing.slice(0, 3))}`);
        assert.equal(r.snapshotId, g.currentSnapshotId);
        assert.equal((await catalog.loadTable(table))?.metadataLocation, r.metadataLocation);
        const v = await verifyTable({
          table,
          catalog,
          mappings: rules(),
          metadataRoot,
          resolve: router.resolver,
        });
        assert.deepEqual(v.problems, [], `${g.name}: verify`);
        requests.push({
          name: g.name,
          catalog: { type: 'hive' as const, uri: hive3Uri! },
          identifier: `hivedr.${g.name}`,
        });
      }
      const listed = (await catalog.listTables(['hivedr'])).map((x) => x.name);
      assert.deepEqual(listed, manifest.tables.map((g) => g.name.toLowerCase()).sort());
    } finally {
      await catalog.close();
    }
    const result = readsByName(await readTables({ tables: requests, engines: ['spark', 'pyiceberg'] }));
    let same = 0;
    for (const g of manifest.tables) {
      const read = result.get(g.name)!;
      for (const engine of ['spark', 'pyiceberg'] as const) {
        // As in the other rewrite tests: an engine that cannot read a table's format (v3 types)
        // leaves no reads; every v1 and v2 table must be read by both.
        if (!read.reads[engine]) {
          assert.ok(g.formatVersion >= 3, `${g.name}: ${engine} read nothing through the metastore`);
          t.diagnostic(`${g.name}: ${engine} does not read it (format v${g.formatVersion})`);
          continue;
        }
        same += assertSameReads(t, engine, source.get(g.name)!, read).same;
      }
    }
    t.diagnostic(`${same} identical reads through Hive Metastore 3.1`);
    assert.ok(same >= manifest.tables.length * 2, 'the comparison covered reads');
  });

  it('is incremental into Hive Metastore 3.1: a second sync after more commits, then a no-op third', async (t) => {
    const catalog = await open(hive3Uri!);
    const incReplica = path.join(base, 'replica-inc');
    const incBefore: Map<string, string>[] = [];
    const requests = [];
    const names: string[] = [];
    try {
      for (const name of ['v2_identity_mor', 'v2_bucket_day_evolution']) {
        const g = manifest.tables.find((x) => x.name === name);
        assert.ok(g, `fixture ${name}`);
        const rel = path.relative(manifest.warehouse, g.locationPath);
        cpSync(path.join(away, rel), path.join(incReplica, rel), { recursive: true });
        const metaDir = path.join(incReplica, rel, 'metadata');
        const versions = readdirSync(metaDir)
          .map((f) => ({ f, v: Number(/^v(\d+)\./.exec(f)?.[1] ?? 0) }))
          .filter((x) => x.v > 0)
          .sort((a, b) => a.v - b.v);
        // The first copy reached only an earlier version: the last three commits arrive later.
        const held = versions.slice(-3);
        const holdDir = path.join(base, 'held', name);
        mkdirSync(holdDir, { recursive: true });
        for (const h of held) renameSync(path.join(metaDir, h.f), path.join(holdDir, h.f));
        const opts = {
          table: { namespace: ['hiveinc'], name },
          catalog,
          tableLocation: path.join(incReplica, rel),
          mappings: [{ source: manifest.warehouse, target: incReplica }],
          metadataRoot: path.join(base, 'inc-metadata', name),
          resolve: router.resolver,
        };
        const first = await syncTable(opts);
        assert.equal(first.status, 'committed');
        assert.equal((await catalog.loadTable(opts.table))?.metadataLocation, first.metadataLocation);
        for (const h of held) renameSync(path.join(holdDir, h.f), path.join(metaDir, h.f));
        incBefore.push(treeDigest(path.join(incReplica, rel)));
        const second = await syncTable(opts);
        assert.equal(second.status, 'committed');
        assert.equal(second.snapshotId, g.currentSnapshotId);
        assert.ok(second.manifestsReused > 0, `${name}: the second sync reused the first one's manifests`);
        const table = await catalog.loadTable(opts.table);
        assert.equal(table?.metadataLocation, second.metadataLocation);
        const third = await syncTable(opts);
        assert.equal(third.status, 'up-to-date');
        assert.equal(third.manifestsRewritten + third.manifestListsRewritten, 0);
        assert.equal((await catalog.loadTable(opts.table))?.metadataLocation, second.metadataLocation);
        assert.deepEqual(treeChanges(incBefore.at(-1)!, treeDigest(path.join(incReplica, rel))), []);
        t.diagnostic(
          `${name}: first ${first.manifestsRewritten} manifests; second ${second.manifestsRewritten} rewritten, ${second.manifestsReused} reused`,
        );
        requests.push({
          name,
          catalog: { type: 'hive' as const, uri: hive3Uri! },
          identifier: `hiveinc.${name}`,
        });
        names.push(name);
      }
    } finally {
      await catalog.close();
    }
    const result = readsByName(await readTables({ tables: requests, engines: ['spark', 'pyiceberg'] }));
    for (const name of names) {
      for (const engine of ['spark', 'pyiceberg'] as const)
        assertSameReads(t, engine, source.get(name)!, result.get(name)!);
    }
  });

  it('syncs every table into Hive Metastore 4.0; readers read the metadata location it holds', {
    skip: hive4.skip,
  }, async (t) => {
    const catalog = await open(hive4Uri!);
    const requests = [];
    try {
      assert.equal(catalog.capabilities.conditionalAlter, true, 'Hive 4 offers the conditional alter');
      for (const g of manifest.tables) {
        const table = { namespace: ['hivedr4'], name: g.name };
        const r = await syncTable({
          ...common(g),
          table,
          catalog,
          metadataRoot: path.join(base, 'metadata4', g.name),
        });
        assert.equal(r.status, 'committed');
        const held = (await catalog.loadTable(table))?.metadataLocation;
        assert.equal(held, r.metadataLocation);
        requests.push({ name: g.name, metadata: held! });
      }
    } finally {
      await catalog.close();
    }
    const result = readsByName(await readTables({ tables: requests }));
    let same = 0;
    for (const g of manifest.tables) {
      for (const engine of ALL_ENGINES) {
        if (result.get(g.name)!.reads[engine])
          same += assertSameReads(t, engine, source.get(g.name)!, result.get(g.name)!).same;
      }
    }
    t.diagnostic(`${same} identical reads of the metadata Hive Metastore 4.0 holds`);
    assert.ok(same >= manifest.tables.length * 2);
  });

  it('wrote nothing inside the replicated tree', () => {
    assert.deepEqual(treeChanges(replicaBefore, treeDigest(replica)), []);
  });
});
