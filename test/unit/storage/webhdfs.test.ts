/**
 * WebHdfsStorage against a real HDFS (Hadoop's MiniDFSCluster, started by scripts/start-hdfs.sh):
 * the NameNode's own RemoteException answers, the redirect to a DataNode, LISTSTATUS_BATCH paging
 * (the test cluster pages at 100 entries), permissions. Failover runs on a private HA pair. Skipped,
 * saying why, when no cluster was started. Protocol corners no healthy cluster shows (a 401, a 503,
 * a server without LISTSTATUS_BATCH, one that never answers) use a small local HTTP server; the
 * configuration parsing needs no server.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  AlreadyExistsError,
  ConfigError,
  NotFoundError,
  PermissionDeniedError,
  StorageError,
} from '../../../src/errors.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import { collectBytes, type FileInfo } from '../../../src/storage/storage.ts';
import {
  hadoopNameservices,
  normalizeNamenode,
  parseHdfsPath,
  registerHdfsStorage,
  WebHdfsStorage,
  webHdfsOptionsFromProperties,
} from '../../../src/storage/webhdfs/index.ts';
import {
  hdfsOptions,
  hdfsServer,
  hdfsSkipReason,
  type PrivateHdfs,
  privateHdfsSkipReason,
  putRaw,
  startPrivateHdfs,
  uniqueDir,
} from '../../helpers/hdfs.ts';
import { requireServer } from '../../helpers/requires.ts';
import { freePort } from '../../helpers/s3.ts';

const MiB = 1024 * 1024;
const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** Deterministic bytes that differ at every offset. */
function pattern(size: number, seed = 7): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function* chunks(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function listAll(s: WebHdfsStorage, dir: string, recursive = false): Promise<FileInfo[]> {
  const out: FileInfo[] = [];
  for await (const f of s.list(dir, { recursive })) out.push(f);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Runs `fn` over `items`, `n` at a time. */
async function pool<T>(items: readonly T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let x = queue.shift(); x !== undefined; x = queue.shift()) await fn(x);
    }),
  );
}

describe('WebHdfsStorage on a real HDFS (MiniDFSCluster)', requireServer('HDFS', hdfsSkipReason), () => {
  const server = hdfsServer!;
  let hdfs: WebHdfsStorage;
  let root: string;

  before(() => {
    hdfs = new WebHdfsStorage(hdfsOptions(server));
    root = `hdfs://testns${uniqueDir()}`;
  });

  it('streams a multi-block file in both directions', async () => {
    const p = `${root}/stream/big.bin`;
    const bytes = pattern(5 * MiB + 123, 11);
    await hdfs.write(p, chunks(bytes, 256 * 1024));
    assert.equal((await hdfs.stat(p))?.size, bytes.length);
    const back = await collectBytes(hdfs.readStream(p));
    assert.equal(back.length, bytes.length);
    assert.ok(Buffer.from(back).equals(Buffer.from(bytes)));
  });

  it('pages through directories larger than one LISTSTATUS_BATCH', async () => {
    const d = `${root}/many`;
    const hdfsDir = parseHdfsPath(d).path;
    const names = Array.from({ length: 257 }, (_, i) => `f${String(i).padStart(4, '0')}.parquet`);
    // Written by plain WebHDFS calls, in parallel: the listing is under test, not the writes.
    await pool(names, 16, (n) => putRaw(server, `${hdfsDir}/${n}`, text(n)));
    await putRaw(server, `${hdfsDir}/nested/z.parquet`, text('z'));
    const flat = await listAll(hdfs, d);
    assert.equal(flat.length, 257);
    assert.deepEqual(
      flat.map((f) => f.path),
      names.map((n) => `${d}/${n}`),
    );
    assert.equal(flat[100]!.size, names[100]!.length);
    assert.equal((await listAll(hdfs, d, true)).length, 258);
  });

  // The storage contract (test/contract/storage.contract.ts) runs over WebHDFS too: stat, reads
  // and ranges, streams, if-not-exists writes (concurrent ones), overwrites, listing, rename,
  // delete, missing files, abort. What follows is HDFS's own.
  it('refuses a rename onto an existing directory (a plain RENAME would move the source into it)', async () => {
    const a = `${root}/ren/a`;
    await hdfs.write(a, text('A'));
    await hdfs.write(`${root}/ren/new/dir/b`, text('B'));
    await assert.rejects(hdfs.rename(a, `${root}/ren/new`), AlreadyExistsError);
    assert.equal(decode(await hdfs.read(a)), 'A', 'the source stays');
  });

  it('maps AccessControlException to PermissionDeniedError naming the path, without a stack trace', async () => {
    const owned = `${root}/private`;
    await hdfs.mkdirs(owned);
    const alice = new WebHdfsStorage(hdfsOptions(server, { user: 'alice' }));
    const p = `${owned}/by-alice.txt`;
    await assert.rejects(alice.write(p, text('x')), (e: unknown) => {
      assert.ok(e instanceof PermissionDeniedError, String(e));
      assert.equal(e.path, p);
      assert.match(e.message, /AccessControlException: Permission denied: user=alice, access=WRITE/);
      assert.doesNotMatch(e.message, /\n|\bat org\.apache/);
      return true;
    });
    // Reading is allowed (755 directories, 644 files).
    await hdfs.write(`${owned}/r.txt`, text('r'));
    assert.equal(decode(await alice.read(`${owned}/r.txt`)), 'r');
  });

  it('serves webhdfs:// paths and hdfs:// paths routed by a StorageRouter', async () => {
    const nn = new URL(server.namenode);
    const dir = uniqueDir();
    const router = registerHdfsStorage(new StorageRouter(), { user: server.user }, [
      { prefix: 'hdfs://prod', options: { namenodes: [server.namenode] } },
    ]);
    const viaNs = `hdfs://prod${dir}/x.txt`;
    await router.resolve(viaNs).write(viaNs, text('routed'));
    const viaWeb = `webhdfs://${nn.host}${dir}/x.txt`;
    assert.equal(decode(await router.resolve(viaWeb).read(viaWeb)), 'routed');
    assert.equal((await router.resolve(viaWeb).stat(viaWeb))?.path, viaWeb);
  });
});

