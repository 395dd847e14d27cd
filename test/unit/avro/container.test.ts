import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { ByteReader, ByteWriter } from '../../../src/avro/binary.ts';
import {
  type AvroProjection,
  type AvroRecord,
  AvroSpan,
  createAvroWriter,
  EncodedRecord,
  encodeAvroFile,
  encodeAvroStream,
  openAvroContainer,
  readAvroFile,
  replaceEncodedString,
} from '../../../src/avro/container.ts';
import { CorruptFileError, UnsupportedError } from '../../../src/errors.ts';
import { impalaFixtures, walk } from '../../helpers/paths.ts';
import { requireFixtures } from '../../helpers/requires.ts';

const fixtureFiles = walk(impalaFixtures, (p) => p.endsWith('.avro'));
const enc = new TextEncoder();

/** Splits bytes into chunks of the given sizes, cycling. */
async function* chunked(bytes: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let i = 0;
  for (let pos = 0; pos < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield bytes.subarray(pos, pos + n);
    pos += n;
  }
}

async function readStreamed(bytes: Uint8Array, name: string, sizes: readonly number[]) {
  const reader = await openAvroContainer(chunked(bytes, sizes), name);
  const records: AvroRecord[] = [];
  for await (const r of reader.records()) records.push(r);
  return {
    header: reader.header,
    records,
    blockRecordCounts: reader.blockRecordCounts,
    bytesRead: reader.bytesRead,
  };
}

const SCHEMA = {
  type: 'record',
  name: 'sample',
  namespace: 'test.ns',
  fields: [
    { name: 'id', type: 'long', 'field-id': 1 },
    { name: 'small', type: 'int' },
    { name: 'ratio', type: 'double' },
    { name: 'f', type: 'float' },
    { name: 'flag', type: 'boolean' },
    { name: 'path', type: 'string' },
    { name: 'blob', type: 'bytes' },
    { name: 'uuid', type: { type: 'fixed', name: 'uuid16', size: 16 } },
    { name: 'kind', type: { type: 'enum', name: 'kind', symbols: ['A', 'B', 'C'] } },
    { name: 'opt', type: ['null', 'long'], default: null },
    { name: 'multi', type: ['int', 'string', 'null', 'long'] },
    { name: 'offsets', type: { type: 'array', items: 'long' } },
    { name: 'props', type: { type: 'map', values: 'string' } },
    {
      name: 'bounds',
      type: [
        'null',
        {
          type: 'array',
          logicalType: 'map',
          items: {
            type: 'record',
            name: 'k1_v2',
            fields: [
              { name: 'key', type: 'int', 'field-id': 1 },
              { name: 'value', type: 'bytes', 'field-id': 2 },
            ],
          },
        },
      ],
    },
    { name: 'again', type: ['null', 'uuid16'] },
  ],
};

function sampleRecord(i: number): AvroRecord {
  const big = (1n << 62n) + BigInt(i) * 1_000_003n;
  return {
    id: i % 2 === 0 ? big : -big,
    small: i % 3 === 0 ? -(2 ** 31) : i,
    ratio: i / 7,
    f: 0.5,
    flag: i % 2 === 0,
    path: `s3://bucket/warehouse/db/t/data/part-${i}-ünïcode.parquet`,
    blob: Uint8Array.from({ length: i % 5 }, (_, k) => (k * 37 + i) & 0xff),
    uuid: new Uint8Array(16).fill(i & 0xff),
    kind: ['A', 'B', 'C'][i % 3]!,
    opt: i % 4 === 0 ? null : (1n << 53n) + BigInt(i),
    multi: [7, 'text', null, (1n << 60n) + 1n][i % 4]!,
    offsets: i % 3 === 0 ? [] : [4n, -(1n << 63n), (1n << 63n) - 1n],
    props: new Map(
      i % 2 === 0
        ? []
        : [
            ['k', 'v'],
            ['ключ', `${i}`],
          ],
    ),
    bounds:
      i % 5 === 0
        ? null
        : [
            { key: 1, value: Uint8Array.of(1, 2, 3) },
            { key: 2, value: new Uint8Array(0) },
          ],
    again: i % 2 === 0 ? null : new Uint8Array(16).fill(9),
  };
}

