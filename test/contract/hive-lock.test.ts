/**
 * The Hive catalog's table lock under contention, on the metastores of scripts/start-hive.sh
 * (3.1 on Derby, 4.0 on PostgreSQL): several writers racing on one table, round after round, as
 * the commit benchmark does; and a `lock` call whose reply never comes (a proxy holds it back),
 * whose queued lock must be found and released so that it blocks nobody.
 *
 * A hang fails through the test's timeout instead of stalling the suite; nothing asserts a time.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { TableIdentifier } from '../../src/catalog/catalog.ts';
import { HiveCatalog, type HiveCatalogOptions, parseMetastoreUris } from '../../src/catalog/hive/hive.ts';
import { type HiveShowLocksElement, M } from '../../src/catalog/hive/metastore-api.ts';
import { MetastoreClient } from '../../src/catalog/hive/metastore-client.ts';
import { CatalogError, CommitConflictError, ExitCode, exitCodeFor } from '../../src/errors.ts';
import { LocalStorage } from '../../src/storage/local/local.ts';
import { contractMetadata } from '../helpers/contract-metadata.ts';
import { hive3Uri, hive4Uri, hiveSkipReason } from '../helpers/hive.ts';
import { scratchDir } from '../helpers/paths.ts';
import { requireServer } from '../helpers/requires.ts';

const storage = new LocalStorage();
/** Generous: only a hang comes near it. */
const HANG = { timeout: 240_000 };

