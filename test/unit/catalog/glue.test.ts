/**
 * The Glue catalog against the Glue emulator (moto, made to enforce UpdateTable's VersionId by
 * scripts/glue-emulator.py): that the emulator refuses stale updates at all, the Glue table as
 * Iceberg's GlueCatalog writes it, listing and dropping beside non-Iceberg tables, read-only
 * opening, another writer's commit between our load and our commit, two syncs at once, and faults
 * (the emulator stopped, answers lost, throttling, access denied) put between client and emulator
 * by a proxy. The replica is checksummed around every run.
 */
import assert from 'node:assert/strict';
import { existsSync, renameSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateTableCommand,
  GetDatabaseCommand,
  GetTableCommand,
  type GlueClient,
  UpdateTableCommand,
} from '@aws-sdk/client-glue';
import type { Catalog } from '../../../src/catalog/catalog.ts';
import {
  CommitConflictError,
  ConfigError,
  ExitCode,
  exitCodeFor,
  PermissionDeniedError,
  StorageError,
} from '../../../src/errors.ts';
import { decodeMetadata } from '../../../src/iceberg/metadata-json.ts';
import { currentSchema } from '../../../src/iceberg/schema.ts';
import { LocalStorage } from '../../../src/storage/local/local.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import { syncTable } from '../../../src/sync/engine.ts';
import type { SyncReport } from '../../../src/sync/report.ts';
import { verifyTable } from '../../../src/sync/verify.ts';
import { type FaultProxy, startFaultProxy } from '../../helpers/aws-fault-proxy.ts';
import {
  glueEndpoint,
  glueSkipReason,
  glueTestCatalog,
  glueTestClient,
  type PrivateGlue,
  startPrivateGlue,
  uniqueDatabase,
} from '../../helpers/glue.ts';
import { requireServer } from '../../helpers/requires.ts';
import { type SampleSite, sampleSite, sampleSourcePrefix } from '../../helpers/sample-site.ts';
import { treeChanges, treeDigest } from '../../helpers/tree.ts';

const router = new StorageRouter();
const local = new LocalStorage();

/** The sample site with its newest metadata version held back (not replicated yet). */
function siteWithHeldBack(prefix: string): { site: SampleSite; release(): void } {
  const site = sampleSite(prefix);
  const newest = path.join(site.metadataDir, 'v8.metadata.json');
  const held = path.join(site.base, 'v8.metadata.json.held');
  renameSync(newest, held);
  return { site, release: () => renameSync(held, newest) };
}

function syncOptions(site: SampleSite, catalog: Catalog, database: string) {
  return {
    table: { namespace: [database], name: 'orders' },
    catalog,
    tableLocation: site.table,
    mappings: [{ source: sampleSourcePrefix, target: site.replica }],
    metadataRoot: path.join(site.dr, database, 'orders', 'metadata'),
    resolve: router.resolver,
  };
}

async function glueTable(client: GlueClient, database: string, name: string) {
  const r = await client.send(new GetTableCommand({ DatabaseName: database, Name: name }));
  return r.Table!;
}

/** `catalog` with `before` run at the start of every commit (after the engine loaded the table). */
function commitsAfter(catalog: Catalog, before: () => Promise<void>): Catalog {
  return {
    name: catalog.name,
    loadTable: (id) => catalog.loadTable(id),
    nextMetadataLocation: (id, expected) => catalog.nextMetadataLocation(id, expected),
    commitTable: async (id, expected, location, bytes) => {
      await before();
      return catalog.commitTable(id, expected, location, bytes);
    },
    ensureNamespace: (ns) => catalog.ensureNamespace(ns),
    listNamespaces: (parent) => catalog.listNamespaces(parent),
    listTables: (ns) => catalog.listTables(ns),
    close: () => catalog.close(),
  };
}