function syntheticMeta(codec: string, extra: [string, string][] = []): Map<string, Uint8Array> {
  const meta = new Map<string, Uint8Array>();
  meta.set('avro.schema', enc.encode(JSON.stringify(SCHEMA)));
  meta.set('avro.codec', enc.encode(codec));
  for (const [k, v] of extra) meta.set(k, enc.encode(v));
  return meta;
}

const SYNC = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);

/** A null-codec file with two blocks of 3 records each. */
function twoBlockFile(codec = 'null'): Uint8Array {
  const records = Array.from({ length: 6 }, (_, i) => sampleRecord(i));
  return encodeAvroFile({ meta: syntheticMeta(codec), sync: SYNC }, records, { blockRecords: 3 });
}

/** Offsets of each block frame: start, count, size, data start, sync start. */
function blockFrames(bytes: Uint8Array) {
  const { header } = readAvroFile(bytes, 'x.avro');
  const frames: { start: number; count: number; size: number; data: number; sync: number }[] = [];
  let pos = header.bytes.length;
  while (pos < bytes.length) {
    const r = new ByteReader(bytes, pos);
    const count = r.readCount();
    const size = r.readCount();
    frames.push({ start: pos, count, size, data: r.pos, sync: r.pos + size });
    pos = r.pos + size + 16;
  }
  return frames;
}

/** Checks both readers (whole-file and streaming) fail with exactly `message`. */
async function assertBothFail(bytes: Uint8Array, type: new (...a: never[]) => Error, message: string) {
  assert.throws(
    () => readAvroFile(bytes, 'x.avro'),
    (err: unknown) => {
      assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
      assert.equal(err.message, message);
      return true;
    },
  );
  await assert.rejects(readStreamed(bytes, 'x.avro', [7]), (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    assert.equal(err.message, message);
    return true;
  });
}

