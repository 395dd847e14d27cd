/**
 * The Hive catalog against a real Hive Metastore 3.1, beyond the contract: the command line
 * (`--catalog-type hive --catalog-uri thrift://...`, a configuration file with an HA list, plan
 * creating nothing, verify, an unreachable metastore), conflicts (another writer between our
 * load and our commit, two of our syncs at once, a lock held by another client), and faults (the
 * metastore killed mid-run, a broken connection, a dead first address). The replicated tree is
 * checksummed around every run.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Catalog, TableIdentifier } from '../../src/catalog/catalog.ts';
import { HiveCatalog, type HiveCatalogOptions, parseMetastoreUris } from '../../src/catalog/hive/hive.ts';
import { LockLevel, LockState, LockType, M } from '../../src/catalog/hive/metastore-api.ts';
import { MetastoreClient } from '../../src/catalog/hive/metastore-client.ts';
import { CommitConflictError, ExitCode, exitCodeFor, StorageError } from '../../src/errors.ts';
import { StorageRouter } from '../../src/storage/router.ts';
import { syncTable } from '../../src/sync/engine.ts';
import { runCli } from '../helpers/cli.ts';
import { freePort, hive3Uri, hiveSkipReason, PrivateMetastore } from '../helpers/hive.ts';
import { scratchDir } from '../helpers/paths.ts';
import { requireServer } from '../helpers/requires.ts';
import { checksums, type SampleSite, sampleSite, sampleSourcePrefix } from '../helpers/sample-site.ts';

const server = requireServer('Hive Metastore 3.1', hiveSkipReason(3));
const router = new StorageRouter();
let dbCount = 0;
/** A database name of its own for each test (the metastore is shared by the run). */
const freshDb = () => `hc_${process.pid}_${++dbCount}`;

const open = (uri: string, more: Partial<HiveCatalogOptions> = {}) =>
  HiveCatalog.open({ name: 'dr', addresses: parseMetastoreUris(uri), storageFor: router.resolver, ...more });

/** The sample site with its newest version held back: the first sync commits an older one. */
function heldBackSite(prefix: string): { site: SampleSite; release(): void } {
  const site = sampleSite(prefix);
  const hold = path.join(site.base, 'held');
  mkdirSync(hold, { recursive: true });
  renameSync(path.join(site.metadataDir, 'v8.metadata.json'), path.join(hold, 'v8.metadata.json'));
  return {
    site,
    release: () =>
      renameSync(path.join(hold, 'v8.metadata.json'), path.join(site.metadataDir, 'v8.metadata.json')),
  };
}

function syncOptions(
  site: SampleSite,
  table: TableIdentifier,
  catalog: Catalog,
  root = path.join(site.dr, 'root'),
) {
  return {
    table,
    catalog,
    tableLocation: site.table,
    mappings: [{ source: sampleSourcePrefix, target: site.replica }],
    metadataRoot: root,
    resolve: router.resolver,
  };
}

