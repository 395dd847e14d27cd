/** The hashed string set remembers what was added, and only that, across growth. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HashedStringSet } from '../../../src/table/hashed-set.ts';

describe('HashedStringSet', () => {
  it('adds once, answers has, and keeps every string across growth', () => {
    const s = new HashedStringSet();
    const n = 200_000;
    const path = (i: number) => `s3://bucket/warehouse/db/t/data/dt=2024-01-${i % 31}/f-${i}.parquet`;
    for (let i = 0; i < n; i++) assert.equal(s.add(path(i)), true);
    assert.equal(s.size, n);
    for (let i = 0; i < n; i += 7) assert.equal(s.add(path(i)), false, path(i));
    for (let i = 0; i < n; i += 13) assert.equal(s.has(path(i)), true);
    let falsePositives = 0;
    for (let i = n; i < 2 * n; i++) if (s.has(path(i))) falsePositives++;
    assert.equal(falsePositives, 0);
    assert.equal(s.size, n);
    assert.equal(s.add(''), true);
    assert.equal(s.has(''), true);
    assert.equal(s.has('é'), false);
  });
});