/** A TCP proxy to `target` that swallows every reply on a connection once a `lock` call went through it. */
async function lockReplyHole(target: {
  host: string;
  port: number;
}): Promise<{ uri: string; close(): void }> {
  // A binary-protocol call header: version 1, type CALL, then the method name "lock".
  const lockCall = Buffer.concat([Buffer.from([0x80, 0x01, 0x00, 0x01, 0, 0, 0, 4]), Buffer.from('lock')]);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    let holding = false;
    sockets.add(client).add(upstream);
    client.on('data', (d: Buffer) => {
      if (d.includes(lockCall)) holding = true;
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!holding) client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    uri: `thrift://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

for (const version of [3, 4] as const) {
  const uri = version === 3 ? hive3Uri : hive4Uri;
  describe(
    `Hive catalog ${version}.x: the table lock under contention`,
    requireServer(`Hive Metastore ${version}.x`, hiveSkipReason(version)),
    () => {
      const dir = scratchDir(`hive-lock-${version}`);
      const db = `hl_${process.pid}_${version}`;
      const opened: HiveCatalog[] = [];
      const open = async (more: Partial<HiveCatalogOptions> = {}, at = uri!) => {
        const c = await HiveCatalog.open({
          name: 'dr',
          addresses: parseMetastoreUris(at),
          storageFor: () => storage,
          lockTimeoutMs: 120_000,
          ...more,
        });
        opened.push(c);
        return c;
      };
      const file = () => path.join(dir, `${randomUUID()}.metadata.json`);
      const tagOf = async (location: string) =>
        (
          JSON.parse(new TextDecoder().decode(await storage.read(location))) as {
            properties: Record<string, string>;
          }
        ).properties['contract.tag'];
      const locksOn = async (name: string): Promise<HiveShowLocksElement[]> => {
        const client = new MetastoreClient(parseMetastoreUris(uri!));
        try {
          const r = (await client.call(
            M.showLocks,
            { rqst: { dbname: db, tablename: name } },
            { retry: true },
          )) as {
            locks?: HiveShowLocksElement[];
          };
          return r.locks ?? [];
        } finally {
          await client.close();
        }
      };
      after(async () => {
        for (const c of opened) await c.close();
      });

      it(
        'lets exactly one of three writers win each of ten rounds; the others get a conflict',
        HANG,
        async () => {
          const writers = [await open(), await open(), await open()];
          const id: TableIdentifier = { namespace: [db], name: 'rounds' };
          let current = await writers[0]!.commitTable(id, undefined, file(), contractMetadata(id, 'v0', 1));
          for (let round = 1; round <= 10; round++) {
            const results = await Promise.allSettled(
              writers.map((w, i) =>
                w.commitTable(id, current, file(), contractMetadata(id, `w${i} r${round}`, round + 1)),
              ),
            );
            const won = results.flatMap((r, i) =>
              r.status === 'fulfilled' ? [{ i, location: r.value }] : [],
            );
            assert.equal(
              won.length,
              1,
              `round ${round}: exactly one winner (${results.map((r) => r.status)})`,
            );
            for (const r of results) {
              if (r.status === 'rejected')
                assert.ok(r.reason instanceof CommitConflictError, String(r.reason));
            }
            current = won[0]!.location;
            assert.equal(await tagOf(current), `w${won[0]!.i} r${round}`);
            for (const w of writers) assert.equal((await w.loadTable(id))?.metadataLocation, current);
          }
          assert.deepEqual(await locksOn('rounds'), [], 'no lock is left behind');
        },
      );

      it(
        'completes every commit of two writers that reload and retry after a conflict, as the benchmark does',
        HANG,
        async () => {
          const writers = [await open(), await open()];
          const id: TableIdentifier = { namespace: [db], name: 'retry' };
          await writers[0]!.commitTable(id, undefined, file(), contractMetadata(id, 'v0', 1));
          const each = 15;
          const committed: string[] = [];
          await Promise.all(
            writers.map(async (w, i) => {
              for (let done = 0; done < each; ) {
                const current = (await w.loadTable(id))!.metadataLocation;
                const n = (
                  JSON.parse(new TextDecoder().decode(await storage.read(current))) as {
                    snapshots: unknown[];
                  }
                ).snapshots.length;
                try {
                  committed.push(
                    await w.commitTable(id, current, file(), contractMetadata(id, `w${i} ${done}`, n + 1)),
                  );
                  done++;
                } catch (err) {
                  assert.ok(err instanceof CommitConflictError, String(err));
                }
              }
            }),
          );
          assert.equal(committed.length, 2 * each);
          // Every commit built on the one before: the table's metadata has one snapshot per commit.
          const last = (await writers[1]!.loadTable(id))!.metadataLocation;
          assert.equal(last, committed.at(-1));
          const doc = JSON.parse(new TextDecoder().decode(await storage.read(last))) as {
            snapshots: unknown[];
          };
          assert.equal(doc.snapshots.length, 2 * each + 1);
          assert.deepEqual(await locksOn('retry'), [], 'no lock is left behind');
        },
      );

      it(
        'releases the lock a lock call without a reply queued; the error names the table (exit 6), and the next commit is not blocked',
        HANG,
        async () => {
          const id: TableIdentifier = { namespace: [db], name: 'lost_reply' };
          const direct = await open();
          const v1 = await direct.commitTable(id, undefined, file(), contractMetadata(id, 'v1', 1));
          const { host, port } = parseMetastoreUris(uri!)[0]!;
          const hole = await lockReplyHole({ host, port });
          try {
            const viaHole = await open({ callTimeoutMs: 3000 }, hole.uri);
            const staged = file();
            await assert.rejects(
              viaHole.commitTable(id, v1, staged, contractMetadata(id, 'lost', 2)),
              (e: unknown) => {
                assert.ok(e instanceof CatalogError, String(e));
                assert.equal(exitCodeFor(e), ExitCode.STORAGE);
                assert.match(e.message, new RegExp(`${db}\\.lost_reply`));
                assert.match(e.message, /no reply/);
                assert.match(e.message, /was released/);
                return true;
              },
            );
            assert.deepEqual(await locksOn('lost_reply'), [], 'the queued lock was released');
            assert.equal((await direct.loadTable(id))?.metadataLocation, v1, 'nothing was committed');
          } finally {
            hole.close();
          }
          // A short lock timeout: an orphan lock would make this a conflict instead of a commit.
          const after = await open({ lockTimeoutMs: 5000 });
          const v2 = await after.commitTable(id, v1, file(), contractMetadata(id, 'v2', 2));
          assert.equal((await direct.loadTable(id))?.metadataLocation, v2);
        },
      );
    },
  );
}