describe('Avro object container files', requireFixtures(), () => {
  it('finds the fixture manifests', () => {
    assert.ok(
      fixtureFiles.length >= 200,
      `expected the shared fixtures, found ${fixtureFiles.length} .avro files`,
    );
  });

  it('re-encodes every fixture file: header bytes identical, records equal, null codec byte-identical', () => {
    const codecs = new Map<string, number>();
    for (const file of fixtureFiles) {
      const bytes = new Uint8Array(readFileSync(file));
      const { header, records, blockRecordCounts } = readAvroFile(bytes, file);
      codecs.set(header.codec, (codecs.get(header.codec) ?? 0) + 1);
      assert.deepEqual(header.bytes, bytes.subarray(0, header.bytes.length), file);
      assert.equal(
        blockRecordCounts.reduce((a, b) => a + b, 0),
        records.length,
        file,
      );
      const out = encodeAvroFile(header, records, { blockSizes: blockRecordCounts });
      assert.deepEqual(out.subarray(0, header.bytes.length), header.bytes, `${file}: header bytes`);
      if (header.codec === 'null') {
        assert.ok(Buffer.from(out).equals(bytes), `${file}: null-codec output differs from the input`);
      }
      const again = readAvroFile(out, file);
      assert.deepEqual(again.records, records, file);
      assert.deepEqual(again.blockRecordCounts, blockRecordCounts, file);
      assert.equal(again.header.codec, header.codec, file);
    }
    assert.ok(
      (codecs.get('null') ?? 0) > 0 && (codecs.get('deflate') ?? 0) > 0,
      'fixtures cover null and deflate',
    );
  });

  it('streams every fixture file in small chunks to the same result as the whole-file reader', async () => {
    for (const file of fixtureFiles) {
      const bytes = new Uint8Array(readFileSync(file));
      const whole = readAvroFile(bytes, file);
      const streamed = await readStreamed(bytes, file, [1, 13, 512, 3]);
      assert.deepEqual(streamed.header, whole.header, file);
      assert.deepEqual(streamed.records, whole.records, file);
      assert.deepEqual(streamed.blockRecordCounts, whole.blockRecordCounts, file);
      assert.equal(streamed.bytesRead, bytes.length, file);
    }
  });

  it('streams a fixture file through the async writer to the same bytes', async () => {
    const file = fixtureFiles.find((f) => readAvroFile(readFileSync(f), f).header.codec === 'null')!;
    const bytes = new Uint8Array(readFileSync(file));
    const reader = await openAvroContainer(chunked(bytes, [100]), file);
    const chunks: Uint8Array[] = [];
    const { blockRecordCounts } = readAvroFile(bytes, file);
    const writer = createAvroWriter(
      reader.header,
      async (c) => {
        await new Promise((r) => setImmediate(r));
        chunks.push(c);
      },
      { blockSizes: blockRecordCounts },
    );
    for await (const r of reader.records()) await writer.write(r);
    await writer.close();
    assert.ok(Buffer.concat(chunks).equals(bytes));
    assert.equal(writer.bytesWritten, bytes.length);
  });

  it('encodes a record stream to the bytes the whole-file encoder writes, for every fixture file', async () => {
    for (const file of fixtureFiles) {
      const bytes = new Uint8Array(readFileSync(file));
      const reader = await openAvroContainer(chunked(bytes, [4096]), file);
      const chunks: Uint8Array[] = [];
      for await (const c of encodeAvroStream(reader.header, reader.records())) chunks.push(c);
      const whole = readAvroFile(bytes, file);
      assert.ok(Buffer.concat(chunks).equals(encodeAvroFile(whole.header, whole.records)), file);
    }
  });

  for (const codec of ['null', 'deflate', 'snappy', 'zstandard']) {
    it(`round-trips synthetic records with the ${codec} codec`, async () => {
      const records = Array.from({ length: 500 }, (_, i) => sampleRecord(i));
      const meta = syntheticMeta(codec, [
        ['format-version', '2'],
        ['iceberg.schema', '{"x":1}'],
      ]);
      const bytes = encodeAvroFile({ meta, sync: SYNC }, records, { blockBytes: 4096 });
      const file = readAvroFile(bytes, 'synthetic.avro');
      assert.equal(file.header.codec, codec);
      assert.deepEqual(
        [...file.header.meta.keys()],
        ['avro.schema', 'avro.codec', 'format-version', 'iceberg.schema'],
      );
      assert.deepEqual(file.header.meta, meta);
      assert.deepEqual(file.header.sync, SYNC);
      assert.ok(file.blockRecordCounts.length > 1, 'several blocks');
      assert.deepEqual(file.records, records);
      const streamed = await readStreamed(bytes, 'synthetic.avro', [333]);
      assert.deepEqual(streamed.records, records);
      // Same codec, same boundaries, same sync: identical bytes (one compressor on both sides).
      const again = encodeAvroFile(file.header, file.records, { blockSizes: file.blockRecordCounts });
      assert.ok(Buffer.from(again).equals(bytes));
    });
  }

  it('switches codec on request and updates avro.codec in place', () => {
    const records = Array.from({ length: 20 }, (_, i) => sampleRecord(i));
    const meta = syntheticMeta('null', [['k', 'v']]);
    const out = encodeAvroFile({ meta }, records, { codec: 'snappy' });
    const file = readAvroFile(out, 'x.avro');
    assert.equal(file.header.codec, 'snappy');
    assert.deepEqual([...file.header.meta.keys()], ['avro.schema', 'avro.codec', 'k']);
    assert.deepEqual(file.records, records);
  });

  it('follows a given sequence of block sizes, then the byte limit', () => {
    const records = Array.from({ length: 10 }, (_, i) => sampleRecord(i));
    const out = encodeAvroFile({ meta: syntheticMeta('null') }, records, {
      blockSizes: [1, 4, 2],
      blockRecords: 2,
    });
    assert.deepEqual(readAvroFile(out, 'x.avro').blockRecordCounts, [1, 4, 2, 2, 1]);
  });

  it('writes a header-only file for no records', async () => {
    const out = encodeAvroFile({ meta: syntheticMeta('deflate'), sync: SYNC }, []);
    const file = readAvroFile(out, 'empty.avro');
    assert.deepEqual(file.records, []);
    assert.deepEqual(file.blockRecordCounts, []);
    assert.equal(out.length, file.header.bytes.length);
    const chunks: Uint8Array[] = [];
    const w = createAvroWriter({ meta: syntheticMeta('deflate'), sync: SYNC }, (c) => {
      chunks.push(c);
    });
    await w.close();
    assert.ok(Buffer.concat(chunks).equals(out));
  });

  it('rejects a record that does not fit the schema, naming the field', () => {
    const bad = { ...sampleRecord(1), bounds: [{ key: 1, value: 'not bytes' }] } as unknown as AvroRecord;
    assert.throws(() => encodeAvroFile({ meta: syntheticMeta('null') }, [bad]), {
      name: 'AvroValueError',
      message: 'cannot encode bounds[0].value: expected bytes (Uint8Array), got string',
    });
  });

  describe('errors', () => {
    it('truncated inside a block', async () => {
      const bytes = twoBlockFile();
      const [, second] = blockFrames(bytes);
      const cut = bytes.subarray(0, second!.data + 10);
      await assertBothFail(
        cut,
        CorruptFileError,
        `x.avro: truncated Avro block 1 (expected ${second!.size} bytes, got 10)`,
      );
    });

    it('truncated inside a sync marker and inside a block header', async () => {
      const bytes = twoBlockFile();
      const [first, second] = blockFrames(bytes);
      await assertBothFail(
        bytes.subarray(0, first!.sync + 5),
        CorruptFileError,
        'x.avro: truncated Avro block 0 (expected a 16-byte sync marker, got 5)',
      );
      await assertBothFail(
        bytes.subarray(0, second!.start + 1),
        CorruptFileError,
        'x.avro: truncated Avro block 1 (incomplete block header)',
      );
    });

    it('truncated header and empty file', async () => {
      const bytes = twoBlockFile();
      await assertBothFail(
        bytes.subarray(0, 40),
        CorruptFileError,
        'x.avro: truncated Avro header (file has only 40 bytes)',
      );
      await assertBothFail(
        new Uint8Array(0),
        CorruptFileError,
        'x.avro: empty file (not an Avro object container file)',
      );
    });

    it('bad sync marker', async () => {
      const bytes = twoBlockFile().slice();
      const [first] = blockFrames(bytes);
      bytes[first!.sync + 15]! ^= 0xff;
      await assertBothFail(bytes, CorruptFileError, 'x.avro: bad sync marker after block 0');
    });

    it('unknown and unsupported codecs', async () => {
      for (const [codec, message] of [
        ['lz4', "x.avro: unknown Avro codec 'lz4'"],
        ['xz', "x.avro: unsupported Avro codec 'xz'"],
      ] as const) {
        // Write the header by hand: the writer refuses unknown codecs.
        const w = new ByteWriter();
        w.writeRaw(enc.encode('Obj\x01'));
        w.writeCount(2);
        w.writeString('avro.schema');
        w.writeBytes(enc.encode('"long"'));
        w.writeString('avro.codec');
        w.writeBytes(enc.encode(codec));
        w.writeCount(0);
        w.writeRaw(SYNC);
        await assertBothFail(w.toBytes(), UnsupportedError, message);
      }
      assert.throws(() => encodeAvroFile({ meta: syntheticMeta('lz4') }, []), {
        message: "unknown Avro codec 'lz4'",
      });
    });

    it('bad magic', async () => {
      const bytes = twoBlockFile().slice();
      bytes[3] = 2;
      await assertBothFail(bytes, CorruptFileError, 'x.avro: not an Avro object container file (bad magic)');
      await assertBothFail(
        enc.encode('PAR1'),
        CorruptFileError,
        'x.avro: not an Avro object container file (bad magic)',
      );
    });

    it('snappy CRC mismatch', async () => {
      const bytes = twoBlockFile('snappy').slice();
      const [first] = blockFrames(bytes);
      const crcAt = first!.sync - 4;
      const stored = new DataView(bytes.buffer, bytes.byteOffset).getUint32(crcAt, false);
      const raw = new ByteWriter();
      // The uncompressed block is the 3 records encoded without a codec.
      const plain = twoBlockFile('null');
      const [p0] = blockFrames(plain);
      raw.writeRaw(plain.subarray(p0!.data, p0!.sync));
      assert.equal(stored, crc32(raw.toBytes()));
      bytes[crcAt + 3]! ^= 0x01;
      const bad = (stored ^ 0x01) >>> 0;
      const hex = (n: number) => n.toString(16).padStart(8, '0');
      await assertBothFail(
        bytes,
        CorruptFileError,
        `x.avro: snappy CRC mismatch in Avro block 0 (stored ${hex(bad)}, computed ${hex(stored)})`,
      );
    });

    it('corrupt deflate data and records running past their block', async () => {
      const bytes = twoBlockFile('deflate').slice();
      const [first] = blockFrames(bytes);
      bytes.fill(0xff, first!.data, first!.data + 4);
      assert.throws(
        () => readAvroFile(bytes, 'x.avro'),
        (err: unknown) => {
          return (
            err instanceof CorruptFileError &&
            err.message.startsWith('x.avro: bad deflate data in Avro block 0: ')
          );
        },
      );
      // A null-codec block that claims one record more than it holds.
      const plain = twoBlockFile().slice();
      const [p0] = blockFrames(plain);
      assert.equal(plain[p0!.start], 6); // count 3, zig-zag
      plain[p0!.start] = 8;
      await assertBothFail(plain, CorruptFileError, 'x.avro: Avro block 0 ends inside record 3 of 4');
    });
  });
});