describe('WebHdfsStorage failover on a real HA pair (MiniDFSCluster, two NameNodes)', {
  ...requireServer('private HDFS minicluster', privateHdfsSkipReason),
}, () => {
  let cluster: PrivateHdfs;
  before(async () => {
    cluster = await startPrivateHdfs({ ha: true });
  });
  after(async () => {
    await cluster?.stop();
  });

  it('moves to the active NameNode on StandbyException, follows a failover, and fails clearly with none active', async (t) => {
    t.diagnostic(`HA MiniDFSCluster (2 NameNodes, 1 DataNode) up in ${cluster.startupMs} ms inside its JVM`);
    const [nn0, nn1] = cluster.namenodes as [string, string];
    // The standby first: the first request is answered with a real StandbyException.
    const s = new WebHdfsStorage({ namenodes: [nn1, nn0], user: cluster.user, retryDelayMs: 50 });
    const p = 'hdfs://hans/ha/a.txt';
    await s.write(p, text('before'));
    assert.equal(s.activeNamenode, nn0);
    assert.equal(decode(await s.read(p)), 'before');
    await cluster.command('failover 1');
    // The remembered NameNode is standby now: the client moves over by itself.
    assert.equal(decode(await s.read(p)), 'before');
    assert.equal(s.activeNamenode, nn1);
    await s.write(p, text('after'));
    assert.equal(decode(await s.read(p)), 'after');
    // A request straight to the standby names the exception.
    const standbyOnly = new WebHdfsStorage({
      namenodes: [nn0],
      user: cluster.user,
      maxAttempts: 2,
      retryDelayMs: 10,
    });
    await assert.rejects(standbyOnly.stat(p), (e: unknown) => {
      assert.ok(e instanceof StorageError, String(e));
      assert.match(e.message, /no active NameNode.*StandbyException/);
      assert.ok(e.message.includes(p));
      return true;
    });
    // The active one stops: the standby answers StandbyException, the other refuses connections.
    await cluster.command('stop-namenode 1');
    const t0 = Date.now();
    const gone = new WebHdfsStorage({
      namenodes: [nn0, nn1],
      user: cluster.user,
      maxAttempts: 3,
      retryDelayMs: 50,
    });
    await assert.rejects(gone.read(p), (e: unknown) => {
      assert.ok(e instanceof StorageError, String(e));
      assert.ok(e.message.includes(p), e.message);
      assert.match(e.message, /after 3 attempts/);
      return true;
    });
    assert.ok(Date.now() - t0 < 10_000, 'no hang');
  });
});

