/**
 * The scheme facts path mapping reads (storage/schemes.ts, light enough for worker threads) are
 * the registry's descriptors' own, backend by backend, in the registry's order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { STORAGE_BACKENDS } from '../../../src/storage/registry.ts';
import { STORAGE_SCHEMES } from '../../../src/storage/schemes.ts';
import { normalizePath } from '../../../src/table/path-mapping.ts';

describe('STORAGE_SCHEMES', () => {
  it("is every backend's schemes, the same entries in the registry's order", () => {
    const fromRegistry = STORAGE_BACKENDS.flatMap((b) => b.schemes);
    assert.equal(STORAGE_SCHEMES.length, fromRegistry.length);
    for (const [i, s] of STORAGE_SCHEMES.entries())
      assert.equal(s, fromRegistry[i], `entry ${i} (${s.scheme})`);
  });

  it('gives path mapping its spellings, default ports and authority rules', () => {
    assert.deepEqual(normalizePath('s3a://b/k/x'), normalizePath('s3://b/k/x'));
    assert.deepEqual(normalizePath('file:///x/y'), normalizePath('/x/y'));
    assert.deepEqual(normalizePath('hdfs://nn:8020/w'), normalizePath('hdfs://nn/w'));
    assert.notDeepEqual(normalizePath('webhdfs://nn:8020/w'), normalizePath('webhdfs://nn/w'));
    assert.deepEqual(
      normalizePath('wasbs://c@acct.blob.core.windows.net/x'),
      normalizePath('abfss://c@acct.dfs.core.windows.net/x'),
    );
  });
});
