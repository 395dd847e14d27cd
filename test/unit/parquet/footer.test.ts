import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parquetMetadata } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { CorruptFileError, UnsupportedError } from '../../../src/errors.ts';
import { readParquetFooter } from '../../../src/parquet/footer.ts';
import { decodeStruct, encodeStruct } from '../../../src/parquet/thrift.ts';
import type { RangeReader } from '../../../src/storage/storage.ts';
import { bytesRangeReader } from '../../../src/storage/storage.ts';
import { impalaFixtures, repoRoot } from '../../helpers/paths.ts';
import { requireFixtures } from '../../helpers/requires.ts';

function walk(dir: string, pattern: RegExp, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, pattern, out);
    else if (pattern.test(name)) out.push(p);
  }
  return out;
}

const parquetFiles = walk(impalaFixtures, /\.(parquet|parq)$/);

/** A reader that records every range it is asked for. */
function spyReader(bytes: Uint8Array): RangeReader & { reads: [number, number][] } {
  const inner = bytesRangeReader(bytes);
  const reads: [number, number][] = [];
  return {
    size: inner.size,
    reads,
    read: (offset, length) => {
      reads.push([offset, length]);
      return inner.read(offset, length);
    },
  };
}

function le32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

describe('readParquetFooter over the Impala fixtures', requireFixtures(), () => {
  test('the fixture set is there', () => {
    assert.ok(parquetFiles.length >= 150, `found ${parquetFiles.length} Parquet files`);
    // No deliberately broken ("bad_*") Parquet files ship in this fixture set.
    assert.equal(parquetFiles.filter((f) => path.basename(f).startsWith('bad_')).length, 0);
  });

  test('every footer reads, matches hyparquet, and keeps raw statistics', async () => {
    const codecs = new Map<string, number>();
    for (const file of parquetFiles) {
      const bytes = new Uint8Array(readFileSync(file));
      const name = path.basename(file);
      const footer = await readParquetFooter(bytesRangeReader(bytes), name);
      const reference = parquetMetadata(bytes);
      assert.equal(footer.rowCount, reference.num_rows, name);
      assert.equal(
        footer.rowGroups.reduce((n, rg) => n + rg.rowCount, 0n),
        footer.rowCount,
        name,
      );
      assert.equal(footer.createdBy, reference.created_by);
      assert.deepEqual(
        footer.keyValueMetadata,
        (reference.key_value_metadata ?? []).map((kv) => ({ key: kv.key, value: kv.value })),
      );
      assert.deepEqual(
        footer.schema.map((e) => e.fieldId),
        reference.schema.map((e) => e.field_id),
      );
      assert.deepEqual(
        footer.splitOffsets,
        [...footer.splitOffsets].sort((a, b) => a - b),
      );
      assert.ok(footer.splitOffsets.every((o) => o >= 4 && o < bytes.length));
      footer.rowGroups.forEach((rg, g) => {
        rg.columns.forEach((c, i) => {
          const ref = reference.row_groups[g]!.columns[i]!.meta_data!;
          assert.deepEqual(c.path, ref.path_in_schema);
          assert.equal(c.codec, ref.codec);
          codecs.set(c.codec, (codecs.get(c.codec) ?? 0) + 1);
          assert.equal(BigInt(c.totalCompressedSize), ref.total_compressed_size);
          assert.equal(c.numValues, ref.num_values);
          const leaf = footer.schema.find((e) => e.type && e.path.join('.') === c.path.join('.'));
          assert.equal(c.fieldId, leaf?.fieldId, `${name} ${c.path.join('.')}`);
          const s = c.statistics;
          const rs = ref.statistics;
          if (!s || !rs) return;
          assert.equal(s.nullCount, rs.null_count);
          // Raw bytes agree with hyparquet's converted values where the conversion is exact.
          const refMin = rs.min_value ?? rs.min;
          if (s.min && c.type === 'INT64' && typeof refMin === 'bigint') {
            assert.equal(new DataView(s.min.buffer, s.min.byteOffset, 8).getBigInt64(0, true), refMin);
          }
          if (s.min && c.type === 'BYTE_ARRAY' && typeof refMin === 'string') {
            assert.equal(new TextDecoder().decode(s.min), refMin);
          }
        });
      });
    }
    // What the fixtures use; the rewrite tests rely on GZIP and SNAPPY being there.
    assert.ok(codecs.has('GZIP') && codecs.has('SNAPPY') && codecs.has('ZSTD'), [...codecs.keys()].join());
  });

  test('the Thrift codec re-encodes every footer byte for byte', () => {
    for (const file of parquetFiles) {
      const bytes = new Uint8Array(readFileSync(file));
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const length = view.getUint32(bytes.length - 8, true);
      const metadata = bytes.subarray(bytes.length - 8 - length, bytes.length - 8);
      const { value, end } = decodeStruct(metadata);
      assert.equal(end, metadata.length);
      assert.deepEqual(encodeStruct(value), metadata, path.basename(file));
    }
  });

  test('raw min/max prefer min_value/max_value and mark legacy fields', async () => {
    const file = parquetFiles.find((f) => f.includes('iceberg_v2_partitioned_position_deletes'))!;
    const footer = await readParquetFooter(bytesRangeReader(new Uint8Array(readFileSync(file))), 'f.parquet');
    const pathStats = footer.rowGroups[0]!.columns[0]!.statistics!;
    assert.equal(pathStats.legacyMinMax, false);
    assert.match(new TextDecoder().decode(pathStats.min), /^hdfs:\/\/localhost:20500\/test-warehouse\//);
    const pos = footer.rowGroups[0]!.columns[1]!;
    assert.equal(pos.fieldId, 2147483545);
    assert.equal(pos.statistics!.min!.length, 8);
  });
});

/** A small Parquet file of the golden corpus: the tests below need no fixtures. */
const smallFile = path.join(repoRoot, 'test', 'golden', 'position-deletes.parquet');

describe('readParquetFooter range reads', () => {
  test('a small file takes one tail read', async () => {
    const bytes = new Uint8Array(readFileSync(smallFile));
    const reader = spyReader(bytes);
    await readParquetFooter(reader, 'x.parquet');
    assert.equal(reader.reads.length, 1);
    assert.equal(reader.reads[0]![0] + reader.reads[0]![1], bytes.length);
  });

  test('a footer longer than the first tail is read exactly, second', async () => {
    const big = 'x'.repeat(100_000);
    const buffer = parquetWriteBuffer({
      columnData: [{ name: 'a', data: [1, 2, 3], type: 'INT32' }],
      kvMetadata: [{ key: 'big', value: big }],
    });
    const bytes = new Uint8Array(buffer);
    const reader = spyReader(bytes);
    const footer = await readParquetFooter(reader, 'big.parquet');
    assert.equal(footer.keyValueMetadata[0]?.value, big);
    assert.equal(reader.reads.length, 2);
    const [, [offset, length]] = reader.reads as [[number, number], [number, number]];
    assert.equal(offset, bytes.length - 8 - footer.metadataLength);
    assert.equal(length, footer.metadataLength);
  });
});

describe('readParquetFooter errors', () => {
  const good = new Uint8Array(readFileSync(smallFile));

  test('bad magic at end', async () => {
    await assert.rejects(
      readParquetFooter(bytesRangeReader(good.subarray(0, good.length - 3)), 'x.parquet'),
      (err: unknown) =>
        err instanceof CorruptFileError && err.message === 'x.parquet: not a Parquet file (bad magic at end)',
    );
  });

  test('metadata length beyond the file', async () => {
    const bytes = new Uint8Array(512);
    bytes.set(new TextEncoder().encode('PAR1'), 0);
    bytes.set(le32(9000), 504);
    bytes.set(new TextEncoder().encode('PAR1'), 508);
    await assert.rejects(
      readParquetFooter(bytesRangeReader(bytes), 'x.parquet'),
      (err: unknown) =>
        err instanceof CorruptFileError &&
        err.message === 'x.parquet: truncated footer (metadata length 9000 exceeds file size 512)',
    );
  });

  test('too small to be Parquet', async () => {
    await assert.rejects(
      readParquetFooter(bytesRangeReader(new TextEncoder().encode('PAR1PAR1')), 'x.parquet'),
      { message: 'x.parquet: not a Parquet file (8 bytes is too small)' },
    );
  });

  test('encrypted footer is unsupported', async () => {
    const bytes = good.slice();
    bytes.set(new TextEncoder().encode('PARE'), bytes.length - 4);
    await assert.rejects(
      readParquetFooter(bytesRangeReader(bytes), 'x.parquet'),
      (err: unknown) =>
        err instanceof UnsupportedError &&
        err.message === 'x.parquet: encrypted Parquet footer (PARE) is not supported',
    );
  });

  test('garbage footer', async () => {
    const bytes = new Uint8Array(64);
    bytes.set(new TextEncoder().encode('PAR1'), 0);
    bytes.fill(0xff, 4, 56);
    bytes.set(le32(40), 56);
    bytes.set(new TextEncoder().encode('PAR1'), 60);
    await assert.rejects(
      readParquetFooter(bytesRangeReader(bytes), 'x.parquet'),
      (err: unknown) =>
        err instanceof CorruptFileError && err.message.startsWith('x.parquet: corrupt footer ('),
    );
  });

  test('bad magic at start of a file read whole', async () => {
    const bytes = good.slice();
    bytes[0] = 0;
    await assert.rejects(readParquetFooter(bytesRangeReader(bytes), 'x.parquet'), {
      message: 'x.parquet: not a Parquet file (bad magic at start)',
    });
  });
});
