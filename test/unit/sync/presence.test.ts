/**
 * Presence checks cost in proportion to the files asked about: per-file stats where a listing
 * pays per entry (local disks, memory), stats then one listing per directory where listing pages
 * are cheap (object stores, HDFS), and never a stat of a file nobody asked about. The answers are
 * the same either way: missing, short, symbolic links (of the file or of a directory above it).
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { LocalStorage } from '../../../src/storage/local/local.ts';
import { MemoryStorage } from '../../../src/storage/memory/memory.ts';
import type {
  FileInfo,
  ListingCost,
  ListOptions,
  StatOptions,
  Storage,
} from '../../../src/storage/storage.ts';
import { PresenceChecker } from '../../../src/sync/presence.ts';
import { scratchDir } from '../../helpers/paths.ts';

/** `inner` with its calls counted, and a listing cost of our choosing (unset: the inner one). */
function counted(inner: Storage, listingCost?: ListingCost) {
  const calls = { stat: [] as string[], list: [] as string[] };
  const s: Storage = {
    ...((listingCost ?? inner.listingCost) ? { listingCost: listingCost ?? inner.listingCost } : {}),
    stat: (p: string, o?: StatOptions) => {
      calls.stat.push(p);
      return inner.stat(p, o);
    },
    read: (p, r, o) => inner.read(p, r, o),
    readStream: (p, o) => inner.readStream(p, o),
    write: (p, d, o) => inner.write(p, d, o),
    list: (d: string, o?: ListOptions) => {
      calls.list.push(d);
      return inner.list(d, o);
    },
    delete: (p, o) => inner.delete(p, o),
    close: () => inner.close(),
  };
  return { s, calls };
}

const bytes = (n: number) => new Uint8Array(n);