describe('projected decoding', () => {
  async function projected(bytes: Uint8Array, projection: AvroProjection): Promise<AvroRecord[]> {
    const reader = await openAvroContainer(chunked(bytes, [4096]), 'p.avro', { projection });
    const out: AvroRecord[] = [];
    for await (const r of reader.records()) out.push(r);
    return out;
  }

  it('decodes just the fields asked for, skipping every other type in between', async () => {
    const records = Array.from({ length: 40 }, (_, i) => sampleRecord(i));
    const bytes = encodeAvroFile({ meta: syntheticMeta('deflate'), sync: SYNC }, records, {
      blockRecords: 7,
    });
    const names = SCHEMA.fields.map((f) => f.name);
    for (const keep of [...names.map((n) => [n]), ['path', 'again'], ['id', 'bounds', 'kind'], []]) {
      const got = await projected(bytes, Object.fromEntries(keep.map((k) => [k, true as const])));
      assert.deepEqual(
        got,
        records.map((r) => Object.fromEntries(keep.map((k) => [k, r[k]]))),
        keep.join(','),
      );
    }
  });

  it('projects nested records, through unions, as a manifest presence check reads entries', async () => {
    const file = readFileSync(new URL('../../golden/manifest.avro', import.meta.url));
    const whole = readAvroFile(file, 'manifest.avro').records;
    const got = await projected(file, {
      status: true,
      data_file: { file_path: true, file_size_in_bytes: true, content: true },
    });
    assert.ok(whole.length > 0);
    assert.deepEqual(
      got,
      whole.map((e) => {
        const df = e.data_file as AvroRecord;
        return {
          status: e.status,
          data_file: {
            content: df.content,
            file_path: df.file_path,
            file_size_in_bytes: df.file_size_in_bytes,
          },
        };
      }),
    );
  });
});

