/** Stats on worker threads answer as fs does: type, size and mtime, or the error code; many at once, in order. */
import assert from 'node:assert/strict';
import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { StatPool } from '../../../src/storage/local/stat-pool.ts';
import { scratchDir } from '../../helpers/paths.ts';

describe('StatPool', () => {
  it('stats and lstats files, directories, links and missing paths, a thousand at once', async () => {
    const base = scratchDir('stat-pool');
    mkdirSync(path.join(base, 'd'));
    for (let i = 0; i < 1000; i++) writeFileSync(path.join(base, 'd', `f${i}`), new Uint8Array(i % 17));
    symlinkSync(path.join(base, 'd', 'f3'), path.join(base, 'link'));
    const pool = new StatPool();
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
});
