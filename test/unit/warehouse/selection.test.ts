/** Which tables a run takes: include/exclude globs, and the deterministic --shard split. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../../src/errors.ts';
import { inShard, parseShard, shardOf, tableSelector } from '../../../src/warehouse/selection.ts';

describe('table selection', () => {
  it('takes a table matching an include and no exclude', () => {
    const s = tableSelector(['sales.*', 'web.clicks', '{fin,ops}.*'], ['*.tmp_*', 'sales.scratch']);
    assert.equal(s('sales.orders'), true);
    assert.equal(s('sales.tmp_1'), false);
    assert.equal(s('sales.scratch'), false);
    assert.equal(s('web.clicks'), true);
    assert.equal(s('web.views'), false);
    assert.equal(s('fin.ledger'), true);
    assert.equal(s('ops.a.b'), true, '* crosses the dots of nested namespaces');
    assert.equal(s('Sales.orders'), false, 'case-sensitive');
    assert.equal(tableSelector([], [])('any.thing'), true, 'no include means every table');
  });
});

describe('--shard', () => {
  it('parses i/n and refuses anything else', () => {
    assert.deepEqual(parseShard('2/4'), { index: 2, count: 4 });
    assert.deepEqual(parseShard(' 0 / 1 '), { index: 0, count: 1 });
    for (const bad of ['4/4', '1/0', '-1/3', 'a/b', '1', '1/2/3', '']) {
      assert.throws(() => parseShard(bad), ConfigError, bad);
    }
  });

  it('puts each table in exactly one shard, by its name alone', () => {
    const tables = Array.from({ length: 1000 }, (_, i) => `ns${i % 7}.table_${i}`);
    const sizes = [0, 0, 0, 0];
    for (const t of tables) {
      const owners = [0, 1, 2, 3].filter((index) => inShard(t, { index, count: 4 }));
      assert.equal(owners.length, 1, t);
      sizes[owners[0]!]!++;
    }
    // SHA-256 spreads names evenly: each shard holds a quarter, give or take a few percent.
    for (const n of sizes) assert.ok(n > 180 && n < 320, `shard sizes ${sizes}`);
    // The same name gives the same shard whatever else is listed, and in every process.
    assert.equal(shardOf('sales.orders', 4), shardOf('sales.orders', 4));
    assert.equal(inShard('x.y', undefined), true);
  });

  it('is stable across releases: known names keep their shards', () => {
    // Changing the hash would move tables between the workers of a running Indexed Job. The
    // expected shards are the first 8 bytes of SHA-256 (big-endian) modulo 16, as Python computes
    // them: int.from_bytes(hashlib.sha256(b'sales.orders').digest()[:8], 'big') % 16.
    assert.deepEqual(
      ['sales.orders', 'web.clicks', 'fin.ledger'].map((t) => shardOf(t, 16)),
      [5, 14, 5],
    );
  });
});