/** `catalog` with `before` run inside each commit, after the engine's load and before our swap. */
function interposed(
  catalog: Catalog,
  before: (id: TableIdentifier, expected: string | undefined) => Promise<void>,
) {
  return new Proxy(catalog, {
    get(target, prop, receiver) {
      if (prop === 'commitTable') {
        return async (id: TableIdentifier, expected: string | undefined, loc: string, bytes?: Uint8Array) => {
          await before(id, expected);
          return target.commitTable(id, expected, loc, bytes);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/**
 * A TCP relay to the metastore whose connections a test can cut. With `loseReplyTo`, the first
 * reply to that method never arrives: the call reaches the server, then the client's connection
 * is cut (a reply lost on the way back).
 */
async function relay(
  to: number,
  loseReplyTo?: string,
): Promise<{ port: number; cut(): void; close(): Promise<void>; lost(): boolean }> {
  const sockets = new Set<net.Socket>();
  let armed = loseReplyTo !== undefined;
  let lost = false;
  const srv = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: to });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    let awaiting = false;
    client.on('data', (d: Buffer) => {
      if (armed && d.includes(loseReplyTo!)) {
        armed = false;
        awaiting = true;
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (awaiting) {
        lost = true;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    lost: () => lost,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}

describe('Hive catalog on Hive Metastore 3.1: CLI, conflicts, faults', server, () => {
  const hivePort = () => parseMetastoreUris(hive3Uri!)[0]!.port;

  before(() => {
    // The CLI runs the build.
    assert.ok(existsSync(path.join(import.meta.dirname, '../../dist/cli/main.js')), 'npm run build first');
  });

  it('CLI: --catalog-type hive --catalog-uri syncs and verifies; plan creates nothing; the replica is untouched', async () => {
    const site = sampleSite('hive-cli');
    const sums = checksums(site.replica);
    const db = freshDb();
    const args = (cmd: string, database = db) => [
      cmd,
      '--catalog-type',
      'hive',
      '--catalog-uri',
      hive3Uri!,
      '--warehouse',
      site.dr,
      '--database',
      database,
      '--table',
      'orders',
      '--table-location',
      site.table,
      '--map',
      `${sampleSourcePrefix}=${site.replica}`,
      '--json',
    ];
    const catalog = await open(hive3Uri!);
    try {
      const planDb = freshDb();
      const plan = runCli(args('plan', planDb));
      assert.equal(plan.code, 0, plan.stderr);
      assert.ok(!(await catalog.listNamespaces()).some((n) => n[0] === planDb), 'plan created no database');
      assert.equal(existsSync(site.dr), false, 'plan wrote nothing');
      const sync = runCli(args('sync'));
      assert.equal(sync.code, 0, sync.stderr);
      const location = (await catalog.loadTable({ namespace: [db], name: 'orders' }))?.metadataLocation;
      assert.ok(location && existsSync(location), `the metastore names a file that exists: ${location}`);
      assert.ok(location.startsWith(site.dr), 'the metadata is written outside the replica');
      const verify = runCli(args('verify'));
      assert.equal(verify.code, 0, verify.stderr);
      const again = runCli(args('sync'));
      assert.equal(again.code, 0, again.stderr);
      assert.equal(
        (await catalog.loadTable({ namespace: [db], name: 'orders' }))?.metadataLocation,
        location,
      );
    } finally {
      await catalog.close();
    }
    assert.deepEqual(checksums(site.replica), sums, 'the replica is byte-identical');
  });

  it('CLI: a configuration file with an HA list skips a dead first metastore; an unreachable one exits 6', async () => {
    const site = sampleSite('hive-cli-ha');
    const dead = await freePort();
    const config = path.join(site.base, 'catalogs.yaml');
    writeFileSync(
      config,
      [
        'catalog:',
        '  dr:',
        '    type: hive',
        `    uri: thrift://127.0.0.1:${dead},${hive3Uri}`,
        `    warehouse: ${site.dr}`,
        '  gone:',
        '    type: hive',
        `    uri: thrift://127.0.0.1:${dead}`,
        '    connect-retries: 0',
        `    warehouse: ${site.dr}`,
        '',
      ].join('\n'),
    );
    const db = freshDb();
    const table = ['--database', db, '--table', 'orders', '--table-location', site.table];
    const map = ['--map', `${sampleSourcePrefix}=${site.replica}`];
    const ok = runCli(['sync', '--config', config, '--catalog', 'dr', ...table, ...map]);
    assert.equal(ok.code, 0, ok.stderr);
    const gone = runCli(['sync', '--config', config, '--catalog', 'gone', ...table, ...map]);
    assert.equal(gone.code, ExitCode.STORAGE, gone.stderr);
    assert.match(gone.stderr, /no Hive Metastore answered/);
  });

  it('CLI: add-files --create registers replicated Parquet files in a metastore table; a rerun is up to date', async () => {
    const site = sampleSite('hive-add-files');
    const land = path.join(site.table, 'data');
    const sums = checksums(site.replica);
    const db = freshDb();
    const args = [
      'add-files',
      '--catalog-type',
      'hive',
      '--catalog-uri',
      hive3Uri!,
      '--warehouse',
      site.dr,
      '--database',
      db,
      '--table',
      'landed',
      '--replicated-path',
      land,
      '--exclude',
      '**/*-deletes.parquet',
      '--create',
      '--settle',
      '0',
      '--json',
    ];
    const first = runCli(args);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json?.status, 'committed');
    assert.ok(Number(first.json?.filesAdded) > 0);
    const catalog = await open(hive3Uri!);
    try {
      const id = { namespace: [db], name: 'landed' };
      assert.equal((await catalog.loadTable(id))?.metadataLocation, first.json?.metadataLocation);
      const again = runCli(args);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.json?.status, 'up-to-date');
      assert.equal((await catalog.loadTable(id))?.metadataLocation, first.json?.metadataLocation);
    } finally {
      await catalog.close();
    }
    assert.deepEqual(checksums(site.replica), sums, 'the landing area is byte-identical');
  });

  it('refuses a commit when another writer committed between our load and our swap (exit 5); the table keeps theirs', async () => {
    const { site, release } = heldBackSite('hive-conflict');
    const id = { namespace: [freshDb()], name: 'orders' };
    const ours = await open(hive3Uri!);
    const theirs = await open(hive3Uri!);
    try {
      const first = await syncTable(syncOptions(site, id, ours));
      assert.equal(first.status, 'committed');
      release();
      const sums = checksums(site.replica);
      const otherLocation = path.join(site.base, 'other-writer', 'v99.metadata.json');
      const racing = interposed(ours, async (tid, expected) => {
        await theirs.commitTable(tid, expected, otherLocation, readFileSync(first.metadataLocation!));
      });
      const err = await syncTable(syncOptions(site, id, racing)).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof CommitConflictError, String(err));
      assert.equal(exitCodeFor(err), ExitCode.CONFLICT);
      assert.equal(
        (await ours.loadTable(id))?.metadataLocation,
        otherLocation,
        "the other writer's commit stays",
      );
      assert.deepEqual(checksums(site.replica), sums);
    } finally {
      await ours.close();
      await theirs.close();
    }
  });

  it('CLI: a table lock held by another client exits 5 after lock-timeout-ms, naming the lock', async () => {
    const site = sampleSite('hive-cli-lock');
    const db = freshDb();
    const config = path.join(site.base, 'catalogs.yaml');
    writeFileSync(
      config,
      `catalog:\n  dr:\n    type: hive\n    uri: ${hive3Uri}\n    warehouse: ${site.dr}\n    iceberg.hive.lock-timeout-ms: 1000\n`,
    );
    const other = new MetastoreClient(parseMetastoreUris(hive3Uri!));
    try {
      const held = (await other.call(
        M.lock,
        {
          rqst: {
            component: [
              { type: LockType.EXCLUSIVE, level: LockLevel.TABLE, dbname: db, tablename: 'orders' },
            ],
            user: 'someone-else',
            hostname: 'elsewhere',
          },
        },
        { retry: false },
      )) as { lockid: bigint; state: number };
      assert.equal(held.state, LockState.ACQUIRED);
      const run = runCli([
        'sync',
        '--config',
        config,
        '--database',
        db,
        '--table',
        'orders',
        '--table-location',
        site.table,
        '--map',
        `${sampleSourcePrefix}=${site.replica}`,
      ]);
      assert.equal(run.code, ExitCode.CONFLICT, run.stderr);
      assert.match(
        run.stderr,
        /table lock is held by lock \d+ of someone-else@elsewhere; not acquired within 1000 ms/,
      );
      await other.call(M.unlock, { rqst: { lockid: held.lockid } }, { retry: false });
    } finally {
      await other.close();
    }
  });

  it('lets one of two of our syncs at once win cleanly; the other reports a conflict', async () => {
    const site = sampleSite('hive-two');
    const id = { namespace: [freshDb()], name: 'orders' };
    const a = await open(hive3Uri!);
    const b = await open(hive3Uri!);
    try {
      const results = await Promise.allSettled([
        syncTable(syncOptions(site, id, a, path.join(site.base, 'root-a'))),
        syncTable(syncOptions(site, id, b, path.join(site.base, 'root-b'))),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      assert.equal(won.length, 1, JSON.stringify(lost.map((l) => String(l.reason))));
      assert.equal(exitCodeFor(lost[0]!.reason), ExitCode.CONFLICT, String(lost[0]!.reason));
      const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof syncTable>>>).value;
      const location = (await a.loadTable(id))?.metadataLocation;
      assert.equal(location, winner.metadataLocation);
      assert.ok(location && existsSync(location));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("waits a bounded time for another client's table lock, then fails clearly (exit 5); commits once it is released", async () => {
    const { site, release } = heldBackSite('hive-lock');
    const db = freshDb();
    const id = { namespace: [db], name: 'orders' };
    const catalog = await open(hive3Uri!, { lockTimeoutMs: 1500 });
    const other = new MetastoreClient(parseMetastoreUris(hive3Uri!));
    try {
      const first = await syncTable(syncOptions(site, id, catalog));
      assert.equal(first.status, 'committed');
      release();
      const held = (await other.call(
        M.lock,
        {
          rqst: {
            component: [
              { type: LockType.EXCLUSIVE, level: LockLevel.TABLE, dbname: db, tablename: 'orders' },
            ],
            user: 'someone-else',
            hostname: 'elsewhere',
          },
        },
        { retry: false },
      )) as { lockid: bigint; state: number };
      assert.equal(held.state, LockState.ACQUIRED);
      const err = await syncTable(syncOptions(site, id, catalog)).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof CommitConflictError, String(err));
      assert.match(
        err.message,
        /table lock is held by lock \d+ of someone-else@elsewhere; not acquired within 1500 ms/,
      );
      assert.equal(exitCodeFor(err), ExitCode.CONFLICT);
      assert.equal((await catalog.loadTable(id))?.metadataLocation, first.metadataLocation);
      await other.call(M.unlock, { rqst: { lockid: held.lockid } }, { retry: false });
      const later = await syncTable(syncOptions(site, id, catalog));
      assert.equal(later.status, 'committed');
      assert.equal((await catalog.loadTable(id))?.metadataLocation, later.metadataLocation);
    } finally {
      await catalog.close();
      await other.close();
    }
  });

  it('lets the metastore create no directory where the table location holds nothing (a replica still empty)', async () => {
    const base = scratchDir('hive-nodir');
    const tableLocation = path.join(base, 'replica', 'db', 't');
    const metadataDir = path.join(base, 'dr', 'metadata');
    const warnings: string[] = [];
    const catalog = await open(hive3Uri!, { onWarning: (m) => warnings.push(m) });
    try {
      const doc = JSON.stringify({
        'format-version': 2,
        'table-uuid': '5f4e0c2a-0000-4000-8000-000000000002',
        location: tableLocation,
        'current-schema-id': 0,
        schemas: [
          { 'schema-id': 0, type: 'struct', fields: [{ id: 1, name: 'id', required: false, type: 'long' }] },
        ],
      });
      const id = { namespace: [freshDb()], name: 't' };
      const location = path.join(metadataDir, '00000-a.metadata.json');
      await catalog.commitTable(id, undefined, location, new TextEncoder().encode(doc));
      assert.equal((await catalog.loadTable(id))?.metadataLocation, location);
      assert.equal(existsSync(tableLocation), false, 'no directory made in the replica');
      assert.ok(
        warnings.some((w) => w.includes(tableLocation)),
        'the substitution is reported',
      );
    } finally {
      await catalog.close();
    }
  });

  it('settles a commit whose reply was lost by reading the table again: it stands, the file is kept', async () => {
    const { site, release } = heldBackSite('hive-lost-reply');
    const id = { namespace: [freshDb()], name: 'orders' };
    const r = await relay(hivePort(), 'alter_table_with_environment_context');
    const catalog = await open(`thrift://127.0.0.1:${r.port}`, { retryDelayMs: 100 });
    try {
      const first = await syncTable(syncOptions(site, id, catalog));
      assert.equal(first.status, 'committed');
      release();
      const second = await syncTable(syncOptions(site, id, catalog));
      assert.ok(r.lost(), 'the alter reply was lost');
      assert.equal(second.status, 'committed');
      const location = (await catalog.loadTable(id))?.metadataLocation;
      assert.equal(location, second.metadataLocation);
      assert.ok(location && existsSync(location));
    } finally {
      await catalog.close();
      await r.close();
    }
  });

  it('reconnects after a broken connection, and skips a dead first address', async () => {
    const r = await relay(hivePort());
    const dead = await freePort();
    const catalog = await open(`thrift://127.0.0.1:${dead},thrift://127.0.0.1:${r.port}`, {
      retryDelayMs: 100,
    });
    try {
      assert.equal(catalog.connectedTo, `thrift://127.0.0.1:${r.port}`);
      const before = await catalog.listNamespaces();
      r.cut();
      assert.deepEqual(await catalog.listNamespaces(), before, 'the read is retried on a new connection');
    } finally {
      await catalog.close();
      await r.close();
    }
  });

  describe('a private metastore killed mid-run', () => {
    let hms: PrivateMetastore;
    before(async () => {
      hms = await PrivateMetastore.start(path.join(scratchDir('hive-private'), 'hms'));
    });
    after(async () => {
      await hms?.kill();
    });

    it('fails the run clearly (exit 6); after a restart the metastore names a file that exists, and a sync completes', async () => {
      const { site, release } = heldBackSite('hive-killed');
      const id = { namespace: ['killed'], name: 'orders' };
      const catalog = await open(hms.uri, { connectRetries: 1, retryDelayMs: 100 });
      let first: string | undefined;
      try {
        const r = await syncTable(syncOptions(site, id, catalog));
        first = r.metadataLocation ?? undefined;
        release();
        const sums = checksums(site.replica);
        const dying = interposed(catalog, () => hms.kill());
        const err = await syncTable(syncOptions(site, id, dying)).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof StorageError, String(err));
        assert.equal(exitCodeFor(err), ExitCode.STORAGE);
        assert.match(err.message, /no Hive Metastore answered|connection closed/);
        assert.deepEqual(checksums(site.replica), sums);
      } finally {
        await catalog.close();
      }
      await hms.start();
      const again = await open(hms.uri);
      try {
        const location = (await again.loadTable(id))?.metadataLocation;
        assert.equal(location, first, 'the metastore still names the last commit');
        assert.ok(location && existsSync(location), 'whose file exists');
        const r = await syncTable(syncOptions(site, id, again));
        assert.equal(r.status, 'committed');
        const now = (await again.loadTable(id))?.metadataLocation;
        assert.ok(now && now !== first && existsSync(now));
      } finally {
        await again.close();
      }
    });
  });
});
