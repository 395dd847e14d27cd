/**
 * S3Storage against a real S3 server (versitygw, started by scripts/start-s3.sh): signatures are
 * checked, listings page at 1000 keys, ranges and conditional writes are the server's own. Skipped,
 * saying why, when no server was started. The configuration parsing needs no server.
 */
import assert from 'node:assert/strict';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { AlreadyExistsError, ConfigError, PermissionDeniedError, StorageError } from '../../../src/errors.ts';
import { StorageRouter } from '../../../src/storage/router.ts';
import {
  parseS3Path,
  registerS3Storage,
  S3Storage,
  type S3StorageOptions,
  s3OptionsFromProperties,
} from '../../../src/storage/s3/index.ts';
import { requireServer } from '../../helpers/requires.ts';
import {
  createBucket,
  freePort,
  putRaw,
  s3Server,
  s3SkipReason,
  startPrivateS3Server,
  storageOptions,
} from '../../helpers/s3.ts';

const MiB = 1024 * 1024;
const text = (s: string) => new TextEncoder().encode(s);

/** Deterministic bytes that differ at every offset of a part boundary. */
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

/** Consumes an iterable (to make a lazy listing run). */
async function drain<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of items) out.push(x);
  return out;
}

async function listAll(s: S3Storage, dir: string, recursive = false) {
  const out = [];
  for await (const f of s.list(dir, { recursive })) out.push(f);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

describe('S3Storage on a real S3 server', requireServer('S3', s3SkipReason), () => {
  const server = s3Server!;
  const storages: S3Storage[] = [];
  const open = (extra: S3StorageOptions = {}) => {
    const s = new S3Storage(storageOptions(server, extra));
    storages.push(s);
    return s;
  };
  let bucket: string;
  let s3: S3Storage;

  before(async () => {
    bucket = await createBucket(server);
    s3 = open();
  });
  after(async () => {
    for (const s of storages) await s.close();
  });

  // The storage contract (test/contract/storage.contract.ts) runs over S3 too: stat, reads and
  // ranges, if-not-exists writes, listing, delete, missing files, abort. What follows is S3's own.
  it('stats one object under all three spellings; a key prefix with a slash is not a file', async () => {
    const p = `s3://${bucket}/stat/a.bin`;
    await s3.write(p, pattern(1234));
    assert.equal(await s3.stat(`s3://${bucket}/stat/`), undefined);
    // s3a:// and s3n:// name the same object.
    assert.equal((await s3.stat(`s3a://${bucket}/stat/a.bin`))?.size, 1234);
    assert.equal((await s3.stat(`s3n://${bucket}/stat/a.bin`))?.size, 1234);
  });

  it('tells a missing bucket from a missing key', async () => {
    const p = 's3://imsync-no-such-bucket/x/y.avro';
    await assert.rejects(s3.stat(p), (e: Error) => {
      assert.ok(e instanceof StorageError, String(e));
      assert.match(
        e.message,
        /^s3:\/\/imsync-no-such-bucket\/x\/y\.avro: .*'imsync-no-such-bucket' does not exist/,
      );
      return true;
    });
    await assert.rejects(
      s3.read(p),
      /^StorageError: s3:\/\/imsync-no-such-bucket\/x\/y\.avro: .*NoSuchBucket/,
    );
    await assert.rejects(drain(s3.list('s3://imsync-no-such-bucket/x')), /NoSuchBucket/);
  });

  it('streams reads in chunks, and streamed writes go up in parts when large', async () => {
    // 12 MiB + 5 bytes with 5 MiB parts: a three-part multipart upload from odd-sized chunks.
    const big = pattern(12 * MiB + 5, 3);
    const mp = open({ partSizeBytes: 5 * MiB });
    const p = `s3://${bucket}/stream/big.bin`;
    await mp.write(p, chunks(big, 777_777));
    assert.equal((await s3.stat(p))?.size, big.length);
    let n = 0;
    let total = 0;
    const got = new Uint8Array(big.length);
    for await (const c of s3.readStream(p)) {
      got.set(c, total);
      total += c.length;
      n++;
    }
    assert.equal(total, big.length);
    assert.ok(n > 1, `read in ${n} chunks`);
    assert.deepEqual(got, big);
    // A small stream is one PUT.
    const small = `s3://${bucket}/stream/small.bin`;
    await mp.write(small, chunks(pattern(1000), 300));
    assert.deepEqual(await s3.read(small), pattern(1000));
    // A conditional multipart upload refuses an existing key, and leaves it as it was.
    await assert.rejects(
      mp.write(p, chunks(pattern(6 * MiB), MiB), { ifNotExists: true }),
      AlreadyExistsError,
    );
    assert.equal((await s3.stat(p))?.size, big.length);
  });

  it('falls back to HEAD then PUT with conditional-writes false, and warns once', async () => {
    const warnings: string[] = [];
    const racy = open({ conditionalWrites: false, onWarning: (m) => warnings.push(m) });
    const p = `s3://${bucket}/cond-fallback/lock`;
    await racy.write(p, text('a'), { ifNotExists: true });
    await assert.rejects(racy.write(p, text('b'), { ifNotExists: true }), AlreadyExistsError);
    await racy.write(`${p}2`, text('c'), { ifNotExists: true });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /s3\.conditional-writes is false .* can race/);
  });

  it('lists across pages with sizes, one level or recursively, without directory markers', async () => {
    const dir = `s3://${bucket}/list/t`;
    const paged = open({ listPageSize: 7 });
    const expected = new Map<string, number>();
    const puts: Promise<void>[] = [];
    for (let i = 0; i < 30; i++) {
      const p = `${dir}/f${String(i).padStart(3, '0')}.bin`;
      expected.set(p, i);
      puts.push(s3.write(p, pattern(i)));
    }
    puts.push(s3.write(`${dir}/sub/deep.bin`, pattern(42)));
    await Promise.all(puts);
    // Zero-byte directory markers, as Hadoop S3A and consoles make them.
    await putRaw(server, bucket, 'list/t/', new Uint8Array(0));
    await putRaw(server, bucket, 'list/t/sub/', new Uint8Array(0));
    await putRaw(server, bucket, 'list/t/emptydir/', new Uint8Array(0));
    // A sibling sharing the name as a prefix is not inside the directory.
    await s3.write(`s3://${bucket}/list/t2/x.bin`, pattern(1));

    for (const st of [s3, paged]) {
      const flat = await listAll(st, dir);
      assert.deepEqual(
        flat.map((f) => [f.path, f.size]),
        [...expected.entries()],
      );
      assert.ok(flat.every((f) => typeof f.mtimeMs === 'number'));
      // A trailing slash lists the same.
      assert.deepEqual(
        (await listAll(st, `${dir}/`)).map((f) => f.path),
        [...expected.keys()],
      );
      const deep = await listAll(st, dir, true);
      assert.deepEqual(
        deep.map((f) => [f.path, f.size]),
        [...[...expected.entries()], [`${dir}/sub/deep.bin`, 42] as [string, number]].sort(),
      );
    }
    assert.deepEqual(await listAll(s3, `s3://${bucket}/list/none`), [], 'a missing directory lists as empty');
    assert.deepEqual(await listAll(s3, `${dir}/emptydir`), []);
  });

  it('lists more than 1000 keys (the server pages at 1000)', async () => {
    const dir = `s3://${bucket}/many`;
    const n = 1003;
    const names: string[] = [];
    for (let i = 0; i < n; i++) names.push(`${dir}/k${String(i).padStart(5, '0')}`);
    for (let i = 0; i < n; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((p) => s3.write(p, new Uint8Array(3))));
    }
    const listed = await listAll(s3, dir);
    assert.equal(listed.length, n);
    assert.deepEqual(
      listed.map((f) => f.path),
      names,
    );
    assert.ok(listed.every((f) => f.size === 3));
  });

  it('fails with PermissionDeniedError for bad credentials, naming path and reason', async () => {
    const p = `s3://${bucket}/perm/p.json`;
    await s3.write(p, text('{}'));
    const bad = open({ secretAccessKey: `${server.secretAccessKey}-wrong` });
    await assert.rejects(bad.read(p), (e: Error) => {
      assert.ok(e instanceof PermissionDeniedError, String(e));
      assert.match(
        e.message,
        /^s3:\/\/.*\/perm\/p\.json: permission denied \(S3 GetObject: SignatureDoesNotMatch/,
      );
      return true;
    });
    await assert.rejects(
      bad.stat(p),
      /^PermissionDeniedError: s3:\/\/.*: permission denied \(S3 HeadObject: HTTP 403\)/,
    );
    await assert.rejects(bad.write(p, text('x')), PermissionDeniedError);
    await assert.rejects(drain(bad.list(`s3://${bucket}/perm`)), PermissionDeniedError);
    const unknownKey = open({ accessKeyId: 'no-such-user' });
    await assert.rejects(unknownKey.read(p), PermissionDeniedError);
    assert.equal(new TextDecoder().decode(await s3.read(p)), '{}', 'nothing was written');
  });

  it('fails with a StorageError after retries, not a hang, when the server goes away', async (t) => {
    const bin = process.env.IMSYNC_S3_BIN;
    if (!bin) {
      t.skip('IMSYNC_S3_BIN is unset (start-s3.sh exports it): no private server to stop');
      return;
    }
    const priv = await startPrivateS3Server(bin, server);
    try {
      const b = await createBucket(priv);
      const st = open({ ...storageOptions(priv), maxAttempts: 3, connectTimeoutMs: 2000 });
      const p = `s3://${b}/gone/x.avro`;
      await st.write(p, text('here'));
      assert.equal((await st.stat(p))?.size, 4); // a kept-alive connection now exists
      await priv.stop();
      const started = Date.now();
      for (const attempt of [() => st.read(p), () => st.stat(p), () => drain(st.list(`s3://${b}/gone`))]) {
        await assert.rejects(attempt(), (e: Error) => {
          assert.ok(e instanceof StorageError, String(e));
          assert.match(
            e.message,
            new RegExp(`^s3://${b}/gone(/x\\.avro)?: S3 \\w+ failed: cannot reach ${priv.endpoint}`),
          );
          assert.match(e.message, /after 3 attempts/);
          return true;
        });
      }
      assert.ok(Date.now() - started < 30_000, `gave up in ${Date.now() - started} ms`);
    } finally {
      await priv.stop();
    }
  });

  it('fails with a StorageError when nothing listens at the endpoint', async () => {
    const port = await freePort();
    const st = open({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 2 });
    const started = Date.now();
    await assert.rejects(st.read(`s3://${bucket}/x`), (e: Error) => {
      assert.ok(e instanceof StorageError, String(e));
      assert.match(
        e.message,
        new RegExp(`: S3 GetObject failed: cannot reach http://127\\.0\\.0\\.1:${port} after 2 attempts: `),
      );
      return true;
    });
    assert.ok(Date.now() - started < 15_000);
  });

  it('serves s3://, s3a:// and s3n:// through the router, with per-prefix settings', async () => {
    const router = registerS3Storage(new StorageRouter(), storageOptions(server), [
      { prefix: `s3://${bucket}/special`, options: { secretAccessKey: 'wrong' } },
    ]);
    const p = `s3://${bucket}/router/r.txt`;
    await router.resolve(p).write(p, text('routed'));
    assert.equal(
      new TextDecoder().decode(
        await router.resolve(`s3a://${bucket}/router/r.txt`).read(`s3a://${bucket}/router/r.txt`),
      ),
      'routed',
    );
    assert.equal(
      (await router.resolve(`s3n://${bucket}/router/r.txt`).stat(`s3n://${bucket}/router/r.txt`))?.size,
      6,
    );
    // The prefix's own (bad) secret is used below it, and only there.
    const sp = `s3a://${bucket}/special/x`;
    await assert.rejects(router.resolve(sp).read(sp), PermissionDeniedError);
    assert.equal(router.resolve(`s3://${bucket}/specialist/x`), router.resolve(p));
    for (const s of new Set([router.resolve(p), router.resolve(sp)])) await s.close();
  });
});

