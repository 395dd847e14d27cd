import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { brotliCompressSync, crc32, gzipSync, zstdCompressSync } from 'node:zlib';
import type { CompressionCodec } from 'hyparquet';
import { parquetReadObjects, readColumnIndex, readOffsetIndex } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { CorruptFileError } from '../../../src/errors.ts';
import type { ParquetFooter } from '../../../src/parquet/footer.ts';
import { readParquetFooter } from '../../../src/parquet/footer.ts';
import {
  FILE_PATH_FIELD_ID,
  POS_FIELD_ID,
  rewritePositionDeleteFile,
} from '../../../src/parquet/position-deletes.ts';
import { decodeStruct } from '../../../src/parquet/thrift.ts';
import { bytesRangeReader } from '../../../src/storage/storage.ts';
import { impalaFixtures } from '../../helpers/paths.ts';
import { requireFixtures } from '../../helpers/requires.ts';

const FROM = 'hdfs://localhost:20500/test-warehouse/';
const TO = '/dr/warehouse/';
const mapPath = (p: string) => (p.startsWith(FROM) ? TO + p.slice(FROM.length) : p);

function walk(dir: string, pattern: RegExp, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, pattern, out);
    else if (pattern.test(name)) out.push(p);
  }
  return out;
}

const footerOf = (bytes: Uint8Array, name = 'f.parquet') => readParquetFooter(bytesRangeReader(bytes), name);

/** Position-delete fixtures, found by their schema: file_path and pos with Iceberg's field ids. */
const deleteFiles: { file: string; bytes: Uint8Array }[] = [];
for (const file of walk(impalaFixtures, /\.(parquet|parq)$/)) {
  const bytes = new Uint8Array(readFileSync(file));
  const footer = await footerOf(bytes);
  const ids = new Set(footer.schema.map((e) => e.fieldId));
  if (ids.has(FILE_PATH_FIELD_ID) && ids.has(POS_FIELD_ID)) deleteFiles.push({ file, bytes });
}

const readRows = (bytes: Uint8Array) =>
  parquetReadObjects({ file: bytes.slice().buffer, compressors, utf8: true }) as Promise<
    Record<string, unknown>[]
  >;

const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

function contains(haystack: Uint8Array, needle: string): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.length).includes(needle);
}

/** Checks one rewritten file against its input, structurally and value by value. */
async function checkRewrite(input: Uint8Array, output: Uint8Array, name: string): Promise<void> {
  const before = await footerOf(input, name);
  const after = await footerOf(output, name);
  const col = before.schema.filter((e) => e.type).findIndex((e) => e.fieldId === FILE_PATH_FIELD_ID);

  // Same shape and metadata.
  assert.equal(after.rowCount, before.rowCount);
  assert.deepEqual(
    after.rowGroups.map((rg) => rg.rowCount),
    before.rowGroups.map((rg) => rg.rowCount),
  );
  assert.deepEqual(after.schema, before.schema);
  assert.deepEqual(after.keyValueMetadata, before.keyValueMetadata);
  assert.equal(after.createdBy, before.createdBy);
  assert.equal(after.version, before.version);

  // Same values, paths mapped, nulls kept.
  const rowsBefore = await readRows(input);
  const rowsAfter = await readRows(output);
  assert.equal(rowsAfter.length, rowsBefore.length);
  const pathName = before.schema.find((e) => e.fieldId === FILE_PATH_FIELD_ID)!.name;
  rowsBefore.forEach((r, i) => {
    const expected = { ...r, [pathName]: r[pathName] == null ? r[pathName] : mapPath(r[pathName] as string) };
    assert.deepEqual(rowsAfter[i], expected, `${name} row ${i}`);
  });

  before.rowGroups.forEach((rg, g) => {
    const rgAfter = after.rowGroups[g]!;
    rg.columns.forEach((c, i) => {
      const ca = rgAfter.columns[i]!;
      assert.equal(ca.codec, c.codec);
      assert.deepEqual(ca.encodings, c.encodings);
      assert.equal(ca.numValues, c.numValues);
      assert.equal(ca.fieldId, c.fieldId);
      if (i === col) return;
      // Other chunks: byte-identical at their new place, same statistics.
      assert.deepEqual(
        output.subarray(ca.startOffset, ca.startOffset + ca.totalCompressedSize),
        input.subarray(c.startOffset, c.startOffset + c.totalCompressedSize),
      );
      assert.deepEqual(ca.statistics, c.statistics);
    });

    // file_path statistics: recomputed from the mapped values of this row group.
    const sa = rgAfter.columns[col]!.statistics;
    const sb = rg.columns[col]!.statistics;
    assert.equal(sa?.nullCount, sb?.nullCount);
    if (sb?.min) {
      assert.equal(text(sa?.min), mapPath(text(sb.min)!));
      assert.equal(text(sa?.max), mapPath(text(sb.max)!));
    }
  });
  checkPagesAndIndexes(
    output,
    after,
    col,
    rowsAfter.map((r) => r[pathName]),
  );
  assert.ok(!contains(output, FROM), `${name}: an old path remains in the output`);
}

