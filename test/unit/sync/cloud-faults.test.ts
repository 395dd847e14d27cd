/**
 * Faults on Azure (Azurite) and GCS (fake-gcs-server) during whole runs, through a small HTTP
 * proxy in front of a private server of each: throttling answers (503, 500 and 429) are
 * retried and the sync commits; a server killed mid-run, one that stops answering and one that throttles without end fail the
 * run with a StorageError naming the path, with no secret in it, and the DR catalog stays where it
 * was; the next run, with a server back, commits. Azure Storage throttles with 503 (ServerBusy),
 * which its SDK retries; a 429 (from a gateway in front of it) is retried by the backend itself.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BlobServiceClient } from '@azure/storage-blob';
import { Storage as GoogleStorage } from '@google-cloud/storage';
import { addFiles } from '../../../src/addfiles/engine.ts';
import { SqlCatalog } from '../../../src/catalog/sql/sql.ts';
import { StorageError } from '../../../src/errors.ts';
import { createStorageRouter } from '../../../src/storage/registry.ts';
import { syncTable } from '../../../src/sync/engine.ts';
import {
  AZURITE_ACCOUNT,
  abfss,
  azuriteSkipReason,
  type PrivateAzurite,
  startPrivateAzurite,
  uploadDirToAzure,
} from '../../helpers/azure.ts';
import { type PrivateGcs, startPrivateGcs, uploadDirToGcs } from '../../helpers/gcs.ts';
import { repoRoot, scratchDir } from '../../helpers/paths.ts';
import { requireServer } from '../../helpers/requires.ts';

const SOURCE_WAREHOUSE = 'hdfs://prod-nn:8020/warehouse';
const sampleWarehouse = path.join(repoRoot, 'examples', 'replica', 'warehouse');

/** What the proxy does with requests. */
type Mode =
  | { kind: 'pass' }
  | { kind: 'throttle'; status: number; every: number; always?: boolean }
  | { kind: 'kill'; after: number }
  | { kind: 'stall'; after: number };

/**
 * A pass-through proxy that can answer `status` to the first attempt of every `every`-th distinct
 * request (so each such one is retried), kill the server behind it after `after` requests (as a
 * crash would), or stop answering after `after` requests (the connection stays open, silent).
 */