// --- A scripted NameNode, for the corners a healthy cluster never shows ---------------------------

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

async function fakeNamenode(handler: Handler): Promise<{ url: string; server: Server; seen: URL[] }> {
  const seen: URL[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push(url);
    handler(req, res, url);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, server, seen };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const remote = (exception: string, message: string) => ({
  RemoteException: { exception, javaClassName: `org.apache.hadoop.${exception}`, message },
});

describe('WebHdfsStorage against a scripted NameNode', () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.closeAllConnections();
    for (const s of servers) s.close();
  });
  const start = async (h: Handler) => {
    const f = await fakeNamenode(h);
    servers.push(f.server);
    return f;
  };

  it('sends a delegation token instead of user.name', async () => {
    const f = await start((_q, res) =>
      json(res, 200, { FileStatus: { type: 'FILE', length: 3, modificationTime: 1 } }),
    );
    const s = new WebHdfsStorage({ namenodes: [f.url], user: 'etl', delegationToken: 'TOKEN123' });
    assert.equal((await s.stat('hdfs://ns/a'))?.size, 3);
    assert.equal(f.seen[0]!.searchParams.get('delegation'), 'TOKEN123');
    assert.equal(f.seen[0]!.searchParams.get('user.name'), null);
    assert.equal(f.seen[0]!.pathname, '/webhdfs/v1/a');
    const u = new WebHdfsStorage({ namenodes: [f.url], user: 'etl' });
    await u.stat('hdfs://ns/dir/k=1 2/x#y');
    assert.equal(f.seen[1]!.searchParams.get('user.name'), 'etl');
    assert.equal(f.seen[1]!.pathname, '/webhdfs/v1/dir/k%3D1%202/x%23y');
  });

  it('fails over on a StandbyException and remembers the active NameNode', async () => {
    const standby = await start((_q, res) =>
      json(res, 403, remote('StandbyException', 'Operation category READ is not supported in state standby')),
    );
    const active = await start((_q, res) => json(res, 200, { FileStatus: { type: 'FILE', length: 1 } }));
    const s = new WebHdfsStorage({ namenodes: [standby.url, active.url] });
    await s.stat('hdfs://ns/a');
    await s.stat('hdfs://ns/b');
    assert.equal(standby.seen.length, 1, 'the standby is asked once');
    assert.equal(active.seen.length, 2);
    assert.equal(s.activeNamenode, active.url);
  });

  it('retries 503s and SafeModeException with backoff, then succeeds', async () => {
    let n = 0;
    const f = await start((_q, res) => {
      n++;
      if (n === 1) return json(res, 503, remote('RetriableException', 'NameNode still not started'));
      if (n === 2) {
        res.writeHead(502);
        return res.end('<html>Bad gateway</html>');
      }
      json(res, 200, { FileStatus: { type: 'FILE', length: 9 } });
    });
    const s = new WebHdfsStorage({ namenodes: [f.url], retryDelayMs: 5 });
    assert.equal((await s.stat('hdfs://ns/a'))?.size, 9);
    assert.equal(n, 3);
  });

  it('retries a failed DataNode upload through the NameNode, replacing the partial temporary file', async () => {
    let uploads = 0;
    const ops: string[] = [];
    const f = await start((req, res, url) => {
      if (url.pathname.startsWith('/dn/')) {
        req.resume();
        req.on('end', () => {
          uploads++;
          if (uploads === 1) return json(res, 500, remote('IOException', 'DataNode went away'));
          res.writeHead(201);
          res.end();
        });
        return;
      }
      const op = url.searchParams.get('op') ?? '';
      ops.push(`${op}${op === 'CREATE' ? ` overwrite=${url.searchParams.get('overwrite')}` : ''}`);
      if (op === 'CREATE') {
        res.writeHead(307, { location: `http://${req.headers.host}/dn${url.pathname}` });
        return res.end();
      }
      if (op === 'RENAME') {
        assert.equal(url.searchParams.get('renameoptions'), 'OVERWRITE');
        assert.equal(url.searchParams.get('destination'), '/t/x.json');
        res.writeHead(200);
        return res.end();
      }
      json(res, 200, { boolean: true });
    });
    const s = new WebHdfsStorage({ namenodes: [f.url], retryDelayMs: 5 });
    await s.write('hdfs://ns/t/x.json', text('{}'));
    assert.equal(uploads, 2);
    assert.deepEqual(ops, ['MKDIRS', 'CREATE overwrite=true', 'CREATE overwrite=true', 'RENAME']);
  });

  it('takes a retried RENAME whose first answer was lost as done when the temporary file moved', async () => {
    let renames = 0;
    let moved = false;
    const f = await start((req, res, url) => {
      const op = url.searchParams.get('op');
      if (url.pathname.startsWith('/dn/')) {
        req.resume();
        req.on('end', () => {
          res.writeHead(201);
          res.end();
        });
        return;
      }
      if (op === 'CREATE') {
        res.writeHead(307, { location: `http://${req.headers.host}/dn${url.pathname}` });
        return res.end();
      }
      if (op === 'RENAME') {
        renames++;
        if (renames === 1) {
          moved = true; // done on the NameNode, but the answer never arrives
          return req.socket.destroy();
        }
        return json(res, 404, remote('FileNotFoundException', `rename source ${url.pathname} is not found.`));
      }
      if (op === 'GETFILESTATUS') {
        const isTarget = url.pathname === '/webhdfs/v1/t/v1.metadata.json';
        if (isTarget && moved) return json(res, 200, { FileStatus: { type: 'FILE', length: 2 } });
        return json(res, 404, remote('FileNotFoundException', `File does not exist: ${url.pathname}`));
      }
      json(res, 200, { boolean: true });
    });
    const s = new WebHdfsStorage({ namenodes: [f.url], retryDelayMs: 5 });
    await s.write('hdfs://ns/t/v1.metadata.json', text('{}'), { ifNotExists: true });
    assert.equal(renames, 2);
  });

  it('notices a server that ignores renameoptions (a plain RENAME answering false) and still refuses an existing target', async () => {
    const files = new Set<string>(['/webhdfs/v1/t/taken']);
    const warnings: string[] = [];
    const f = await start((_q, res, url) => {
      const op = url.searchParams.get('op');
      if (op === 'RENAME') {
        // An old NameNode: no rename2, a plain rename that will not replace an existing file.
        const to = `/webhdfs/v1${url.searchParams.get('destination')}`;
        if (files.has(to) || !files.has(url.pathname)) return json(res, 200, { boolean: false });
        files.delete(url.pathname);
        files.add(to);
        return json(res, 200, { boolean: true });
      }
      if (op === 'GETFILESTATUS') {
        if (files.has(url.pathname)) return json(res, 200, { FileStatus: { type: 'FILE', length: 1 } });
        return json(res, 404, remote('FileNotFoundException', `File does not exist: ${url.pathname}`));
      }
      json(res, 200, { boolean: true });
    });
    files.add('/webhdfs/v1/t/a');
    const s = new WebHdfsStorage({ namenodes: [f.url], onWarning: (m) => warnings.push(m) });
    await assert.rejects(s.rename('hdfs://ns/t/a', 'hdfs://ns/t/taken'), AlreadyExistsError);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /does not take renameoptions/);
    await s.rename('hdfs://ns/t/a', 'hdfs://ns/t/b');
    assert.ok(files.has('/webhdfs/v1/t/b') && !files.has('/webhdfs/v1/t/a'));
    await assert.rejects(s.rename('hdfs://ns/t/b', 'hdfs://ns/t/taken'), AlreadyExistsError);
    await assert.rejects(s.rename('hdfs://ns/t/none', 'hdfs://ns/t/c'), NotFoundError);
    assert.equal(warnings.length, 1, 'warned once');
  });

  it("moves to the next NameNode when a standby's CREATE redirect fails at the DataNode", async () => {
    // A standby NameNode redirects CREATE without checking its state; the DataNode's call back to
    // it fails with a StandbyException (as the real HA test cluster shows).
    const handler =
      (active: boolean, log: string[]): Handler =>
      (req, res, url) => {
        if (url.pathname.startsWith('/dn/')) {
          req.resume();
          req.on('end', () => {
            if (!active)
              return json(
                res,
                403,
                remote('StandbyException', 'Operation category WRITE is not supported in state standby'),
              );
            res.writeHead(201);
            res.end();
          });
          return;
        }
        const op = url.searchParams.get('op') ?? '';
        log.push(op);
        if (op === 'CREATE') {
          res.writeHead(307, { location: `http://${req.headers.host}/dn${url.pathname}` });
          return res.end();
        }
        if (op === 'RENAME') {
          res.writeHead(200);
          return res.end();
        }
        json(res, 200, { boolean: true });
      };
    const standbyLog: string[] = [];
    const activeLog: string[] = [];
    const standby = await start(handler(false, standbyLog));
    const active = await start(handler(true, activeLog));
    const s = new WebHdfsStorage({ namenodes: [standby.url, active.url], retryDelayMs: 5 });
    await s.write('hdfs://ns/t/x', text('x'));
    assert.deepEqual(standbyLog, ['MKDIRS', 'CREATE']);
    assert.deepEqual(activeLog, ['CREATE', 'RENAME']);
    assert.equal(s.activeNamenode, active.url);
  });

  it('names an unreachable DataNode without the token its URL carries', async () => {
    const dnPort = await freePort();
    const f = await start((_q, res, url) => {
      if (url.searchParams.get('op') === 'OPEN') {
        res.writeHead(307, {
          location: `http://127.0.0.1:${dnPort}/webhdfs/v1/a?op=OPEN&delegation=SECRET42`,
        });
        return res.end();
      }
      json(res, 200, { boolean: true });
    });
    const s = new WebHdfsStorage({
      namenodes: [f.url],
      delegationToken: 'SECRET42',
      maxAttempts: 2,
      retryDelayMs: 5,
    });
    await assert.rejects(s.read('hdfs://ns/a'), (e: unknown) => {
      assert.ok(e instanceof StorageError);
      assert.match(
        e.message,
        new RegExp(`cannot reach http://127\\.0\\.0\\.1:${dnPort}/webhdfs/v1/a after 2 attempts`),
      );
      assert.doesNotMatch(e.message, /SECRET42/);
      return true;
    });
  });

  it('falls back to LISTSTATUS where LISTSTATUS_BATCH is unknown', async () => {
    const f = await start((_q, res, url) => {
      if (url.searchParams.get('op') === 'LISTSTATUS_BATCH') {
        return json(
          res,
          400,
          remote(
            'IllegalArgumentException',
            'Invalid value for webhdfs parameter "op": No enum constant org.apache.hadoop.hdfs.web.resources.GetOpParam.Op.LISTSTATUS_BATCH',
          ),
        );
      }
      json(res, 200, {
        FileStatuses: {
          FileStatus: [
            { pathSuffix: 'a', type: 'FILE', length: 1, modificationTime: 5 },
            { pathSuffix: 'sub', type: 'DIRECTORY', length: 0 },
          ],
        },
      });
    });
    const s = new WebHdfsStorage({ namenodes: [f.url] });
    const got = await listAll(s, 'hdfs://ns/d');
    assert.deepEqual(got, [{ path: 'hdfs://ns/d/a', size: 1, mtimeMs: 5 }]);
    await listAll(s, 'hdfs://ns/d');
    assert.equal(
      f.seen.filter((u) => u.searchParams.get('op') === 'LISTSTATUS_BATCH').length,
      1,
      'asked once',
    );
  });

  it('says that Kerberos (SPNEGO) is not supported on a 401', async () => {
    const f = await start((_q, res) => {
      res.writeHead(401, { 'www-authenticate': 'Negotiate' });
      res.end();
    });
    const s = new WebHdfsStorage({ namenodes: [f.url] });
    await assert.rejects(s.stat('hdfs://ns/a'), (e: unknown) => {
      assert.ok(e instanceof PermissionDeniedError);
      assert.match(e.message, /Kerberos \(SPNEGO\).*delegation token/);
      return true;
    });
  });

  it('gives up on a NameNode that is gone, quickly and clearly', async () => {
    const port = await freePort();
    const s = new WebHdfsStorage({
      namenodes: [`http://127.0.0.1:${port}`],
      maxAttempts: 3,
      retryDelayMs: 10,
    });
    const t0 = Date.now();
    await assert.rejects(s.read('hdfs://ns/t/x'), (e: unknown) => {
      assert.ok(e instanceof StorageError);
      assert.match(
        e.message,
        /hdfs:\/\/ns\/t\/x: WebHDFS OPEN failed: cannot reach .* after 3 attempts: ECONNREFUSED/,
      );
      return true;
    });
    assert.ok(Date.now() - t0 < 5000);
  });

  it('times out on a NameNode that accepts but never answers', async () => {
    const f = await start(() => {}); // never answers
    const s = new WebHdfsStorage({
      namenodes: [f.url],
      maxAttempts: 2,
      requestTimeoutMs: 200,
      retryDelayMs: 10,
    });
    const t0 = Date.now();
    await assert.rejects(s.stat('hdfs://ns/slow'), (e: unknown) => {
      assert.ok(e instanceof StorageError);
      assert.match(e.message, /no answer within 200 ms/);
      return true;
    });
    assert.ok(Date.now() - t0 < 3000);
  });
});

