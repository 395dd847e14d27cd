import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AvroDataError, ByteReader, ByteWriter, NeedMoreBytes } from '../../../src/avro/binary.ts';

const LONGS = [
  0n,
  1n,
  -1n,
  63n,
  -64n,
  64n,
  -65n,
  (1n << 31n) - 1n,
  -(1n << 31n),
  (1n << 48n) - 1n,
  1n << 48n,
  -(1n << 48n),
  -(1n << 48n) - 1n,
  (1n << 53n) + 1n,
  -(1n << 53n) - 1n,
  8_272_972_260_788_580_730n,
  (1n << 63n) - 1n,
  -(1n << 63n),
];

/** Reference zig-zag varint, computed with bigint only. */
function referenceVarint(v: bigint): number[] {
  let z = BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return out;
}

describe('Avro binary primitives', () => {
  it('encodes and decodes longs exactly as bigint, including beyond 2^53 and negative', () => {
    const w = new ByteWriter(4);
    for (const v of LONGS) w.writeLong(v);
    const bytes = w.toBytes();
    assert.deepEqual([...bytes], LONGS.flatMap(referenceVarint));
    const r = new ByteReader(bytes);
    for (const v of LONGS) assert.equal(r.readLong(), v);
    assert.equal(r.remaining, 0);
  });

  it('rejects longs outside 64 bits on both sides', () => {
    assert.throws(() => new ByteWriter().writeLong(1n << 63n), RangeError);
    assert.throws(() => new ByteWriter().writeLong(-(1n << 63n) - 1n), RangeError);
    const tooLong = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]);
    assert.throws(() => new ByteReader(tooLong).readLong(), AvroDataError);
  });

  it('encodes and decodes ints at the 32-bit limits', () => {
    const ints = [0, 1, -1, 127, -128, 2 ** 31 - 1, -(2 ** 31)];
    const w = new ByteWriter();
    for (const v of ints) w.writeInt(v);
    const r = new ByteReader(w.toBytes());
    for (const v of ints) assert.equal(r.readInt(), v);
    assert.throws(() => new ByteWriter().writeInt(2 ** 31), RangeError);
    // An int encoding is a long encoding of the same value.
    const lw = new ByteWriter();
    lw.writeLong(-(2n ** 31n));
    assert.equal(new ByteReader(lw.toBytes()).readInt(), -(2 ** 31));
  });

  it('round-trips floats, doubles, booleans, bytes and UTF-8 strings', () => {
    const w = new ByteWriter(1);
    w.writeFloat(1.5);
    w.writeDouble(-Math.PI);
    w.writeDouble(Number.NaN);
    w.writeBoolean(true);
    w.writeBoolean(false);
    w.writeBytes(Uint8Array.of(0, 255, 7));
    w.writeString('');
    w.writeString('s3://bucket/warehouse/db/t/data/00000-0.parquet');
    w.writeString('grüße ✓ 𝄞');
    w.writeString('x'.repeat(200));
    const r = new ByteReader(w.toBytes());
    assert.equal(r.readFloat(), 1.5);
    assert.equal(r.readDouble(), -Math.PI);
    assert.ok(Number.isNaN(r.readDouble()));
    assert.equal(r.readBoolean(), true);
    assert.equal(r.readBoolean(), false);
    assert.deepEqual(r.readBytes(), Uint8Array.of(0, 255, 7));
    assert.equal(r.readString(), '');
    assert.equal(r.readString(), 's3://bucket/warehouse/db/t/data/00000-0.parquet');
    assert.equal(r.readString(), 'grüße ✓ 𝄞');
    assert.equal(r.readString(), 'x'.repeat(200));
    assert.equal(r.remaining, 0);
  });

  it('writes strings of every length and kind as their UTF-8 bytes after the byte count', () => {
    // Short and long (the two ways a string is written), ASCII or not, the non-ASCII character
    // at the start, the middle or the end, a lone surrogate (written as U+FFFD, as TextEncoder does).
    const strings = [
      'a',
      'x'.repeat(31),
      'x'.repeat(32),
      `/${'d'.repeat(40)}/part=é/f.parquet`,
      `é${'x'.repeat(40)}`,
      `${'x'.repeat(40)}𝄞`,
      `${'x'.repeat(20)}\ud800${'y'.repeat(20)}`,
      '✓'.repeat(300),
    ];
    const w = new ByteWriter(1);
    for (const s of strings) w.writeString(s);
    const expected = new ByteWriter();
    for (const s of strings) expected.writeBytes(new TextEncoder().encode(s));
    assert.deepEqual(w.toBytes(), expected.toBytes());
    const r = new ByteReader(w.toBytes());
    for (const s of strings) assert.equal(r.readString(), s.replace('\ud800', '\ufffd'));
  });

  it('throws NeedMoreBytes with the offset needed when the bytes end early', () => {
    const w = new ByteWriter();
    w.writeString('hello');
    const bytes = w.toBytes();
    const r = new ByteReader(bytes, 0, 3);
    assert.throws(
      () => r.readString(),
      (err: unknown) => err instanceof NeedMoreBytes && err.needed === 6,
    );
    assert.throws(
      () => new ByteReader(Uint8Array.of(0x80)).readLong(),
      (err: unknown) => err instanceof NeedMoreBytes && err.needed === 2,
    );
  });

  it('rejects invalid UTF-8 and bad booleans', () => {
    assert.throws(() => new ByteReader(Uint8Array.of(4, 0xc3, 0x28)).readString(), AvroDataError);
    assert.throws(() => new ByteReader(Uint8Array.of(2)).readBoolean(), AvroDataError);
  });
});
