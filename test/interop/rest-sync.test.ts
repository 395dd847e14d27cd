/**
 * Rewrite-mode sync into Iceberg's reference REST catalog, read back through that catalog by the
 * readers DR sites use: Spark with Iceberg's own RESTCatalog, PyIceberg's RestCatalog, and DuckDB
 * on the metadata the catalog names. Every snapshot and every ref must read exactly as the source.
 * Two tables first arrive without their last three commits, so that the catalog moves them by a
 * server-side commit; a third sync is a no-op. The replica is checksummed around it all: neither
 * this tool nor the catalog writes into it.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RestCatalog } from '../../src/catalog/rest/rest.ts';
import { StorageRouter } from '../../src/storage/router.ts';
import { syncTable } from '../../src/sync/engine.ts';
import { verifyTable } from '../../src/sync/verify.ts';
import { repoRoot } from '../helpers/paths.ts';
import { requireServer } from '../helpers/requires.ts';
import { type RestServer, restSkipReason, startRestServer } from '../helpers/rest.ts';
import { checksums } from '../helpers/sample-site.ts';
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
const base = path.join(work, 'rest');
const replica = path.join(base, 'replica');
const router = new StorageRouter();
/** Tables that first arrive without their last commits. */
const LATE = ['v2_identity_mor', 'v2_bucket_day_evolution'];

describe('rewrite-mode sync into a REST catalog, read through it by Spark, PyIceberg and DuckDB', {
  skip: skip ?? requireServer('Iceberg REST catalog', restSkipReason).skip,
}, () => {
  let manifest: GeneratedManifest;
  let source: Map<string, TableRead>;
  let server: RestServer;
  let replicated: Map<string, string>;

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
    replicated = checksums(replica);
    server = await startRestServer();
  });
  after(async () => {
    await server?.stop();
  });

  it('syncs every table (two of them in two steps), a rerun commits nothing, verify passes, the replica is untouched', async (t) => {
    const catalog = await RestCatalog.open({ name: 'dr', uri: server.uri, storageFor: router.resolver });
    const rules = [{ source: manifest.warehouse, target: replica }];
    try {
      for (const g of manifest.tables) {
        const rel = path.relative(manifest.warehouse, g.locationPath);
        const opts = {
          table: { namespace: ['dr'], name: g.name },
          catalog,
          tableLocation: path.join(replica, rel),
          mappings: rules,
          metadataRoot: path.join(base, 'metadata', g.name),
          resolve: router.resolver,
          // The current metadata file (a table may keep it outside its location's metadata/);
          // the late tables are found by listing, so that the held-back versions are noticed.
          ...(LATE.includes(g.name)
            ? {}
            : { sourceMetadata: path.join(replica, path.relative(manifest.warehouse, g.currentMetadata)) }),
        };
        let earlier: Awaited<ReturnType<typeof syncTable>> | undefined;
        if (LATE.includes(g.name)) {
          // The replication has not brought the last three metadata files yet.
          const metaDir = path.join(replica, rel, 'metadata');
          const held = readdirSync(metaDir)
            .filter((f) => /^v\d+\.metadata\.json$/.test(f))
            .sort((a, b) => Number(a.slice(1).split('.')[0]) - Number(b.slice(1).split('.')[0]))
            .slice(-3);
          const holdDir = path.join(base, 'held', g.name);
          mkdirSync(holdDir, { recursive: true });
          for (const f of held) renameSync(path.join(metaDir, f), path.join(holdDir, f));
          const first = await syncTable(opts);
          assert.equal(first.status, 'committed', `${g.name}: first`);
          earlier = first;
          for (const f of held) renameSync(path.join(holdDir, f), path.join(metaDir, f));
        }
        const r = await syncTable(opts);
        assert.equal(r.status, 'committed', `${g.name}: ${JSON.stringify(r.missing.slice(0, 3))}`);
        assert.equal(r.snapshotId, g.currentSnapshotId);
        if (earlier) {
          // The held-back commits arrived: a newer version, moved by a server-side commit.
          assert.notEqual(r.sourceMetadata, earlier.sourceMetadata, `${g.name}: a newer version second`);
          assert.notEqual(r.metadataLocation, earlier.metadataLocation, `${g.name}: the catalog's own file`);
        }
        assert.equal((await catalog.loadTable(opts.table))?.metadataLocation, r.metadataLocation);
        const again = await syncTable(opts);
        assert.equal(again.status, 'up-to-date', `${g.name}: rerun`);
        assert.equal(
          (await catalog.loadTable(opts.table))?.metadataLocation,
          r.metadataLocation,
          'nothing committed',
        );
        const v = await verifyTable({
          table: opts.table,
          catalog,
          mappings: rules,
          metadataRoot: opts.metadataRoot,
          resolve: router.resolver,
        });
        assert.deepEqual(v.problems, [], `${g.name}: verify`);
      }
    } finally {
      await catalog.close();
    }
    assert.deepEqual(checksums(replica), replicated, 'the replica is byte for byte as replicated');
    t.diagnostic(`${manifest.tables.length} tables synced into the REST catalog`);
  });

  it('reads every snapshot and ref exactly as the source, through the REST catalog', async (t) => {
    const result = readsByName(
      await readTables({
        tables: manifest.tables.map((g) => ({
          name: g.name,
          catalog: { type: 'rest' as const, uri: server.uri },
          identifier: `dr.${g.name}`,
        })),
      }),
    );
    let same = 0;
    for (const g of manifest.tables) {
      for (const engine of ALL_ENGINES)
        same += assertSameReads(t, engine, source.get(g.name)!, result.get(g.name)!).same;
    }
    t.diagnostic(`${same} identical reads`);
    assert.ok(same > manifest.tables.length * 3, 'the comparison covered reads');
  });
});