describe('S3Storage on a server that stalls', () => {
  /** A loopback server that accepts connections and then says nothing (or a little, then nothing). */
  async function stallingServer(firstBytes?: string) {
    const sockets = new Set<Socket>();
    const srv = createServer((sock) => {
      sockets.add(sock);
      sock.on('error', () => {});
      if (firstBytes !== undefined) sock.once('data', () => sock.write(firstBytes));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    const storage = new S3Storage({
      endpoint: `http://127.0.0.1:${port}`,
      accessKeyId: 'k',
      secretAccessKey: 's',
      pathStyle: true,
      maxAttempts: 2,
      requestTimeoutMs: 500,
    });
    const close = async () => {
      await storage.close();
      for (const s of sockets) s.destroy();
      await new Promise((r) => srv.close(r));
    };
    return { port, storage, close };
  }

  it('gives up on a silent server with a StorageError after the timeout and retries, not a hang', async () => {
    const { port, storage, close } = await stallingServer();
    const started = Date.now();
    try {
      await assert.rejects(storage.read('s3://b/stalled.avro'), (e: Error) => {
        assert.ok(e instanceof StorageError, String(e));
        assert.match(
          e.message,
          new RegExp(
            `^s3://b/stalled\\.avro: S3 GetObject failed: cannot reach http://127\\.0\\.0\\.1:${port} after 2 attempts: .*inactivity`,
          ),
        );
        return true;
      });
      const ms = Date.now() - started;
      assert.ok(ms >= 900 && ms < 10_000, `gave up after ${ms} ms`);
    } finally {
      await close();
    }
  });

  it('fails a streamed read whose body stops half way with a StorageError', async () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n';
    const { storage, close } = await stallingServer(`${head}0123456789`);
    const started = Date.now();
    try {
      let got = 0;
      await assert.rejects(
        (async () => {
          for await (const c of storage.readStream('s3://b/half.parquet')) got += c.length;
        })(),
        (e: Error) => {
          assert.ok(e instanceof StorageError, String(e));
          assert.match(e.message, /^s3:\/\/b\/half\.parquet: S3 GetObject \(reading the body\) failed: /);
          return true;
        },
      );
      assert.equal(got, 10);
      assert.ok(Date.now() - started < 10_000);
    } finally {
      await close();
    }
  });
});

describe('S3 paths and settings', () => {
  it('parses s3, s3a and s3n paths and rejects others', () => {
    assert.deepEqual(parseS3Path('s3://b/k/x'), { scheme: 's3', bucket: 'b', key: 'k/x' });
    assert.deepEqual(parseS3Path('S3A://b'), { scheme: 's3a', bucket: 'b', key: '' });
    assert.deepEqual(parseS3Path('s3n://b/'), { scheme: 's3n', bucket: 'b', key: '' });
    assert.throws(() => parseS3Path('hdfs://nn/x'), /'hdfs:\/\/nn\/x': not an S3 location/);
    assert.throws(() => parseS3Path('s3:///x'), /not an S3 location/);
  });

  it('reads PyIceberg-style s3.* properties', () => {
    assert.deepEqual(
      s3OptionsFromProperties({
        's3.endpoint': 'https://onefs.example.com:9021',
        's3.region': 'eu-west-1',
        's3.access-key-id': 'AK',
        's3.secret-access-key': 'SK',
        's3.session-token': 'TOKEN',
        's3.path-style-access': 'true',
        's3.conditional-writes': 'false',
        's3.max-attempts': '3',
        's3.connect-timeout': '1.5',
        's3.request-timeout': '30',
        uri: 'sqlite:///x.db',
      }),
      {
        endpoint: 'https://onefs.example.com:9021',
        region: 'eu-west-1',
        accessKeyId: 'AK',
        secretAccessKey: 'SK',
        sessionToken: 'TOKEN',
        pathStyle: true,
        conditionalWrites: false,
        maxAttempts: 3,
        connectTimeoutMs: 1500,
        requestTimeoutMs: 30_000,
      },
    );
    assert.deepEqual(s3OptionsFromProperties({}), {});
  });

  it('rejects bad values and, where strict, unknown s3.* keys, naming the setting', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [
        { 's3.endpoint': 'onefs:9021' },
        /^storage\.s3\.endpoint: must be an http:\/\/ or https:\/\/ URL \(got 'onefs:9021'\)$/,
      ],
      [{ 's3.path-style-access': 'maybe' }, /^storage\.s3\.path-style-access: must be true or false/],
      [{ 's3.max-attempts': '2.5' }, /^storage\.s3\.max-attempts: must be a positive whole number/],
      [{ 's3.connect-timeout': '-1' }, /^storage\.s3\.connect-timeout: must be a positive number/],
      [
        { 's3.access-key-id': 'AK' },
        /^storage: give both s3\.access-key-id and s3\.secret-access-key, or neither$/,
      ],
    ];
    for (const [props, message] of bad) {
      assert.throws(
        () => s3OptionsFromProperties(props, 'storage'),
        (e: Error) => {
          assert.ok(e instanceof ConfigError);
          assert.match(e.message, message);
          return true;
        },
      );
    }
    assert.throws(
      () => s3OptionsFromProperties({ 's3.endpiont': 'http://x' }, 'storage.s3://b', true),
      /^ConfigError: storage\.s3:\/\/b\.s3\.endpiont: unknown setting \(known: s3\.endpoint, /,
    );
    assert.deepEqual(s3OptionsFromProperties({ 's3.endpiont': 'http://x' }), {}, 'not strict: ignored');
    assert.throws(() => new S3Storage({ partSizeBytes: MiB }), /part size must be at least 5242880 bytes/);
    assert.throws(() => new S3Storage({ listPageSize: 1001 }), /list page size must be between 1 and 1000/);
  });
});
