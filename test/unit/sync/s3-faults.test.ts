/**
 * Faults on S3 during whole runs, through a small HTTP proxy in front of a real S3 server
 * (versitygw): throttling answers (503 SlowDown, once for every request) are retried and the sync
 * commits; a server that goes away mid-run fails the sync with a StorageError, the DR catalog
 * stays where it was, and the next run, with the server back, finishes. The same for add-files.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addFiles } from '../../../src/addfiles/engine.ts';
import { SqlCatalog } from '../../../src/catalog/sql/sql.ts';
import { StorageError } from '../../../src/errors.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import { registerS3Storage } from '../../../src/storage/s3/index.ts';
import { syncTable } from '../../../src/sync/engine.ts';
import { repoRoot, scratchDir } from '../../helpers/paths.ts';
import { requireServer } from '../../helpers/requires.ts';
import { createBucket, s3Server, s3SkipReason, storageOptions, uploadDir } from '../../helpers/s3.ts';

const SOURCE_WAREHOUSE = 'hdfs://prod-nn:8020/warehouse';
const sampleWarehouse = path.join(repoRoot, 'examples', 'replica', 'warehouse');

/** What the proxy does with the next request. */
type Mode = { kind: 'pass' } | { kind: 'throttle' } | { kind: 'down'; after: number };

/**
 * A pass-through proxy to the S3 server that can answer 503 SlowDown to the first attempt of every
 * distinct request (method and URL), so that each is retried once whatever the concurrency, or
 * drop every connection once `after` requests went through. Host headers pass unchanged, so
 * signatures made for the proxy's address still verify.
 */
async function startProxy(target: string) {
  const url = new URL(target);
  let mode: Mode = { kind: 'pass' };
  let count = 0;
  let throttled = 0;
  const seen = new Set<string>();
  const server = http.createServer((req, res) => {
    count++;
    const id = `${req.method} ${req.url}`;
    if (mode.kind === 'throttle' && !seen.has(id)) {
      seen.add(id);
      throttled++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
      );
      return;
    }
    if (mode.kind === 'down' && count > mode.after) {
      req.socket.destroy();
      return;
    }
    const upstream = http.request(
      { host: url.hostname, port: url.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    set(m: Mode) {
      mode = m;
      count = 0;
      seen.clear();
    },
    get throttled() {
      return throttled;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('whole runs through S3 faults', requireServer('S3', s3SkipReason), () => {
  const server = s3Server!;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let bucket: string;

  before(async () => {
    proxy = await startProxy(server.endpoint);
    bucket = await createBucket(server, 'imsync-faults');
    await uploadDir(server, sampleWarehouse, bucket, 'warehouse');
  });
  after(async () => {
    await proxy?.close();
  });

  const router = () =>
    registerS3Storage(
      new StorageRouter(),
      storageOptions({ ...server, endpoint: proxy.endpoint }, { maxAttempts: 4, requestTimeoutMs: 5000 }),
    );

  it('sync: retries throttling and commits; a server gone mid-run leaves the catalog as it was', async () => {
    const base = scratchDir('s3-faults-sync');
    // Each phase with its own clients, as each run of the CLI has: the SDK's retry quota (at most
    // 500 tokens; each retry takes some, a request that finally fails gives none back) is drained
    // by the requests the dead server failed, and a client that took them retries nothing for a
    // while, by design. Under load enough were in flight to drain it, and a throttled request
    // of the next phase failed unretried.
    let r = router();
    let catalog = await SqlCatalog.open({
      name: 'dr',
      uri: `sqlite:///${base}/c.db`,
      storageFor: r.resolver,
    });
    const table = { namespace: ['sales'], name: 'orders' };
    const opts = (metadataRoot: string) => ({
      table,
      catalog,
      tableLocation: `s3://${bucket}/warehouse/sales/orders`,
      mappings: [{ source: SOURCE_WAREHOUSE, target: `s3://${bucket}/warehouse` }],
      metadataRoot,
      resolve: r.resolver,
    });
    try {
      // Gone after a few requests: the run fails clearly, nothing is registered.
      proxy.set({ kind: 'down', after: 12 });
      await assert.rejects(syncTable(opts(`s3://${bucket}/dr/a/metadata`)), (err: unknown) => {
        assert.ok(err instanceof StorageError, `a StorageError, not ${String(err)}`);
        assert.match((err as Error).message, new RegExp(`s3://${bucket}/`));
        return true;
      });
      assert.equal(await catalog.loadTable(table), undefined, 'the catalog points at nothing incomplete');
      await catalog.close();
      await r.close();
      r = router();
      catalog = await SqlCatalog.open({ name: 'dr', uri: `sqlite:///${base}/c.db`, storageFor: r.resolver });

      // Every request throttled once: retried with backoff, and the sync commits.
      proxy.set({ kind: 'throttle' });
      const before = proxy.throttled;
      const ok = await syncTable(opts(`s3://${bucket}/dr/a/metadata`));
      assert.equal(ok.status, 'committed');
      assert.ok(proxy.throttled > before, 'throttling answers were sent');
      const committed = (await catalog.loadTable(table))?.metadataLocation;
      assert.equal(committed, ok.metadataLocation);
      proxy.set({ kind: 'pass' });
      assert.equal((await syncTable(opts(`s3://${bucket}/dr/a/metadata`))).status, 'up-to-date');
    } finally {
      proxy.set({ kind: 'pass' });
      await catalog.close();
    }
  });

  it('add-files: a server gone mid-run leaves the table at its last commit; the next run adds the files', async () => {
    const base = scratchDir('s3-faults-addfiles');
    const r = router();
    const catalog = await SqlCatalog.open({
      name: 'dr',
      uri: `sqlite:///${base}/c.db`,
      storageFor: r.resolver,
    });
    const table = { namespace: ['landing'], name: 'orders' };
    const opts = {
      table,
      catalog,
      resolve: r.resolver,
      dataPath: `s3://${bucket}/warehouse/sales/orders/data`,
      metadataRoot: `s3://${bucket}/dr/landing/metadata`,
      exclude: ['**/*-deletes.parquet'],
      create: { partitionBy: ['region'] },
    };
    try {
      proxy.set({ kind: 'down', after: 5 });
      await assert.rejects(addFiles(opts), StorageError);
      assert.equal(await catalog.loadTable(table), undefined);
      proxy.set({ kind: 'throttle' });
      const ok = await addFiles(opts);
      assert.equal(ok.status, 'committed');
      assert.ok(ok.filesAdded > 0);
      assert.deepEqual(ok.rejected, []);
    } finally {
      proxy.set({ kind: 'pass' });
      await catalog.close();
    }
  });
});