async function startProxy(target: () => string, kill: () => Promise<void>) {
  let mode: Mode = { kind: 'pass' };
  let count = 0;
  let throttled = 0;
  let distinct = 0;
  const seen = new Set<string>();
  const stalled: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    count++;
    const id = `${req.method} ${req.url}`;
    if (mode.kind === 'throttle' && mode.always) {
      throttled++;
      req.resume();
      res.writeHead(mode.status, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>slow down</Message></Error>',
      );
      return;
    }
    if (mode.kind === 'throttle' && !seen.has(id)) {
      seen.add(id);
      if (distinct++ % mode.every === 0) {
        throttled++;
        req.resume();
        res.writeHead(mode.status, { 'content-type': 'application/xml', 'retry-after': '0' });
        res.end(
          '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>slow down</Message></Error>',
        );
        return;
      }
    }
    if (mode.kind === 'kill' && count === mode.after) void kill();
    if (mode.kind === 'stall' && count > mode.after) {
      req.resume();
      stalled.push(res);
      return;
    }
    const url = new URL(target());
    const upstream = http.request(
      { host: url.hostname, port: url.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        // The client may have given up (a stall it timed out) before the answer came.
        if (res.destroyed) {
          up.resume();
          return;
        }
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
      distinct = 0;
      seen.clear();
      for (const r of stalled.splice(0)) r.destroy();
    },
    get throttled() {
      return throttled;
    },
    close: () => {
      for (const r of stalled.splice(0)) r.destroy();
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** One backend: a private server, how to fill it, and the properties reaching it through a proxy. */
interface Faulty {
  readonly label: string;
  readonly skip: string | false;
  /** Statuses its SDK retries. */
  readonly retried: readonly number[];
  start(): Promise<{ endpoint: string; stop(): Promise<void> }>;
  /** A container/bucket with the sample replica at `warehouse/`, on the server at `endpoint`. */
  fill(endpoint: string): Promise<string>;
  location(container: string, rest: string): string;
  properties(proxy: string): Record<string, string>;
  /** Strings that must never appear in an error. */
  readonly secrets: readonly string[];
}

const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const azureCs = (endpoint: string) =>
  `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${DEV_KEY};BlobEndpoint=${endpoint}/${AZURITE_ACCOUNT};`;
const GCS_TOKEN = 'ya29.not-a-real-token-but-secret';

const backends: Faulty[] = [
  {
    label: 'Azure',
    skip: azuriteSkipReason,
    retried: [503, 500, 429],
    start: async () => {
      const s: PrivateAzurite = await startPrivateAzurite();
      return { endpoint: `http://127.0.0.1:${s.port}`, stop: s.stop };
    },
    fill: async (endpoint) => {
      const server = { blobEndpoint: `${endpoint}/${AZURITE_ACCOUNT}`, connectionString: azureCs(endpoint) };
      const name = `faults-${Date.now().toString(36)}`;
      await BlobServiceClient.fromConnectionString(server.connectionString).getContainerClient(name).create();
      await uploadDirToAzure(server, sampleWarehouse, name, 'warehouse');
      return name;
    },
    location: (c, rest) => abfss(c, rest),
    properties: (proxy) => ({
      'adls.connection-string': azureCs(proxy),
      'adls.max-attempts': '4',
      'adls.request-timeout': '5s',
    }),
    secrets: [DEV_KEY, 'AccountKey='],
  },
  {
    label: 'GCS',
    skip: process.env.IMSYNC_GCS_BIN
      ? false
      : 'no fake-gcs-server: IMSYNC_GCS_BIN is unset (source scripts/start-gcs.sh)',
    retried: [503, 500, 429],
    start: async () => {
      const s: PrivateGcs = await startPrivateGcs();
      return { endpoint: s.endpoint, stop: s.stop };
    },
    fill: async (endpoint) => {
      const name = `faults-${Date.now().toString(36)}`;
      await new GoogleStorage({ apiEndpoint: endpoint, projectId: 'p' }).createBucket(name);
      await uploadDirToGcs(endpoint, sampleWarehouse, name, 'warehouse');
      return name;
    },
    location: (b, rest) => `gs://${b}/${rest}`,
    properties: (proxy) => ({
      'gcs.service.host': proxy,
      'gcs.project-id': 'p',
      'gcs.max-attempts': '4',
      'gcs.request-timeout': '5s',
    }),
    secrets: [],
  },
];

for (const b of backends) {
  describe(`whole runs through ${b.label} faults`, requireServer(b.label, b.skip), () => {
    let server: { endpoint: string; stop(): Promise<void> };
    let proxy: Awaited<ReturnType<typeof startProxy>>;
    let container: string;

    before(async () => {
      server = await b.start();
      proxy = await startProxy(
        () => server.endpoint,
        async () => server.stop(),
      );
      container = await b.fill(server.endpoint);
    });
    after(async () => {
      await proxy?.close();
      await server?.stop();
    });

    const fails = (label: string) => (err: unknown) => {
      assert.ok(err instanceof StorageError, `${label}: a StorageError, not ${String(err)}`);
      const m = (err as Error).message;
      assert.match(m, new RegExp(b.location(container, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), m);
      for (const s of [...b.secrets, GCS_TOKEN]) assert.ok(!m.includes(s), `${label}: a secret in: ${m}`);
      return true;
    };

    it('sync: throttling is retried and commits; stalled and killed servers fail clearly, the catalog untouched', async () => {
      const base = scratchDir(`${b.label.toLowerCase()}-faults`);
      const router = createStorageRouter({ properties: b.properties(proxy.endpoint), where: 'catalog.dr' });
      const catalog = await SqlCatalog.open({
        name: 'dr',
        uri: `sqlite:///${base}/c.db`,
        storageFor: router.resolver,
      });
      const table = { namespace: ['sales'], name: 'orders' };
      const opts = {
        table,
        catalog,
        tableLocation: b.location(container, 'warehouse/sales/orders'),
        mappings: [{ source: SOURCE_WAREHOUSE, target: b.location(container, 'warehouse') }],
        metadataRoot: b.location(container, 'dr/sales/orders/metadata'),
        resolve: router.resolver,
      };
      try {
        // Silent after a few requests: the inactivity limit ends the run.
        proxy.set({ kind: 'stall', after: 6 });
        await assert.rejects(syncTable(opts), fails('stalled'));
        assert.equal(await catalog.loadTable(table), undefined, 'nothing registered');

        // Throttled without end: the retries run out, and the run fails clearly.
        proxy.set({ kind: 'throttle', status: 503, every: 1, always: true });
        await assert.rejects(syncTable(opts), fails('throttled without end'));
        assert.equal(await catalog.loadTable(table), undefined, 'nothing registered');

        for (const status of b.retried) {
          proxy.set({ kind: 'throttle', status, every: 4 });
          const before = proxy.throttled;
          const t = { namespace: ['sales'], name: `orders_${status}` };
          const o = {
            ...opts,
            table: t,
            metadataRoot: b.location(container, `dr-${status}/sales/orders/metadata`),
          };
          const ok = await syncTable(o);
          assert.equal(ok.status, 'committed', `throttled with ${status}`);
          assert.ok(proxy.throttled > before, `${status} answers were sent`);
          assert.equal((await catalog.loadTable(t))?.metadataLocation, ok.metadataLocation);
          proxy.set({ kind: 'pass' });
          assert.equal((await syncTable(o)).status, 'up-to-date');
        }
      } finally {
        proxy.set({ kind: 'pass' });
        await catalog.close();
        await router.close();
      }
    });

    it('add-files: the server killed mid-run leaves the catalog untouched; the next run, with it back, commits', async () => {
      const base = scratchDir(`${b.label.toLowerCase()}-faults-addfiles`);
      const router = createStorageRouter({ properties: b.properties(proxy.endpoint), where: 'catalog.dr' });
      const catalog = await SqlCatalog.open({
        name: 'dr',
        uri: `sqlite:///${base}/c.db`,
        storageFor: router.resolver,
      });
      const table = { namespace: ['landing'], name: 'orders' };
      const opts = {
        table,
        catalog,
        resolve: router.resolver,
        dataPath: b.location(container, 'warehouse/sales/orders/data'),
        metadataRoot: b.location(container, 'dr/landing/metadata'),
        exclude: ['**/*-deletes.parquet'],
        create: { partitionBy: ['region'] },
      };
      try {
        proxy.set({ kind: 'kill', after: 8 });
        await assert.rejects(addFiles(opts), fails('killed'));
        assert.equal(await catalog.loadTable(table), undefined, 'nothing registered');
        // Back: a fresh server with the same contents, behind the same proxy.
        server = await b.start();
        container = await b.fill(server.endpoint);
        proxy.set({ kind: 'pass' });
        const fresh = {
          ...opts,
          dataPath: b.location(container, 'warehouse/sales/orders/data'),
          metadataRoot: b.location(container, 'dr/landing/metadata'),
        };
        const ok = await addFiles(fresh);
        assert.equal(ok.status, 'committed');
        assert.ok(ok.filesAdded > 0);
        assert.deepEqual(ok.rejected, []);
      } finally {
        proxy.set({ kind: 'pass' });
        await catalog.close();
        await router.close();
      }
    });
  });
}
