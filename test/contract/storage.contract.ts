/**
 * The storage contract (src/storage/storage.ts) as one suite, run over every backend by
 * storage.test.ts, in the manner of kysely's per-dialect test loops: a backend that passes it
 * serves the engines. Backend-specific behaviour (S3 multipart uploads and directory markers,
 * WebHDFS failover and paging, ...) stays in each backend's own tests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AbortedError, AlreadyExistsError, NotFoundError } from '../../src/errors.ts';
import { collectBytes, type FileInfo, type Storage } from '../../src/storage/storage.ts';

/** One backend under the contract. */
export interface StorageHarness {
  /** Names the backend in test titles. */
  readonly name: string;
  /** Why the suite is skipped (its server is absent), or false. */
  readonly skip: string | false;
  /** Whether it offers an atomic `rename` (object stores have none). */
  readonly renames: boolean;
  /**
   * A storage and a fresh, empty directory on it (`s3://bucket/run`, `/tmp/x`) for one run of the
   * suite; the storage is closed by the suite.
   */
  open(): Promise<{ storage: Storage; root: string }>;
}

export const text = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

/** Deterministic bytes that differ at every offset. */
export function pattern(size: number, seed = 7): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export async function* chunks(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

/** A listing, sorted by path. */
export async function listAll(s: Storage, dir: string, recursive = false): Promise<FileInfo[]> {
  const out: FileInfo[] = [];
  for await (const f of s.list(dir, { recursive })) out.push(f);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Defines the contract suite for one backend. */
export function storageContract(h: StorageHarness): void {
  describe(`storage contract: ${h.name}`, { skip: h.skip }, () => {
    let s: Storage;
    let root: string;

    before(async () => {
      ({ storage: s, root } = await h.open());
    });
    after(async () => {
      await s?.close();
    });

    it('stats files with size and time, and nothing for missing paths and directories', async () => {
      const p = `${root}/stat/a.bin`;
      await s.write(p, pattern(1234));
      const info = await s.stat(p);
      assert.equal(info?.path, p);
      assert.equal(info?.size, 1234);
      assert.equal(typeof info?.mtimeMs, 'number');
      assert.ok(Math.abs(info!.mtimeMs! - Date.now()) < 10 * 60_000, 'mtime is about now');
      assert.equal(await s.stat(`${root}/stat/missing.bin`), undefined);
      assert.equal(await s.stat(`${root}/stat`), undefined, 'a directory is not a file');
      assert.equal(await s.stat(`${root}/missing/x`), undefined);
    });

    it('stats many files at once, when it offers statMany, answering in order as stat does', async (t) => {
      if (!s.statMany) {
        t.diagnostic(`${h.name} offers no statMany: presence checks make one stat per file`);
        return;
      }
      const d = `${root}/stat-many`;
      const files = Array.from({ length: 1500 }, (_, i) => `${d}/f${i}.bin`);
      await Promise.all(files.slice(0, 1000).map((p, i) => s.write(p, pattern(i % 7))));
      // Existing files, missing ones, a directory and a missing directory, interleaved.
      const asked = [
        ...files.map((p, i) => (i % 3 === 0 ? p : files[(i * 7) % files.length]!)),
        d,
        `${root}/nope/x`,
      ];
      const many = await s.statMany(asked);
      assert.equal(many.length, asked.length);
      const one = await Promise.all(asked.map((p) => s.stat(p)));
      assert.deepEqual(
        many.map((f) => f && { path: f.path, size: f.size }),
        one.map((f) => f && { path: f.path, size: f.size }),
      );
      assert.ok(many.filter(Boolean).length > 0 && many.filter((f) => !f).length > 0);
    });

    it('finds the files unlike their recorded sizes, when it offers findUnlike, as stat judges them', async (t) => {
      if (!s.findUnlike) {
        t.diagnostic(`${h.name} offers no findUnlike: presence checks judge a stat of every file`);
        return;
      }
      const d = `${root}/unlike`;
      const files = Array.from({ length: 600 }, (_, i) => `${d}/f${i}.bin`);
      await Promise.all(files.slice(0, 400).map((p, i) => s.write(p, pattern(i % 5))));
      // Right sizes, wrong sizes, any size (NaN), missing files, a directory; some names not ASCII.
      await s.write(`${d}/é ü.bin`, pattern(3));
      const asked = [...files, `${d}/é ü.bin`, d];
      const sizes = Float64Array.from(asked, (_, i) =>
        i >= 600 ? 3 : i % 11 === 0 ? Number.NaN : i % 13 === 0 ? (i % 5) + 1 : i % 5,
      );
      const list = { utf8: new TextEncoder().encode(asked.join('\0')), count: asked.length };
      const found = await s.findUnlike(list, sizes);
      assert.deepEqual(
        found.map((u) => u.path),
        found.map((u) => asked[u.index]),
      );
      const unlike = found.map((u) => u.index);
      const infos = await Promise.all(asked.map((p) => s.stat(p, { symlinks: true })));
      const expected = asked.flatMap((_, i) => {
        const f = infos[i];
        return !f || f.symlink || (!Number.isNaN(sizes[i]!) && f.size !== sizes[i]) ? [i] : [];
      });
      assert.deepEqual(unlike, expected);
      assert.ok(
        expected.includes(13) && expected.includes(400) && expected.includes(601) && !expected.includes(600),
      );
    });

    it('reads whole files and byte ranges, short at the end and empty past it', async () => {
      const p = `${root}/read/r.bin`;
      const bytes = pattern(100_000);
      await s.write(p, bytes);
      assert.deepEqual(await s.read(p), bytes);
      assert.deepEqual(await s.read(p, { offset: 0, length: 8 }), bytes.subarray(0, 8));
      assert.deepEqual(await s.read(p, { offset: 99_992, length: 8 }), bytes.subarray(99_992));
      assert.deepEqual(await s.read(p, { offset: 12_345, length: 54_321 }), bytes.subarray(12_345, 66_666));
      assert.deepEqual(await s.read(p, { offset: 99_990, length: 100 }), bytes.subarray(99_990));
      assert.equal((await s.read(p, { offset: 100_000, length: 10 })).length, 0);
      assert.equal((await s.read(p, { offset: 200_000, length: 10 })).length, 0);
      assert.equal((await s.read(p, { offset: 5, length: 0 })).length, 0);
      // An empty file.
      await s.write(`${root}/read/empty`, new Uint8Array(0));
      assert.equal((await s.stat(`${root}/read/empty`))?.size, 0);
      assert.equal((await s.read(`${root}/read/empty`)).length, 0);
    });

    it('fails reads of missing files with NotFoundError naming the path', async () => {
      const p = `${root}/missing/m.avro`;
      for (const attempt of [
        () => s.read(p),
        () => s.read(p, { offset: 0, length: 10 }),
        () => collectBytes(s.readStream(p)),
      ]) {
        await assert.rejects(attempt(), (e: unknown) => {
          assert.ok(e instanceof NotFoundError, String(e));
          assert.equal(e.path, p);
          assert.equal(e.message, `${p}: no such file`);
          return true;
        });
      }
    });

    it('streams reads and writes in chunks of any size', async () => {
      const p = `${root}/stream/big.bin`;
      const bytes = pattern(3 * 1024 * 1024 + 123, 11);
      await s.write(p, chunks(bytes, 256 * 1024 + 7));
      assert.equal((await s.stat(p))?.size, bytes.length);
      const parts: Uint8Array[] = [];
      for await (const c of s.readStream(p)) parts.push(c);
      assert.ok(parts.length > 1, 'a large file streams in more than one chunk');
      const back = await collectBytes(
        (async function* () {
          yield* parts;
        })(),
      );
      assert.ok(Buffer.from(back).equals(Buffer.from(bytes)));
    });

    it('writes if-not-exists: the second writer gets AlreadyExistsError; of concurrent ones exactly one wins', async () => {
      const p = `${root}/excl/lock`;
      await s.write(p, text('first'), { ifNotExists: true });
      await assert.rejects(s.write(p, text('second'), { ifNotExists: true }), (e: unknown) => {
        assert.ok(e instanceof AlreadyExistsError, String(e));
        assert.equal(e.path, p);
        assert.equal(e.message, `${p}: already exists`);
        return true;
      });
      assert.equal(decode(await s.read(p)), 'first');
      const q = `${root}/excl/race`;
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => s.write(q, text(`writer ${i}`), { ifNotExists: true })),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one writer wins');
      for (const r of results) {
        if (r.status === 'rejected') assert.ok(r.reason instanceof AlreadyExistsError, String(r.reason));
      }
      assert.match(decode(await s.read(q)), /^writer \d$/);
      // No temporary files are left behind, by winners or losers.
      assert.deepEqual(
        (await listAll(s, `${root}/excl`)).map((f) => f.path),
        [p, q],
      );
      // A plain write replaces.
      await s.write(p, text('third'));
      assert.equal(decode(await s.read(p)), 'third');
    });

    it('overwrites without ifNotExists, and never shows a half-written file', async () => {
      const p = `${root}/over/meta.json`;
      await s.write(p, text('{"v":1}'));
      await s.write(p, text('{"v":2,"longer":true}'));
      assert.equal(decode(await s.read(p)), '{"v":2,"longer":true}');
      // A stream that fails half way: the target keeps its old bytes and no temporary file stays.
      async function* failing(): AsyncIterable<Uint8Array> {
        yield text('{"v":3');
        throw new Error('source went away');
      }
      await assert.rejects(s.write(p, failing()));
      assert.equal(decode(await s.read(p)), '{"v":2,"longer":true}');
      assert.deepEqual(
        (await listAll(s, `${root}/over`)).map((f) => f.path),
        [p],
      );
    });

    it('lists a directory, flat and recursively, with sizes and times', async () => {
      const d = `${root}/list`;
      await s.write(`${d}/a.txt`, text('a'));
      await s.write(`${d}/b.txt`, text('bb'));
      await s.write(`${d}/sub/c.txt`, text('ccc'));
      await s.write(`${d}/sub/deeper/d.txt`, text('dddd'));
      await s.write(`${d}/k=a b/e.txt`, text('e'));
      // A sibling sharing the name as a prefix is not inside the directory.
      await s.write(`${root}/list2/x.txt`, text('x'));
      const flat = await listAll(s, d);
      assert.deepEqual(
        flat.map((f) => [f.path, f.size]),
        [
          [`${d}/a.txt`, 1],
          [`${d}/b.txt`, 2],
        ],
      );
      assert.ok(flat.every((f) => typeof f.mtimeMs === 'number'));
      assert.deepEqual(
        (await listAll(s, `${d}/`)).map((f) => f.path),
        flat.map((f) => `${d}/${f.path.slice(d.length + 1)}`),
        'a trailing slash lists the same',
      );
      const deep = await listAll(s, `${d}/`, true);
      assert.deepEqual(
        deep.map((f) => [f.path, f.size]),
        [
          [`${d}/a.txt`, 1],
          [`${d}/b.txt`, 2],
          [`${d}/k=a b/e.txt`, 1],
          [`${d}/sub/c.txt`, 3],
          [`${d}/sub/deeper/d.txt`, 4],
        ],
      );
      assert.equal(decode(await s.read(`${d}/k=a b/e.txt`)), 'e');
      assert.deepEqual(await listAll(s, `${root}/list-none`), [], 'a missing directory lists as empty');
      assert.deepEqual(await listAll(s, `${d}/a.txt`), [], 'a file lists as an empty directory');
    });

    it('lists the directories under a directory, when it offers listDirectories (table discovery)', async (t) => {
      if (!s.listDirectories) {
        t.diagnostic(
          `${h.name} offers no listDirectories: warehouse discovery needs tables named by location`,
        );
        return;
      }
      const d = `${root}/dirs`;
      await s.write(`${d}/top.txt`, text('t'));
      await s.write(`${d}/sales/orders/metadata/v1.metadata.json`, text('{}'));
      await s.write(`${d}/web.db/clicks/data/f.parquet`, text('p'));
      await s.write(`${d}/k=a b/x.txt`, text('x'));
      await s.write(`${root}/dirs2/y/z.txt`, text('z'));
      const names = async (dir: string) => {
        const out: string[] = [];
        for await (const n of s.listDirectories!(dir)) out.push(n);
        return out;
      };
      assert.deepEqual(await names(d), ['k=a b', 'sales', 'web.db'], 'directories only, sorted, not deeper');
      assert.deepEqual(await names(`${d}/`), ['k=a b', 'sales', 'web.db'], 'a trailing slash lists the same');
      assert.deepEqual(await names(`${d}/sales`), ['orders']);
      assert.deepEqual(await names(`${d}/sales/orders/metadata`), [], 'a directory of files has none');
      assert.deepEqual(await names(`${root}/dirs-none`), [], 'a missing directory lists as empty');
    });

    it('lists with `only`: each file that passes with its size, each other one yielded or named to onSkipped', async () => {
      const d = `${root}/list-only`;
      await s.write(`${d}/a.bin`, text('a'));
      await s.write(`${d}/b.bin`, text('bb'));
      await s.write(`${d}/sub/c.bin`, text('ccc'));
      const skipped: string[] = [];
      const got: FileInfo[] = [];
      for await (const f of s.list(d, {
        recursive: true,
        only: (p) => !p.endsWith('/b.bin'),
        onSkipped: (p) => skipped.push(p),
      }))
        got.push(f);
      const sizes = new Map(got.map((f) => [f.path, f.size]));
      assert.equal(sizes.get(`${d}/a.bin`), 1);
      assert.equal(sizes.get(`${d}/sub/c.bin`), 3);
      const b = `${d}/b.bin`;
      assert.ok(
        sizes.get(b) === 2 || (skipped.length === 1 && skipped[0] === b && !sizes.has(b)),
        `${b}: ${skipped}`,
      );
      assert.equal(got.length + skipped.length, 3);
      // Asked for links, a plain file stats as it does without.
      assert.equal((await s.stat(`${d}/a.bin`, { symlinks: true }))?.size, 1);
      assert.equal((await s.stat(`${d}/a.bin`, { symlinks: true }))?.symlink, undefined);
    });

    it('deletes files; deleting a missing one is fine', async () => {
      const p = `${root}/del/x`;
      await s.write(p, text('x'));
      await s.delete(p);
      assert.equal(await s.stat(p), undefined);
      await s.delete(p);
      await s.delete(`${root}/del/never/was`);
    });

    it(
      h.renames ? 'renames, refusing an existing target and a missing source' : 'offers no rename',
      async () => {
        if (!h.renames) {
          assert.equal(s.rename, undefined);
          return;
        }
        assert.ok(s.rename, `${h.name} offers rename`);
        const a = `${root}/ren/a`;
        const b = `${root}/ren/new/dir/b`;
        await s.write(a, text('A'));
        await s.rename(a, b);
        assert.equal(await s.stat(a), undefined);
        assert.equal(decode(await s.read(b)), 'A');
        await s.write(a, text('A2'));
        await assert.rejects(s.rename(a, b), (e: unknown) => e instanceof AlreadyExistsError && e.path === b);
        assert.equal(decode(await s.read(a)), 'A2', 'the source stays');
        assert.equal(decode(await s.read(b)), 'A', 'the target is not replaced');
        await assert.rejects(
          s.rename(`${root}/ren/none`, `${root}/ren/c`),
          (e: unknown) => e instanceof NotFoundError && e.path === `${root}/ren/none`,
        );
      },
    );

    it('fails every call with AbortedError once its signal is aborted, writing nothing', async () => {
      const p = `${root}/abort/x`;
      await s.write(p, text('kept'));
      const c = new AbortController();
      c.abort(new Error('host stopping'));
      const o = { signal: c.signal };
      const aborted = (e: unknown) => e instanceof AbortedError && e.code === 'ABORTED';
      await assert.rejects(s.stat(p, o), aborted);
      await assert.rejects(s.read(p, undefined, o), aborted);
      await assert.rejects(s.read(p, { offset: 0, length: 2 }, o), aborted);
      await assert.rejects(collectBytes(s.readStream(p, o)), aborted);
      await assert.rejects(collectList(s, `${root}/abort`, o), aborted);
      await assert.rejects(s.write(`${root}/abort/new`, text('n'), o), aborted);
      await assert.rejects(s.write(`${root}/abort/new2`, text('n'), { ifNotExists: true, ...o }), aborted);
      await assert.rejects(s.delete(p, o), aborted);
      assert.equal(decode(await s.read(p)), 'kept', 'the aborted delete did not run');
      assert.deepEqual(
        (await listAll(s, `${root}/abort`)).map((f) => f.path),
        [p],
        'the aborted writes left nothing, temporary files included',
      );
    });

    it('stops a streamed write aborted half way with AbortedError, leaving no file', async () => {
      const p = `${root}/abort-mid/big.bin`;
      const c = new AbortController();
      async function* slowSource(): AsyncIterable<Uint8Array> {
        yield pattern(64 * 1024, 1);
        c.abort(new Error('host stopping'));
        yield pattern(64 * 1024, 2);
        yield pattern(64 * 1024, 3);
      }
      await assert.rejects(s.write(p, slowSource(), { signal: c.signal }), AbortedError);
      assert.equal(await s.stat(p), undefined);
      assert.deepEqual(await listAll(s, `${root}/abort-mid`), [], 'no temporary file stays');
    });

    it('rejects a streamed write whose source fails half way, leaving no file', async () => {
      const p = `${root}/source-fails/out.bin`;
      const boom = new Error('source failed');
      async function* failing(): AsyncIterable<Uint8Array> {
        yield pattern(64 * 1024, 1);
        throw boom;
      }
      await assert.rejects(s.write(p, failing()));
      assert.equal(await s.stat(p), undefined);
      assert.deepEqual(await listAll(s, `${root}/source-fails`), [], 'no temporary file stays');
    });

    it('closes, twice without harm', async () => {
      const { storage } = await h.open();
      await storage.close();
      await storage.close();
    });
  });
}

/** A listing under `options` (for the abort check). */
async function collectList(s: Storage, dir: string, options: { signal: AbortSignal }): Promise<FileInfo[]> {
  const out: FileInfo[] = [];
  for await (const f of s.list(dir, options)) out.push(f);
  return out;
}