describe('Glue catalog on the emulator', requireServer('Glue emulator', glueSkipReason), () => {
  const endpoint = glueEndpoint!;
  let client: GlueClient;
  const closing: (Catalog | FaultProxy | PrivateGlue)[] = [];
  const track = <T extends Catalog | FaultProxy | PrivateGlue>(x: T): T => {
    closing.push(x);
    return x;
  };
  before(() => {
    client = glueTestClient(endpoint);
  });
  after(async () => {
    for (const x of closing.reverse()) await ('stop' in x ? x.stop() : x.close()).catch(() => {});
    client?.destroy();
  });

  it('the emulator refuses a stale UpdateTable and leaves the table unchanged', async () => {
    const db = uniqueDatabase('versions');
    const cat = track(glueTestCatalog(endpoint, router.resolver));
    await cat.ensureNamespace([db]);
    await client.send(
      new CreateTableCommand({
        DatabaseName: db,
        TableInput: { Name: 't', Parameters: { table_type: 'ICEBERG', metadata_location: 'a' } },
      }),
    );
    const read = await glueTable(client, db, 't');
    assert.ok(read.VersionId, 'GetTable gives a VersionId');
    const update = (location: string, versionId: string) =>
      client.send(
        new UpdateTableCommand({
          DatabaseName: db,
          VersionId: versionId,
          TableInput: { Name: 't', Parameters: { table_type: 'ICEBERG', metadata_location: location } },
        }),
      );
    await update('b', read.VersionId);
    const now = await glueTable(client, db, 't');
    assert.equal(now.Parameters?.metadata_location, 'b');
    assert.notEqual(now.VersionId, read.VersionId);
    // The same version again is stale now.
    await assert.rejects(update('stale', read.VersionId), { name: 'ConcurrentModificationException' });
    await assert.rejects(update('bogus', '999'), { name: 'ConcurrentModificationException' });
    const after = await glueTable(client, db, 't');
    assert.equal(after.Parameters?.metadata_location, 'b');
    assert.equal(after.VersionId, now.VersionId);
  });

  it('registers and commits the table as Iceberg’s GlueCatalog does, keeping parameters others set', async () => {
    const db = uniqueDatabase('shape');
    const { site, release } = siteWithHeldBack('glue-shape');
    const replicaBefore = treeDigest(site.replica);
    const cat = track(glueTestCatalog(endpoint, router.resolver));
    const opts = syncOptions(site, cat, db);
    const first = await syncTable(opts);
    assert.equal(first.status, 'committed');
    assert.deepEqual(treeChanges(replicaBefore, treeDigest(site.replica)), [], 'the replica is untouched');
    const t1 = await glueTable(client, db, 'orders');
    assert.equal(t1.TableType, 'EXTERNAL_TABLE');
    assert.equal(t1.Parameters?.table_type, 'ICEBERG');
    assert.equal(t1.Parameters?.metadata_location, first.metadataLocation);
    assert.equal(t1.Parameters?.previous_metadata_location, undefined);
    // Location and columns come from the committed metadata.
    const doc = decodeMetadata(await local.read(first.metadataLocation!), first.metadataLocation!);
    assert.equal(t1.StorageDescriptor?.Location, doc.metadata.location);
    const schema = currentSchema(doc.json, first.metadataLocation!);
    assert.deepEqual(
      t1.StorageDescriptor?.Columns?.slice(0, schema.struct.fields.length).map((c) => [
        c.Name,
        c.Parameters?.['iceberg.field.id'],
        c.Parameters?.['iceberg.field.optional'],
        c.Parameters?.['iceberg.field.current'],
      ]),
      schema.struct.fields.map((f) => [f.name, String(f.id), String(!f.required), 'true']),
    );
    assert.ok(t1.StorageDescriptor?.Columns?.every((c) => c.Type && !/[A-Z]/.test(c.Type)));

    // Someone tags the Glue table; our next commit keeps the tag and records the previous location.
    await client.send(
      new UpdateTableCommand({
        DatabaseName: db,
        VersionId: t1.VersionId!,
        TableInput: {
          Name: 'orders',
          TableType: 'EXTERNAL_TABLE',
          Parameters: { ...t1.Parameters, owner_team: 'dr-site' },
          StorageDescriptor: t1.StorageDescriptor!,
        },
      }),
    );
    release();
    const released = treeDigest(site.replica);
    const second = await syncTable(opts);
    assert.equal(second.status, 'committed');
    assert.notEqual(second.metadataLocation, first.metadataLocation);
    const t2 = await glueTable(client, db, 'orders');
    assert.equal(t2.Parameters?.metadata_location, second.metadataLocation);
    assert.equal(t2.Parameters?.previous_metadata_location, first.metadataLocation);
    assert.equal(t2.Parameters?.owner_team, 'dr-site');
    assert.equal((await syncTable(opts)).status, 'up-to-date');
    const v = await verifyTable({ ...opts });
    assert.deepEqual(v.problems, []);
    assert.deepEqual(treeChanges(released, treeDigest(site.replica)), [], 'the replica is untouched');
  });

  it('lists only the Iceberg tables, page by page, and refuses to load or drop a Glue table of another kind', async () => {
    const db = uniqueDatabase('mixed');
    const cat = track(glueTestCatalog(endpoint, router.resolver, { pageSize: 2 }));
    const dir = sampleSite('glue-mixed').dr;
    for (const name of ['c', 'a', 'e', 'b']) {
      await cat.commitTable(
        { namespace: [db], name },
        undefined,
        `${dir}/${name}.metadata.json`,
        new TextEncoder().encode('{}'),
      );
    }
    await client.send(
      new CreateTableCommand({
        DatabaseName: db,
        TableInput: { Name: 'hive_t', TableType: 'EXTERNAL_TABLE', Parameters: { EXTERNAL: 'TRUE' } },
      }),
    );
    assert.deepEqual(
      (await cat.listTables([db])).map((t) => t.name),
      ['a', 'b', 'c', 'e'],
    );
    assert.ok((await cat.listNamespaces()).some((n) => n[0] === db));
    const hive = { namespace: [db], name: 'hive_t' };
    await assert.rejects(
      cat.loadTable(hive),
      (e: unknown) => e instanceof ConfigError && /not an Iceberg table/.test(e.message),
    );
    await assert.rejects(cat.dropTable!(hive), ConfigError);
    assert.ok(await glueTable(client, db, 'hive_t'), 'the Hive table is still there');
    assert.equal(await cat.dropTable!({ namespace: [db], name: 'a' }), true);
    assert.ok(existsSync(`${dir}/a.metadata.json`), 'dropping keeps the files');
    // Names Glue would store differently, or cannot store, are refused before any call.
    await assert.rejects(cat.loadTable({ namespace: [db], name: 'Orders' }), ConfigError);
    await assert.rejects(cat.loadTable({ namespace: [db, 'inner'], name: 't' }), ConfigError);
  });

  it('opened read-only, creates and changes nothing: a dry run leaves Glue and the disk as they were', async () => {
    const db = uniqueDatabase('plan');
    const site = sampleSite('glue-plan');
    const replicaBefore = treeDigest(site.replica);
    const cat = track(glueTestCatalog(endpoint, router.resolver, { readOnly: true }));
    const opts = syncOptions(site, cat, db);
    const r = await syncTable({ ...opts, dryRun: true });
    assert.equal(r.status, 'planned');
    await assert.rejects(client.send(new GetDatabaseCommand({ Name: db })), {
      name: 'EntityNotFoundException',
    });
    assert.equal(existsSync(opts.metadataRoot), false, 'no metadata written');
    await assert.rejects(cat.ensureNamespace([db]), ConfigError);
    await assert.rejects(
      cat.commitTable(opts.table, undefined, `${site.dr}/x.metadata.json`, new Uint8Array([1])),
      ConfigError,
    );
    assert.equal(existsSync(`${site.dr}/x.metadata.json`), false);
    assert.deepEqual(treeChanges(replicaBefore, treeDigest(site.replica)), []);
  });

  it('refuses a commit when another writer committed between our load and our commit (exit 5), keeping theirs', async () => {
    const db = uniqueDatabase('race');
    const { site, release } = siteWithHeldBack('glue-other-writer');
    const ours = track(glueTestCatalog(endpoint, router.resolver));
    const theirs = track(glueTestCatalog(endpoint, router.resolver, { name: 'spark' }));
    const opts = syncOptions(site, ours, db);
    const first = await syncTable(opts);
    assert.equal(first.status, 'committed');
    release();
    const replicaBefore = treeDigest(site.replica);
    // Their commit: a metadata file of their own, over the location we loaded.
    const theirLocation = path.join(site.dr, 'theirs', '00002-other.metadata.json');
    const racing = commitsAfter(ours, async () => {
      const bytes = await local.read(first.metadataLocation as string);
      await theirs.commitTable(opts.table, first.metadataLocation as string, theirLocation, bytes);
    });
    const err = await syncTable({ ...opts, catalog: racing }).then(
      (r: SyncReport) => assert.fail(`committed: ${JSON.stringify(r.status)}`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CommitConflictError, String(err));
    assert.equal(exitCodeFor(err), ExitCode.CONFLICT);
    assert.match(err.message, new RegExp(`${db}\\.orders`));
    assert.equal((await ours.loadTable(opts.table))?.metadataLocation, theirLocation, 'theirs stays');
    const t = await glueTable(client, db, 'orders');
    assert.equal(t.Parameters?.previous_metadata_location, first.metadataLocation);
    // Our proposed metadata file was removed again: our root holds the first commit's file only.
    assert.ok(existsSync(theirLocation));
    const ourFiles = [...treeDigest(opts.metadataRoot).keys()].filter((f) => f.endsWith('.metadata.json'));
    assert.deepEqual(ourFiles, [path.basename(first.metadataLocation as string)]);
    assert.deepEqual(treeChanges(replicaBefore, treeDigest(site.replica)), []);
  });

  it('lets one of two syncs at once win cleanly', async () => {
    const db = uniqueDatabase('two');
    const site = sampleSite('glue-two-syncs');
    const one = track(glueTestCatalog(endpoint, router.resolver));
    const two = track(glueTestCatalog(endpoint, router.resolver));
    const results = await Promise.allSettled([
      syncTable(syncOptions(site, one, db)),
      syncTable(syncOptions(site, two, db)),
    ]);
    const committed = results.filter((r) => r.status === 'fulfilled' && r.value.status === 'committed');
    assert.equal(committed.length, 1, JSON.stringify(results.map((r) => r.status)));
    for (const r of results) {
      if (r.status === 'rejected') assert.equal(exitCodeFor(r.reason), ExitCode.CONFLICT, String(r.reason));
      else assert.ok(['committed', 'up-to-date'].includes(r.value.status), r.value.status);
    }
    const winner = (committed[0] as PromiseFulfilledResult<SyncReport>).value.metadataLocation as string;
    assert.equal((await one.loadTable(syncOptions(site, one, db).table))?.metadataLocation, winner);
    assert.ok(existsSync(winner));
    assert.equal((await syncTable(syncOptions(site, one, db))).status, 'up-to-date');
  });

  it('fails clearly when the emulator stops mid-run, and keeps the file it may point at', async () => {
    const glue = track(await startPrivateGlue());
    const db = uniqueDatabase('stopped');
    const site = sampleSite('glue-stopped');
    const cat = track(glueTestCatalog(glue.endpoint, router.resolver, { maxAttempts: 2 }));
    const stopping = commitsAfter(cat, () => glue.stop());
    const err = await syncTable(syncOptions(site, stopping, db)).then(
      () => assert.fail('committed with the emulator down'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StorageError, String(err));
    assert.equal(exitCodeFor(err), ExitCode.STORAGE);
    assert.match(err.message, new RegExp(`cannot reach Glue at ${glue.endpoint.replace(/[.:/]/g, '\\$&')}`));
    assert.match(err.message, /CreateTable|GetTable/);
    // The file whose commit's outcome is unknown is kept (it is the only metadata file written).
    const written = [...treeDigest(site.dr).keys()].filter((f) => f.endsWith('.metadata.json'));
    assert.equal(written.length, 1, JSON.stringify(written));
  });

  it('commits when the answer to UpdateTable or CreateTable is lost, and never points at a missing file', async () => {
    const db = uniqueDatabase('lost');
    const { site, release } = siteWithHeldBack('glue-lost');
    const proxy = track(await startFaultProxy(endpoint));
    const cat = track(glueTestCatalog(proxy.endpoint, router.resolver, { maxAttempts: 3 }));
    const opts = syncOptions(site, cat, db);
    proxy.loseAnswer('CreateTable');
    const first = await syncTable(opts);
    assert.equal(first.status, 'committed');
    assert.equal(
      (await glueTable(client, db, 'orders')).Parameters?.metadata_location,
      first.metadataLocation,
    );
    assert.ok(existsSync(first.metadataLocation!));
    release();
    proxy.loseAnswer('UpdateTable');
    const second = await syncTable(opts);
    assert.equal(second.status, 'committed');
    assert.ok((proxy.seen.get('UpdateTable') ?? 0) >= 1);
    const now = (await glueTable(client, db, 'orders')).Parameters?.metadata_location;
    assert.equal(now, second.metadataLocation);
    assert.ok(existsSync(now!), 'the catalog points at a file that exists');
    assert.equal((await syncTable(opts)).status, 'up-to-date');
  });

  it('retries throttling within its bound, then fails clearly; access denied is reported as such', async () => {
    const db = uniqueDatabase('throttle');
    const { site, release } = siteWithHeldBack('glue-throttle');
    const proxy = track(await startFaultProxy(endpoint));
    const cat = track(glueTestCatalog(proxy.endpoint, router.resolver, { maxAttempts: 4 }));
    const opts = syncOptions(site, cat, db);
    // Throttled twice, then served: the SDK's retries carry the commit through.
    proxy.throttle(2, 'CreateTable');
    const first = await syncTable(opts);
    assert.equal(first.status, 'committed');
    assert.equal(proxy.seen.get('CreateTable'), 3);
    // Throttled past the bound: a clear error, exit 6, and the table as it was.
    release();
    proxy.throttle(1000, 'UpdateTable');
    const err = await syncTable(opts).then(
      () => assert.fail('committed while throttled'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof StorageError, String(err));
    assert.equal(exitCodeFor(err), ExitCode.STORAGE);
    assert.match(err.message, /throttled by Glue \(after 4 attempts\)/);
    proxy.throttle(0);
    const now = (await glueTable(client, db, 'orders')).Parameters?.metadata_location;
    assert.equal(now, first.metadataLocation);
    assert.ok(existsSync(now!));
    // Access denied.
    proxy.fail(1, 'AccessDeniedException', 'GetTable');
    const denied = await cat.loadTable(opts.table).then(
      () => assert.fail('loaded while denied'),
      (e: unknown) => e,
    );
    assert.ok(denied instanceof PermissionDeniedError, String(denied));
    assert.match(denied.message, /AccessDeniedException/);
    // The throttled run's proposed file is not referenced; the next run commits.
    assert.equal((await syncTable(opts)).status, 'committed');
  });
});