describe('records with their bytes', () => {
  it('replacing one string in place encodes what decoding, changing and encoding again does', async () => {
    const records = Array.from({ length: 30 }, (_, i) => sampleRecord(i));
    const bytes = encodeAvroFile({ meta: syntheticMeta('deflate'), sync: SYNC }, records, {
      blockRecords: 4,
    });
    const reader = await openAvroContainer(chunked(bytes, [100, 4096]), 's.avro', {
      projection: { path: 'span', kind: true },
    });
    const spliced: EncodedRecord[] = [];
    for await (const { record, bytes: b, offset } of reader.encodedRecords()) {
      const span = record.path as unknown as AvroSpan;
      assert.ok(span instanceof AvroSpan);
      const longer = `/dr/site/${String(span.value)}-ü`;
      spliced.push(
        new EncodedRecord(replaceEncodedString(b, span.start - offset, span.end - offset, longer)),
      );
    }
    const header = { meta: syntheticMeta('deflate'), sync: SYNC };
    const expected = encodeAvroFile(
      header,
      records.map((r) => ({ ...r, path: `/dr/site/${String(r.path)}-ü` })),
      { blockRecords: 4 },
    );
    const chunks: Uint8Array[] = [];
    for await (const c of encodeAvroStream(header, spliced, { blockRecords: 4 })) chunks.push(c);
    assert.ok(Buffer.concat(chunks).equals(expected));
  });
});
