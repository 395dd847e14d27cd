/**
 * The end-to-end checks of a sync of the bundled sample replica on one storage backend (S3, HDFS):
 * the replica has been put at `<base>/warehouse` as replication would; these sync it with the DR
 * metadata on the same backend, into a SQL catalog and into a Hadoop-layout catalog, and check
 * what was committed. Expectations come from the sample's own metadata, never from constants.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { HadoopCatalog } from '../../src/catalog/hadoop/hadoop.ts';
import { SqlCatalog } from '../../src/catalog/sql/sql.ts';
import { decodeMetadata } from '../../src/iceberg/metadata-json.ts';
import type { StorageResolver } from '../../src/storage/router.ts';
import type { Storage } from '../../src/storage/storage.ts';
import { syncTable } from '../../src/sync/engine.ts';
import { verifyTable } from '../../src/sync/verify.ts';
import type { PathMappingRule } from '../../src/table/path-mapping.ts';
import { type FoundPath, walkTable } from '../../src/table/walk.ts';
import { scratchDir } from './paths.ts';

/** Where the bundled sample's metadata says the table lives. */
export const SAMPLE_SOURCE_WAREHOUSE = 'hdfs://prod-nn:8020/warehouse';

/** A backend holding the sample replica at `<base>/warehouse`. */
export interface SampleOnBackend {
  /** The backend's storage, for reading back what was written. */
  readonly storage: Storage;
  readonly resolve: StorageResolver;
  /** The root the replica and the DR metadata share, e.g. `s3://bucket` or `hdfs://drns/dir`. */
  readonly base: string;
}

/**
 * Syncs into a SQLite catalog with the DR metadata at `<base>/dr`, then checks: every path the
 * committed metadata names is under `base`, every live one exists with its recorded size,
 * rewritten metadata lies under the DR root, data files are used in place, no temporary file of an
 * atomic write is left, a second and third run are up to date (so the run lock is gone), and
 * verify is clean.
 */
export async function checkSampleSync(b: SampleOnBackend, label: string): Promise<void> {
  const warehouse = `${b.base}/warehouse`;
  const tableLocation = `${warehouse}/sales/orders`;
  const metadataRoot = `${b.base}/dr/sales/orders/metadata`;
  const { resolve, storage } = b;

  // The newest source metadata, read back from the backend.
  const names: string[] = [];
  for await (const f of storage.list(`${tableLocation}/metadata`)) names.push(f.path);
  const newest = names
    .map((p) => ({ p, v: Number(/\/v(\d+)\.metadata\.json$/.exec(p)?.[1] ?? -1) }))
    .filter((f) => f.v >= 0)
    .sort((x, y) => y.v - x.v)[0];
  assert.ok(newest, `${label}: the replica has versioned metadata`);
  const sourceDoc = decodeMetadata(await storage.read(newest.p), newest.p).metadata;
  assert.equal(
    sourceDoc.location,
    `${SAMPLE_SOURCE_WAREHOUSE}/sales/orders`,
    'the sample names production paths',
  );

  const local = scratchDir(`${label}-sync`);
  const catalog = await SqlCatalog.open({
    name: 'dr',
    uri: `sqlite:///${local}/iceberg_catalog.db`,
    storageFor: resolve,
  });
  try {
    const table = { namespace: ['sales'], name: 'orders' };
    const mappings: PathMappingRule[] = [{ source: SAMPLE_SOURCE_WAREHOUSE, target: warehouse }];
    const opts = { table, catalog, tableLocation, mappings, metadataRoot, resolve };

    const first = await syncTable(opts);
    assert.equal(first.status, 'committed');
    assert.equal(first.missingFiles, 0);
    assert.equal(first.snapshotId, sourceDoc.currentSnapshotId?.toString());
    assert.equal(first.sourceMetadata, newest.p);
    const location = first.metadataLocation as string;
    assert.ok(location.startsWith(`${metadataRoot}/`), location);
    assert.equal((await catalog.loadTable(table))?.metadataLocation, location);

    // Every path the committed table names.
    const doc = decodeMetadata(await storage.read(location), location);
    assert.equal(doc.metadata.location, tableLocation);
    assert.equal(doc.metadata.currentSnapshotId, sourceDoc.currentSnapshotId);
    const found: FoundPath[] = [];
    const summary = await walkTable(doc, location, resolve, (p) => {
      found.push(p);
    });
    assert.ok(summary.dataFiles > 0 && summary.positionDeleteFiles > 0, JSON.stringify(summary));
    for (const p of found) assert.ok(p.path.startsWith(`${b.base}/`), `${p.field} in ${p.in}: ${p.path}`);
    const live = found.filter((p) => p.live);
    assert.ok(live.some((p) => p.kind === 'manifest-list') && live.some((p) => p.kind === 'manifest'));
    for (const p of live) {
      const info = await storage.stat(p.path);
      assert.ok(info, `${p.path} (${p.field} in ${p.in}) does not exist`);
      if (p.size !== undefined) assert.equal(BigInt(info.size), p.size, `size of ${p.path}`);
    }
    // Rewritten metadata lives under the DR root; the replica's data files are used in place.
    for (const p of live.filter((f) => f.kind === 'manifest' || f.kind === 'manifest-list')) {
      assert.ok(p.path.startsWith(`${metadataRoot}/`), p.path);
    }
    assert.ok(
      live.filter((f) => f.kind === 'data').every((f) => f.path.startsWith(`${tableLocation}/data/`)),
    );
    // No temporary files of atomic writes are left in the metadata root.
    for await (const f of storage.list(metadataRoot, { recursive: true })) {
      assert.doesNotMatch(f.path, /\/\.[^/]*\.tmp$/, f.path);
    }

    const second = await syncTable(opts);
    assert.equal(second.status, 'up-to-date');
    assert.equal(second.metadataLocation, location);

    const v = await verifyTable({ table, catalog, mappings, metadataRoot, resolve });
    assert.deepEqual(v.problems, []);
    assert.equal(v.ok, true);
    assert.ok(v.outputFilesScanned > 0);

    // The run lock is gone again: a third run is not locked out.
    assert.equal((await syncTable(opts)).status, 'up-to-date');
  } finally {
    await catalog.close();
  }
}