/** Every page header parses, CRCs hold, offset indexes point at pages, column indexes bound them. */
function checkPagesAndIndexes(bytes: Uint8Array, footer: ParquetFooter, col: number, paths: unknown[]): void {
  const groupPaths: unknown[][] = [];
  let at = 0;
  for (const rg of footer.rowGroups) {
    groupPaths.push(paths.slice(at, at + Number(rg.rowCount)));
    at += Number(rg.rowCount);
  }
  const raw = decodeStruct(bytes.subarray(bytes.length - 8 - footer.metadataLength, bytes.length - 8)).value;
  footer.rowGroups.forEach((rg, g) => {
    const cc = raw.structs(4)[g]!.structs(1)[col]!;
    const chunk = rg.columns[col]!;
    const pageStarts: number[] = [];
    let pos = chunk.startOffset;
    while (pos < chunk.startOffset + chunk.totalCompressedSize) {
      const { value: header, end } = decodeStruct(bytes, pos);
      const size = header.int(3)!;
      const crc = header.int(4);
      if (crc !== undefined) assert.equal(crc32(bytes.subarray(end, end + size)) | 0, crc);
      if (header.int(1) !== 2) pageStarts.push(pos);
      pos = end + size;
    }
    assert.equal(pos, chunk.startOffset + chunk.totalCompressedSize);
    const oiOffset = cc.long(4);
    if (oiOffset !== undefined) {
      const start = Number(oiOffset);
      const oi = readOffsetIndex({
        view: new DataView(bytes.buffer, bytes.byteOffset + start, cc.int(5)!),
        offset: 0,
      });
      assert.deepEqual(
        oi.page_locations.map((l) => Number(l.offset)),
        pageStarts,
      );
    }
    const ciOffset = cc.long(6);
    if (ciOffset !== undefined && oiOffset !== undefined) {
      const oi = readOffsetIndex({
        view: new DataView(bytes.buffer, bytes.byteOffset + Number(oiOffset), cc.int(5)!),
        offset: 0,
      });
      const ci = readColumnIndex(
        { view: new DataView(bytes.buffer, bytes.byteOffset + Number(ciOffset), cc.int(7)!), offset: 0 },
        { type: 'BYTE_ARRAY', name: 'file_path' },
        { stringFromBytes: (b: Uint8Array) => b },
      );
      assert.equal(ci.null_pages.length, pageStarts.length);
      // Each page's bounds hold its mapped values (bounds may be truncated, so compare bytes).
      const firstRows = oi.page_locations.map((l) => Number(l.first_row_index));
      ci.null_pages.forEach((isNull, p) => {
        const values = groupPaths[g]!.slice(firstRows[p], firstRows[p + 1] ?? Number(rg.rowCount)).filter(
          (v): v is string => v != null,
        );
        if (isNull) {
          assert.equal(values.length, 0);
          return;
        }
        const min = ci.min_values[p] as unknown as Uint8Array;
        const max = ci.max_values[p] as unknown as Uint8Array;
        for (const v of values) {
          assert.ok(
            Buffer.compare(Buffer.from(min), Buffer.from(v)) <= 0,
            `page ${p} min ${text(min)} > ${v}`,
          );
          assert.ok(
            Buffer.compare(Buffer.from(max), Buffer.from(v)) >= 0,
            `page ${p} max ${text(max)} < ${v}`,
          );
        }
      });
    }
  });
}

