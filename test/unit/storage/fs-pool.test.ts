/**
 * Stats and reads on worker threads answer as fs does: type, size and mtime, or the error code;
 * the bytes of a range, fewer at the end of the file; many at once, in order.
 */
import assert from 'node:assert/strict';
import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { FsPool, POOL_READ_MAX } from '../../../src/storage/local/fs-pool.ts';
import { scratchDir } from '../../helpers/paths.ts';

describe('FsPool', () => {
  it('stats and lstats files, directories, links and missing paths, a thousand at once', async () => {
    const base = scratchDir('fs-pool');
    mkdirSync(path.join(base, 'd'));
    for (let i = 0; i < 1000; i++) writeFileSync(path.join(base, 'd', `f${i}`), new Uint8Array(i % 17));
    symlinkSync(path.join(base, 'd', 'f3'), path.join(base, 'link'));
    const pool = new FsPool();
    await pool.warm();
    try {
      const answers = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => pool.stat(path.join(base, 'd', `f${i}`), true)),
      );
      for (const [i, a] of answers.entries()) {
        assert.ok(!('error' in a));
        assert.deepEqual([a.type, a.size], ['file', i % 17]);
        assert.equal(a.mtimeMs, statSync(path.join(base, 'd', `f${i}`)).mtimeMs);
      }
      assert.equal(((await pool.stat(path.join(base, 'd'), true)) as { type: string }).type, 'directory');
      assert.equal(((await pool.stat(path.join(base, 'link'), true)) as { type: string }).type, 'symlink');
      assert.deepEqual(
        [((await pool.stat(path.join(base, 'link'), false)) as { type: string; size: number }).type],
        ['file'],
      );
      assert.deepEqual(await pool.stat(path.join(base, 'none'), true), { error: 'ENOENT' });
      assert.deepEqual(await pool.stat(path.join(base, 'd', 'f1', 'x'), false), { error: 'ENOTDIR' });
    } finally {
      await pool.close();
    }
  });

  it('reads ranges of many files at once, fewer bytes at the end, undefined for what fs must answer', async () => {
    const base = scratchDir('fs-pool-read');
    const bytesOf = (i: number) => Uint8Array.from({ length: 100 + i }, (_, k) => (k * 7 + i) & 0xff);
    for (let i = 0; i < 300; i++) writeFileSync(path.join(base, `f${i}`), bytesOf(i));
    mkdirSync(path.join(base, 'dir'));
    const pool = new FsPool();
    await pool.warm();
    try {
      // 300 reads asked in one turn: batched, each answered with its own bytes.
      const tails = await Promise.all(
        Array.from({ length: 300 }, (_, i) => pool.read(path.join(base, `f${i}`), 60 + i, 40)),
      );
      for (const [i, t] of tails.entries())
        assert.deepEqual(t, bytesOf(i).subarray(60 + i, 100 + i), `f${i}`);
      // Past the end: what there is; at the end: nothing.
      assert.deepEqual(await pool.read(path.join(base, 'f0'), 90, 50), bytesOf(0).subarray(90));
      assert.deepEqual(await pool.read(path.join(base, 'f0'), 100, 10), new Uint8Array(0));
      // A missing file, a directory and an over-large range are left to fs (and its error).
      assert.equal(await pool.read(path.join(base, 'none'), 0, 10), undefined);
      assert.equal(await pool.read(path.join(base, 'dir'), 0, 10), undefined);
      assert.equal(await pool.read(path.join(base, 'f1'), 0, POOL_READ_MAX + 1), undefined);
      // Answered alike with stats in the same turn.
      const [st, r] = await Promise.all([
        pool.stat(path.join(base, 'f2'), false),
        pool.read(path.join(base, 'f2'), 0, 5),
      ]);
      assert.deepEqual([(st as { size: number }).size, r], [102, bytesOf(2).subarray(0, 5)]);
    } finally {
      await pool.close();
    }
  });

  it('answers "not now" until its workers are online, and starts them once enough is asked', async () => {
    const base = scratchDir('fs-pool-cold');
    writeFileSync(path.join(base, 'f'), new Uint8Array(5));
    const f = path.join(base, 'f');
    const pool = new FsPool();
    try {
      // A few calls: no worker is started for them; the callers ask fs.
      assert.deepEqual(await pool.stat(f, false), { error: 'EWORKER' });
      assert.equal(await pool.read(f, 0, 5), undefined);
      // Enough asked: the workers start, and once one is online the answers are real.
      assert.deepEqual(
        await pool.statMany(
          Array.from({ length: 100 }, () => f),
          false,
        ),
        Array.from({ length: 100 }, () => ({ error: 'EWORKER' })),
      );
      let answer = await pool.stat(f, false);
      for (let i = 0; i < 400 && 'error' in answer; i++) {
        await new Promise((r) => setTimeout(r, 10));
        answer = await pool.stat(f, false);
      }
      assert.equal((answer as { size: number }).size, 5);
      assert.deepEqual(await pool.read(f, 1, 3), new Uint8Array(3));
    } finally {
      await pool.close();
    }
  });

  it('finds the paths unlike their sizes: wrong size, missing, a link, a directory; file: URIs read as paths', async () => {
    const base = scratchDir('fs-pool-unlike');
    mkdirSync(path.join(base, 'd'));
    for (let i = 0; i < 8; i++) writeFileSync(path.join(base, 'd', `f${i}`), new Uint8Array(i));
    symlinkSync(path.join(base, 'd', 'f3'), path.join(base, 'link'));
    const asked = [
      path.join(base, 'd', 'f1'), // 0: right size
      path.join(base, 'd', 'f2'), // 1: wrong size
      `file://${path.join(base, 'd', 'f4')}`, // 2: a file: URI of the right size
      `file:${path.join(base, 'd', 'f%35')}`, // 3: percent-encoded f5, any size
      path.join(base, 'link'), // 4: a link to a file of the right size
      path.join(base, 'd'), // 5: a directory
      path.join(base, 'none'), // 6: missing
      'file:/%E0%A4%A', // 7: not a URI
      path.join(base, 'd', 'f7'), // 8: any size
    ];
    const sizes = Float64Array.from([1, 3, 4, Number.NaN, 3, 0, 0, 0, Number.NaN]);
    const pool = new FsPool();
    await pool.warm();
    try {
      const list = { utf8: new TextEncoder().encode(asked.join('\0')), count: asked.length };
      const found = await pool.findUnlike(list, sizes);
      assert.deepEqual(
        found?.map((u) => [u.index, u.path]),
        [1, 4, 5, 6, 7].map((i) => [i, asked[i]]),
      );
      assert.equal(list.utf8.byteLength, 0, 'the paths were moved to the worker, not copied');
      // A view of Node's pool of small Buffers is copied, not moved: the pool stays whole.
      const small = Buffer.from(asked[0]!);
      const neighbour = Buffer.from('kept');
      assert.deepEqual(await pool.findUnlike({ utf8: small, count: 1 }, Float64Array.of(1)), []);
      assert.equal(small.toString(), asked[0]);
      assert.equal(neighbour.toString(), 'kept');
      assert.deepEqual(await pool.findUnlike({ utf8: new Uint8Array(0), count: 0 }, sizes), []);
    } finally {
      await pool.close();
    }
  });
});