/**
 * Syncs into a Hadoop-layout catalog whose warehouse is `<base>/hadoop-wh` on the same backend:
 * `v1.metadata.json` and `version-hint.text` are written there, a rerun is up to date, verify is
 * clean.
 */
export async function checkSampleHadoopCatalogSync(b: SampleOnBackend): Promise<void> {
  const warehouse = `${b.base}/warehouse`;
  const hadoopWarehouse = `${b.base}/hadoop-wh`;
  const table = { namespace: ['sales'], name: 'orders' };
  const metadataRoot = `${hadoopWarehouse}/sales/orders/metadata`;
  const catalog = new HadoopCatalog({ name: 'h', warehouse: hadoopWarehouse, storage: b.storage });
  const mappings: PathMappingRule[] = [{ source: SAMPLE_SOURCE_WAREHOUSE, target: warehouse }];
  const opts = {
    table,
    catalog,
    tableLocation: `${warehouse}/sales/orders`,
    mappings,
    metadataRoot,
    resolve: b.resolve,
  };
  const first = await syncTable(opts);
  assert.equal(first.status, 'committed');
  assert.equal(first.metadataLocation, `${metadataRoot}/v1.metadata.json`);
  assert.equal(new TextDecoder().decode(await b.storage.read(`${metadataRoot}/version-hint.text`)), '1');
  assert.equal((await catalog.loadTable(table))?.metadataLocation, first.metadataLocation);
  assert.equal((await syncTable(opts)).status, 'up-to-date');
  const v = await verifyTable({ table, catalog, mappings, metadataRoot, resolve: b.resolve });
  assert.deepEqual(v.problems, []);
}

/** Where {@link syncSampleInto} commits: a SQLite catalog file `<catalogDir>/iceberg_catalog.db`. */
export interface SampleSyncTarget {
  /** The catalog name (the `catalog_name` its rows get). */
  readonly catalogName: string;
  readonly catalogDir: string;
  /** The replicated sales.orders directory, and the warehouse the source paths map to. */
  readonly tableLocation: string;
  readonly warehouse: string;
  readonly metadataRoot: string;
  readonly resolve: StorageResolver;
}

/** Syncs the sample's sales.orders into a SQLite catalog; resolves the committed metadata location. */
export async function syncSampleInto(t: SampleSyncTarget): Promise<string> {
  mkdirSync(t.catalogDir, { recursive: true });
  const catalog = await SqlCatalog.open({
    name: t.catalogName,
    uri: `sqlite:///${t.catalogDir}/iceberg_catalog.db`,
    storageFor: t.resolve,
  });
  try {
    const r = await syncTable({
      table: { namespace: ['sales'], name: 'orders' },
      catalog,
      tableLocation: t.tableLocation,
      mappings: [{ source: SAMPLE_SOURCE_WAREHOUSE, target: t.warehouse }],
      metadataRoot: t.metadataRoot,
      resolve: t.resolve,
    });
    assert.equal(r.status, 'committed');
    return r.metadataLocation as string;
  } finally {
    await catalog.close();
  }
}