describe('rewritePositionDeleteFile over the Impala fixtures', requireFixtures(), () => {
  test('finds the position-delete fixtures', () => {
    assert.ok(deleteFiles.length >= 18, `found ${deleteFiles.length}`);
  });

  for (const { file, bytes } of deleteFiles) {
    const name = path.relative(impalaFixtures, file);
    test(`rewrites ${name}`, async () => {
      const rows = await readRows(bytes);
      const paths = rows.map((r) => r.file_path).filter((p): p is string => typeof p === 'string');
      const result = await rewritePositionDeleteFile(bytes, mapPath, name);
      assert.equal(result.rowCount, BigInt(rows.length));
      if (paths.length === 0) {
        assert.equal(result.changed, false);
        assert.equal(result.bytes, bytes);
        assert.equal(result.minPath, undefined);
        return;
      }
      assert.equal(result.changed, true);
      const mapped = paths.map(mapPath).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.equal(result.minPath, mapped[0]);
      assert.equal(result.maxPath, mapped.at(-1));
      await checkRewrite(bytes, result.bytes, name);
    });

    test(`identity mapping keeps ${name} as it is`, async () => {
      let calls = 0;
      const result = await rewritePositionDeleteFile(
        bytes,
        (p) => {
          calls++;
          return p;
        },
        name,
      );
      assert.equal(result.changed, false);
      assert.equal(result.bytes, bytes);
      const distinct = new Set((await readRows(bytes)).map((r) => r.file_path).filter((p) => p != null));
      assert.equal(calls, distinct.size, 'mapPath runs once per distinct path');
    });
  }

  test('rejects a file that is not a position-delete file', async () => {
    const data = walk(impalaFixtures, /\.(parquet|parq)$/).find((f) => f.includes('iceberg_partitioned'))!;
    await assert.rejects(
      rewritePositionDeleteFile(new Uint8Array(readFileSync(data)), mapPath, 'd.parquet'),
      (err: unknown) =>
        err instanceof CorruptFileError &&
        err.message === 'd.parquet: not a position-delete file (no column with field id 2147483546)',
    );
  });
});

/** An LZ4 block of literals only: enough for hyparquet-writer to write LZ4_RAW in a test. */
function lz4Literals(data: Uint8Array): Uint8Array {
  const head: number[] = [];
  if (data.length < 15) head.push(data.length << 4);
  else {
    head.push(0xf0);
    let rest = data.length - 15;
    for (; rest >= 255; rest -= 255) head.push(255);
    head.push(rest);
  }
  return Uint8Array.from([...head, ...data]);
}

/** A position-delete file written by hyparquet-writer (data page v2), with Iceberg field ids. */
function syntheticDeleteFile(options: {
  codec: CompressionCodec;
  plain?: boolean;
  rows?: number;
  rowGroupSize?: number;
  pageSize?: number;
  bloom?: boolean;
}): Uint8Array {
  const n = options.rows ?? 300;
  const paths = Array.from(
    { length: n },
    (_, i) => `${FROM}db/t/data/part-${String(Math.floor(i / 7)).padStart(5, '0')}.parquet`,
  );
  const pos = Array.from({ length: n }, (_, i) => BigInt(i * 3));
  const buffer = parquetWriteBuffer({
    codec: options.codec,
    compressors: {
      GZIP: (b: Uint8Array) => gzipSync(b),
      ZSTD: (b: Uint8Array) => zstdCompressSync(b),
      BROTLI: (b: Uint8Array) => brotliCompressSync(b),
      LZ4_RAW: lz4Literals,
    } as never,
    rowGroupSize: options.rowGroupSize ?? 100,
    pageSize: options.pageSize ?? 1024,
    statisticsTruncateLength: Number.POSITIVE_INFINITY,
    kvMetadata: [{ key: 'delete-type', value: 'position' }],
    schema: [
      { name: 'table', num_children: 2 },
      {
        name: 'file_path',
        type: 'BYTE_ARRAY',
        converted_type: 'UTF8',
        repetition_type: 'REQUIRED',
        field_id: FILE_PATH_FIELD_ID,
      },
      { name: 'pos', type: 'INT64', repetition_type: 'REQUIRED', field_id: POS_FIELD_ID },
    ],
    columnData: [
      {
        name: 'file_path',
        data: paths,
        columnIndex: true,
        ...(options.plain && { encoding: 'PLAIN' as const }),
        ...(options.bloom && { bloomFilter: true }),
      },
      { name: 'pos', data: pos, columnIndex: true },
    ],
  });
  return new Uint8Array(buffer);
}