describe('HDFS paths and settings', () => {
  it('parses hdfs://, webhdfs:// and swebhdfs:// locations', () => {
    assert.deepEqual(parseHdfsPath('hdfs://ns1/warehouse/db/t'), {
      scheme: 'hdfs',
      authority: 'ns1',
      path: '/warehouse/db/t',
    });
    assert.deepEqual(parseHdfsPath('WEBHDFS://nn:9870'), {
      scheme: 'webhdfs',
      authority: 'nn:9870',
      path: '/',
    });
    assert.deepEqual(parseHdfsPath('hdfs:///a//b'), { scheme: 'hdfs', authority: '', path: '/a/b' });
    assert.throws(() => parseHdfsPath('s3://b/k'), /not an HDFS location/);
  });

  it('normalises NameNode addresses', () => {
    assert.equal(normalizeNamenode('nn1.example.com:9870'), 'http://nn1.example.com:9870');
    assert.equal(normalizeNamenode('https://nn1:9871/'), 'https://nn1:9871');
    assert.throws(() => normalizeNamenode('ftp://nn1'), ConfigError);
    assert.throws(() => normalizeNamenode('http://nn1:9870/webhdfs'), /without a path/);
  });

  it('reads hdfs.* properties, strictly for the storage section', () => {
    assert.deepEqual(
      webHdfsOptionsFromProperties({
        'hdfs.namenodes': 'nn1:9870, https://nn2:9871',
        'hdfs.user': 'etl',
        'hdfs.delegation-token': 'T',
        'hdfs.max-attempts': '6',
        'hdfs.request-timeout': '2.5',
        's3.endpoint': 'ignored',
      }),
      {
        namenodes: ['http://nn1:9870', 'https://nn2:9871'],
        user: 'etl',
        delegationToken: 'T',
        maxAttempts: 6,
        requestTimeoutMs: 2500,
      },
    );
    assert.throws(
      () => webHdfsOptionsFromProperties({ 'hdfs.nammenodes': 'x' }, 'storage.hdfs://ns', true),
      /storage\.hdfs:\/\/ns\.hdfs\.nammenodes: unknown setting/,
    );
    assert.throws(() => webHdfsOptionsFromProperties({ 'hdfs.max-attempts': '0' }), /positive whole number/);
  });

  it('reads nameservices the Hadoop way (dfs.namenode.http-address.<ns>.<nn>, dfs.ha.namenodes.<ns>)', () => {
    const m = hadoopNameservices({
      'dfs.ha.namenodes.prod': 'nn2,nn1',
      'dfs.namenode.http-address.prod.nn1': 'a.example.com:9870',
      'dfs.namenode.http-address.prod.nn2': 'b.example.com:9870',
      'dfs.namenode.https-address.secure.nn1': 'c.example.com:9871',
      'dfs.namenode.http-address.single': 'd.example.com:9870',
    });
    assert.deepEqual(m.get('prod'), ['http://b.example.com:9870', 'http://a.example.com:9870']);
    assert.deepEqual(m.get('secure'), ['https://c.example.com:9871']);
    assert.deepEqual(m.get('single'), ['http://d.example.com:9870']);
  });

  it('routes by nameservice, the longest prefix winning, and derives NameNodes from authorities', () => {
    const router = registerHdfsStorage(new StorageRouter(), { user: 'etl' }, [
      { prefix: 'hdfs://prod', options: { namenodes: ['nn1:9870', 'nn2:9870'] } },
      { prefix: 'hdfs://prod/secure', options: { namenodes: ['nn1:9870'], user: 'admin' } },
    ]);
    const prod = router.resolve('hdfs://prod/x') as WebHdfsStorage;
    assert.deepEqual(prod.namenodes, ['http://nn1:9870', 'http://nn2:9870']);
    assert.notEqual(router.resolve('hdfs://prod/secure/x'), prod);
    assert.equal(router.resolve('hdfs://production/x') === prod, false);
    const other = router.resolve('webhdfs://nn9:50070/x') as WebHdfsStorage;
    assert.deepEqual(other.namenodes, [], 'from the path');
  });
});