describe('presence checks', () => {
  it('local: a few files of a big directory cost a stat each, no listing', async () => {
    const base = scratchDir('presence-local');
    const dir = path.join(base, 'replica', 'data', 'p=1');
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < 500; i++) writeFileSync(path.join(dir, `f${i}.parquet`), bytes(i % 7));
    const { s, calls } = counted(new LocalStorage());
    const p = new PresenceChecker(() => s, { roots: [path.join(base, 'replica')] });
    const asked = [3, 10, 499].map((i) => ({ path: path.join(dir, `f${i}.parquet`), size: i % 7 }));
    const results = await p.checkMany([...asked, { path: path.join(dir, 'absent.parquet'), size: 1 }]);
    assert.deepEqual(
      results.map((r) => r.ok),
      [true, true, true, false],
    );
    assert.equal(results[3]!.reason, 'missing');
    assert.deepEqual(calls.list, [], 'no listing');
    const files = calls.stat.filter((x) => x.endsWith('.parquet'));
    assert.deepEqual(files.sort(), [...asked.map((a) => a.path), path.join(dir, 'absent.parquet')].sort());
    assert.equal(p.stats, 4);
    assert.equal(p.listings, 0);
    // The directories between the root and the files are looked at once each, for symbolic links.
    assert.deepEqual(
      calls.stat.filter((x) => !x.endsWith('.parquet')).sort(),
      [path.join(base, 'replica', 'data'), dir].sort(),
    );
  });

  it('local: a short file, a symlinked file and a file below a symlinked directory', async () => {
    const base = scratchDir('presence-links');
    const replica = path.join(base, 'replica');
    const dir = path.join(replica, 'data');
    mkdirSync(dir, { recursive: true });
    mkdirSync(path.join(base, 'elsewhere'));
    writeFileSync(path.join(dir, 'short.parquet'), bytes(3));
    writeFileSync(path.join(base, 'elsewhere', 'x.parquet'), bytes(5));
    symlinkSync(path.join(base, 'elsewhere', 'x.parquet'), path.join(dir, 'link.parquet'));
    symlinkSync(path.join(base, 'elsewhere'), path.join(dir, 'linked'));
    const p = new PresenceChecker(() => new LocalStorage(), { roots: [replica] });
    const [short, link, below] = await p.checkMany([
      { path: path.join(dir, 'short.parquet'), size: 4n },
      { path: path.join(dir, 'link.parquet'), size: 5n },
      { path: path.join(dir, 'linked', 'x.parquet'), size: 5n },
    ]);
    assert.deepEqual(short, { ok: false, reason: 'size-mismatch', actualSize: 3 });
    assert.deepEqual(link, { ok: false, reason: 'symlink', symlink: path.join(dir, 'link.parquet') });
    assert.deepEqual(below, { ok: false, reason: 'symlink', symlink: path.join(dir, 'linked') });
  });

  it('object-store costs: stats while a directory is asked about little, then one listing for the rest', async () => {
    const mem = new MemoryStorage();
    const dir = 'memory://b/data';
    for (let i = 0; i < 300; i++) await mem.write(`${dir}/f${i}`, bytes(2));
    const { s, calls } = counted(mem, { pageSize: 100 }); // stats up to 10 per directory
    const p = new PresenceChecker(() => s);
    const ask = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, k) => ({ path: `${dir}/f${from + k}`, size: 2 }));
    assert.ok((await p.checkMany(ask(0, 4))).every((r) => r.ok));
    assert.ok((await p.checkMany(ask(4, 10))).every((r) => r.ok));
    assert.deepEqual([calls.stat.length, calls.list.length], [10, 0], 'ten stats, no listing');
    const more = await p.checkMany([...ask(10, 40), { path: `${dir}/nope`, size: 2 }]);
    assert.deepEqual(
      more.map((r) => r.ok),
      [...Array(30).fill(true), false],
    );
    assert.deepEqual([calls.stat.length, calls.list], [10, [dir]], 'past the bound: one listing');
    await p.checkMany(ask(40, 300));
    assert.deepEqual(
      [calls.stat.length, calls.list.length, p.listings, p.stats],
      [10, 1, 1, 10],
      'then the listing answers',
    );
    // One batch asking for more than the bound lists at once.
    const q = new PresenceChecker(() => s);
    await q.checkMany(ask(0, 11));
    assert.deepEqual([q.stats, q.listings], [0, 1]);
  });

  it('a backend that names no listing cost is taken for an object store (pages of 1,000)', async () => {
    const mem = new MemoryStorage();
    for (let i = 0; i < 150; i++) await mem.write(`memory://b/d/f${i}`, bytes(1));
    const inner: Storage = mem;
    const plain = counted(inner);
    // Without a listing cost of its own: the default, 100 stats before a listing.
    const bare: Storage = { ...plain.s };
    delete (bare as { listingCost?: ListingCost }).listingCost;
    const p = new PresenceChecker(() => bare);
    await p.checkMany(Array.from({ length: 100 }, (_, i) => ({ path: `memory://b/d/f${i}`, size: 1 })));
    assert.deepEqual([p.stats, p.listings], [100, 0]);
    await p.check('memory://b/d/f100', 1);
    assert.deepEqual([p.stats, p.listings], [100, 1]);
  });

  it('memory: always stats (a listing scans the whole store)', async () => {
    const mem = new MemoryStorage();
    for (let i = 0; i < 2000; i++) await mem.write(`/m/d/f${i}`, bytes(1));
    const p = new PresenceChecker(() => mem);
    const r = await p.checkMany(Array.from({ length: 2000 }, (_, i) => ({ path: `/m/d/f${i}`, size: 1 })));
    assert.ok(r.every((x) => x.ok));
    assert.deepEqual([p.stats, p.listings], [2000, 0]);
  });
});

describe('local listing with `only`', () => {
  it('leaves out the files that do not pass, still descending into directories', async () => {
    const base = scratchDir('list-only');
    mkdirSync(path.join(base, 'a', 'b'), { recursive: true });
    writeFileSync(path.join(base, 'x.parquet'), bytes(1));
    writeFileSync(path.join(base, 'y.parquet'), bytes(2));
    writeFileSync(path.join(base, 'a', 'b', 'z.parquet'), bytes(3));
    const got: FileInfo[] = [];
    for await (const f of new LocalStorage().list(base, {
      recursive: true,
      only: (p) => !p.endsWith('y.parquet'),
    }))
      got.push(f);
    assert.deepEqual(
      got.map((f) => [path.relative(base, f.path), f.size]),
      [
        [path.join('a', 'b', 'z.parquet'), 3],
        ['x.parquet', 1],
      ],
    );
  });
});