describe('rewritePositionDeleteFile on synthetic files', () => {
  const codecs: CompressionCodec[] = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'ZSTD', 'BROTLI', 'LZ4_RAW'];
  for (const codec of codecs) {
    for (const plain of [false, true]) {
      test(`${codec}, ${plain ? 'PLAIN' : 'dictionary'} pages, several row groups and pages`, async () => {
        const input = syntheticDeleteFile({ codec, plain });
        const before = await footerOf(input);
        assert.ok(before.rowGroups.every((rg) => rg.columns[0]!.codec === codec));
        const result = await rewritePositionDeleteFile(input, mapPath, 'synthetic.parquet');
        assert.equal(result.changed, true);
        await checkRewrite(input, result.bytes, 'synthetic.parquet');
      });
    }
  }

  test('drops a stale file_path bloom filter reference', async () => {
    const input = syntheticDeleteFile({ codec: 'SNAPPY', bloom: true });
    const result = await rewritePositionDeleteFile(input, mapPath, 'b.parquet');
    const after = await footerOf(result.bytes);
    for (const rg of after.metadata.row_groups) {
      assert.equal(rg.columns[0]!.meta_data!.bloom_filter_offset, undefined);
    }
    await checkRewrite(input, result.bytes, 'b.parquet');
  });

  test('a mapping that merges paths keeps bounds exact', async () => {
    const input = syntheticDeleteFile({ codec: 'SNAPPY' });
    const result = await rewritePositionDeleteFile(input, () => '/one/path.parquet', 'm.parquet');
    const after = await footerOf(result.bytes);
    for (const rg of after.rowGroups) {
      assert.equal(text(rg.columns[0]!.statistics!.min), '/one/path.parquet');
      assert.equal(text(rg.columns[0]!.statistics!.max), '/one/path.parquet');
    }
    const rows = await readRows(result.bytes);
    assert.ok(rows.every((r) => r.file_path === '/one/path.parquet'));
    assert.equal(result.minPath, '/one/path.parquet');
  });

  test('rejects corrupt and truncated input with clear errors', async () => {
    const input = syntheticDeleteFile({ codec: 'SNAPPY' });
    await assert.rejects(rewritePositionDeleteFile(input.subarray(0, 100), mapPath, 't.parquet'), {
      message: 't.parquet: not a Parquet file (bad magic at end)',
    });
  });
});

describe('inputs that are views into larger buffers', requireFixtures(), () => {
  test('a delete file inside a larger buffer (as Node pools small reads) rewrites the same', async () => {
    const { bytes, file } = deleteFiles[0]!;
    const pool = new Uint8Array(bytes.length + 4096);
    pool.fill(0x5a);
    pool.set(bytes, 1234);
    const view = Buffer.from(pool.buffer, 1234, bytes.length);
    const fromView = await rewritePositionDeleteFile(view, mapPath, file);
    const fromCopy = await rewritePositionDeleteFile(bytes, mapPath, file);
    assert.deepEqual(fromView.bytes, fromCopy.bytes);
  });
});
