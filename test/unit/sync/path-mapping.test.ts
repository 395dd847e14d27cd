import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidPathError,
  isUnderDir,
  normalizePath,
  PathMapper,
  parseMappingRule,
  pathKey,
  perDirectory,
  UnmappedPathError,
} from '../../../src/table/path-mapping.ts';

describe('path mapping', () => {
  it('normalises the spellings of one location', () => {
    const same = (a: string, b: string) => assert.deepEqual(normalizePath(a), normalizePath(b));
    same('hdfs://nn:8020/x/y', 'hdfs://nn/x/y/');
    same('s3a://bucket/k', 's3://bucket/k');
    same('s3n://bucket/k', 's3://bucket/k');
    same('file:/x/y', '/x/y');
    same('file:///x/y', '/x//y');
    assert.notDeepEqual(normalizePath('hdfs://nn:9000/x'), normalizePath('hdfs://nn/x'));
    assert.notDeepEqual(normalizePath('hdfs://a/x'), normalizePath('/x'));
  });

  it('gives one key per location, and tells what lies under a directory', () => {
    assert.equal(pathKey('file:///x/y'), pathKey('/x/y'));
    assert.equal(pathKey('s3a://b/k/'), pathKey('s3://b/k'));
    assert.notEqual(pathKey('hdfs://a/x'), pathKey('/x'));
    assert.ok(isUnderDir('s3a://b/x/y', 's3://b/x'));
    assert.ok(isUnderDir('file:/x/y', '/x/y'));
    assert.ok(!isUnderDir('/x/yz', '/x/y'));
    assert.ok(!isUnderDir('hdfs://nn/x/y', '/x'));
  });

  it('maps by the longest matching prefix and keeps the rest', () => {
    const m = new PathMapper([
      { source: 'hdfs://prod-nn:8020/warehouse', target: '/ifs/dr/warehouse' },
      { source: 'hdfs://prod-nn/warehouse/db/special', target: '/ifs/dr/special' },
      { source: 's3://prod', target: 's3://dr-bucket/copy/' },
    ]);
    assert.equal(
      m.map('hdfs://prod-nn/warehouse/db/t/data/a.parquet'),
      '/ifs/dr/warehouse/db/t/data/a.parquet',
    );
    assert.equal(m.map('hdfs://prod-nn:8020/warehouse/db/special/x'), '/ifs/dr/special/x');
    assert.equal(m.map('s3a://prod/t/f.avro'), 's3://dr-bucket/copy/t/f.avro');
    assert.equal(m.map('hdfs://prod-nn/warehouse'), '/ifs/dr/warehouse');
  });

  it('matches whole segments only', () => {
    const m = new PathMapper([{ source: '/test-warehouse', target: '/dr' }]);
    assert.throws(() => m.map('/test-warehouse2/x'), UnmappedPathError);
    assert.equal(m.map('/test-warehouse/x'), '/dr/x');
  });

  it('treats prefixes literally', () => {
    const m = new PathMapper([{ source: '/a.b/c*d', target: '/t' }]);
    assert.equal(m.map('/a.b/c*d/e'), '/t/e');
    assert.throws(() => m.map('/axb/ccd/e'), UnmappedPathError);
  });

  it('names file and field of an unmapped path', () => {
    const m = new PathMapper([{ source: '/a', target: '/b' }]);
    assert.throws(() => m.map('/elsewhere/x.parquet', { file: 'm0.avro', field: 'data_file.file_path' }), {
      message: "m0.avro: data_file.file_path '/elsewhere/x.parquet' matches no --map rule",
    });
    const lenient = new PathMapper([{ source: '/a', target: '/b' }], { allowUnmapped: true });
    assert.equal(lenient.map('/elsewhere/x'), '/elsewhere/x');
  });

  it('rejects . and .. segments', () => {
    const m = new PathMapper([{ source: '/a', target: '/b' }]);
    assert.throws(() => m.map('/a/../etc/passwd'), InvalidPathError);
    assert.throws(() => m.map('/a/./x'), InvalidPathError);
    assert.throws(() => new PathMapper([{ source: '/a', target: '/b/../c' }]), InvalidPathError);
  });

  it('maps the files of one directory alike, however often, and the edge cases as the rules say', () => {
    const m = new PathMapper([
      { source: 'hdfs://nn:8020/wh', target: '/dr/wh/' },
      { source: 'hdfs://nn/wh/t/data/special.parquet', target: '/elsewhere/special.parquet' },
      { source: 's3a://b', target: '/' },
    ]);
    for (let round = 0; round < 3; round++) {
      assert.equal(m.map('hdfs://nn/wh/t/data/a.parquet'), '/dr/wh/t/data/a.parquet');
      assert.equal(m.map('hdfs://nn:8020/wh/t/data//b.parquet'), '/dr/wh/t/data/b.parquet');
      assert.equal(m.map('hdfs://nn/wh/t/data/special.parquet'), '/elsewhere/special.parquet');
      assert.equal(m.map('hdfs://nn/wh/x.avro'), '/dr/wh/x.avro');
      assert.equal(m.map('hdfs://nn/wh/t/data/'), '/dr/wh/t/data/');
      assert.equal(m.map('s3://b/k.avro'), '/k.avro');
      assert.equal(m.map('s3://b/d/k.avro'), '/d/k.avro');
      assert.throws(() => m.map('hdfs://nn/wh/t/data/..'), InvalidPathError);
      assert.throws(() => m.map('hdfs://nn/wh/t/../data/a.parquet'), InvalidPathError);
      assert.throws(() => m.map('hdfs://other/wh/t/a.parquet'), UnmappedPathError);
      assert.equal(m.maps('hdfs://nn/wh/t/data/a.parquet'), true);
      assert.equal(m.maps('hdfs://other/wh/t/a.parquet'), false);
    }
    const lax = new PathMapper([{ source: '/a', target: '/b' }], { allowUnmapped: true });
    for (let round = 0; round < 2; round++) {
      assert.equal(lax.map('/c/x'), '/c/x');
      assert.equal(lax.map('/a/x'), '/b/x');
    }
  });

  it('parses SRC=DST rules', () => {
    assert.deepEqual(parseMappingRule('hdfs://nn/wh=/ifs/dr/wh'), {
      source: 'hdfs://nn/wh',
      target: '/ifs/dr/wh',
    });
    assert.deepEqual(parseMappingRule('/wh/t/dt=2024-01-01=/dr/t/dt=2024-01-01'), {
      source: '/wh/t/dt=2024-01-01',
      target: '/dr/t/dt=2024-01-01',
    });
    assert.throws(() => parseMappingRule('nonsense'), /not of the form SOURCE_PREFIX=TARGET_PREFIX/);
  });

  it('perDirectory answers as the test on the whole path, asking it once per directory', () => {
    const prefixes = ['hdfs://nn:8020/warehouse/db', 's3://bucket', '/ifs/dr'];
    const whole = (p: string) => prefixes.some((x) => isUnderDir(p, x));
    let asked = 0;
    const cached = perDirectory((p) => {
      asked++;
      return whole(p);
    }, prefixes);
    const paths = [
      'hdfs://nn:8020/warehouse/db/t/data/a.parquet',
      'hdfs://nn/warehouse/db/t/data/b.parquet', // the default port
      'hdfs://nn:8020/warehouse/db', // the prefix itself
      'hdfs://nn:8020/warehouse/dbx/c.parquet', // a sibling with the same start
      'hdfs://nn:8020/warehouse/other/db', // named as a prefix's last segment
      's3://bucket', // an authority alone
      's3://bucket/k', // directly below it
      's3a://bucket/x/y', // an alias of the scheme
      's3://other/x/y',
      '/ifs/dr',
      '/ifs/dr/x/y/z',
      '/ifs/drx/y',
      '/y',
      'relative/name',
      'hdfs://nn:8020/warehouse/db/t/../../../x/y',
    ];
    for (const p of paths) assert.equal(cached(p), whole(p), p);
    // 1,000 files of one directory: one question for all of them.
    asked = 0;
    for (let i = 0; i < 1000; i++) cached(`/ifs/dr/t/data/part=1/f${i}.parquet`);
    assert.equal(asked, 1);
  });
});
