/**
 * Avro binary encoding primitives (Avro 1.11 specification, "Binary Encoding").
 *
 * Longs are `bigint` end to end: Iceberg snapshot ids and sequence numbers routinely exceed
 * 2^53, so a long must never be rounded through a JS number. Ints, floats and doubles are
 * numbers; bytes and fixed are `Uint8Array`; strings are UTF-8.
 *
 * {@link ByteReader} is a cursor over bytes that may be incomplete: running off the end throws
 * {@link NeedMoreBytes} (saying how many bytes would be needed), so a streaming reader can wait
 * for more input and retry. Malformed data throws {@link AvroDataError}. Both carry no file
 * name; the container layer turns them into {@link CorruptFileError}s that do.
 */

/** Thrown by {@link ByteReader} when the bytes end before the value does. */
export class NeedMoreBytes extends Error {
  /** Absolute offset in the reader's buffer up to which bytes must be present to go on. */
  readonly needed: number;
  constructor(needed: number) {
    super(`need bytes up to offset ${needed}`);
    this.name = 'NeedMoreBytes';
    this.needed = needed;
  }
}

/** Thrown by {@link ByteReader} for bytes that are not valid Avro (a bad varint, bad UTF-8...). */
export class AvroDataError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'AvroDataError';
  }
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
/** Longs in (-2^48, 2^48) zig-zag to below 2^49, which a double holds exactly. */
const FAST_LONG_LIMIT = 1n << 48n;

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** A read cursor over a byte range. */
export class ByteReader {
  /** The bytes read from. */
  buf: Uint8Array;
  /** The next byte to read. */
  pos: number;
  /** One past the last readable byte. */
  end: number;
  /**
   * Whether bytes and fixed values are copies (the default) or views into `buf`. Views save an
   * allocation per value, which matters for manifests' bounds maps; use them only over a buffer
   * nobody else writes to, and note that a kept value keeps the whole buffer alive.
   */
  readonly copyValues: boolean;
  private view: DataView | undefined;

  constructor(buf: Uint8Array, pos = 0, end = buf.length, copyValues = true) {
    this.copyValues = copyValues;
    // A Node Buffer's slice() is a view, not a copy, and values would come out as Buffers:
    // read through a plain Uint8Array view of the same memory instead.
    this.buf =
      buf.constructor === Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = pos;
    this.end = end;
  }

  /** Bytes left between the cursor and the end. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /**
   * A zig-zag varint long. The first 7 bytes (49 bits) accumulate in a double, which is exact
   * below 2^53; only longer encodings (|value| >= 2^48) switch to bigint arithmetic.
   */
  readLong(): bigint {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (pos >= end) throw new NeedMoreBytes(pos + 1);
      const b = buf[pos++]!;
      value += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = pos;
        return BigInt(value % 2 === 0 ? value / 2 : -(value + 1) / 2);
      }
      mul *= 128;
    }
    let big = BigInt(value);
    let shift = 49n;
    for (let i = 7; i < 10; i++) {
      if (pos >= end) throw new NeedMoreBytes(pos + 1);
      const b = buf[pos++]!;
      if (i === 9 && b > 1) throw new AvroDataError('varint long does not fit 64 bits');
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return (big >> 1n) ^ -(big & 1n);
      }
      shift += 7n;
    }
    throw new AvroDataError('varint long longer than 10 bytes');
  }

  /**
   * A zig-zag varint long used as a count, length or index (array and map block counts, byte
   * lengths, union branches): it must be a safe integer, so it is decoded without bigint.
   */
  readCount(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (pos >= end) throw new NeedMoreBytes(pos + 1);
      const b = buf[pos++]!;
      value += (b & 0x7f) * mul;
      if (value > Number.MAX_SAFE_INTEGER) break;
      if (b < 0x80) {
        this.pos = pos;
        return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      }
      mul *= 128;
    }
    throw new AvroDataError('count or length out of range');
  }

  /** A zig-zag varint int (32-bit). */
  readInt(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= end) throw new NeedMoreBytes(pos + 1);
      const b = buf[pos++]!;
      if (shift === 28 && b > 0x0f) throw new AvroDataError('varint int does not fit 32 bits');
      value |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return (value >>> 1) ^ -(value & 1);
      }
    }
    throw new AvroDataError('varint int longer than 5 bytes');
  }

  /** A boolean (one byte, 0 or 1). */
  readBoolean(): boolean {
    if (this.pos >= this.end) throw new NeedMoreBytes(this.pos + 1);
    const b = this.buf[this.pos++]!;
    if (b > 1) throw new AvroDataError(`bad boolean byte ${b}`);
    return b === 1;
  }

  /** A 4-byte little-endian IEEE 754 float. */
  readFloat(): number {
    this.need(4);
    const v = this.dataView().getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** An 8-byte little-endian IEEE 754 double. */
  readDouble(): number {
    this.need(8);
    const v = this.dataView().getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Length-prefixed bytes (a copy or a view, see {@link copyValues}). */
  readBytes(): Uint8Array {
    return this.readFixed(this.readLength());
  }

  /** A length-prefixed UTF-8 string. */
  readString(): string {
    const len = this.readLength();
    this.need(len);
    const buf = this.buf;
    const start = this.pos;
    const stop = start + len;
    this.pos = stop;
    // Short ASCII strings (most map keys and enum-like values) skip the TextDecoder call.
    if (len <= 32) {
      let s = '';
      for (let i = start; i < stop; i++) {
        const c = buf[i]!;
        if (c >= 0x80) return decodeUtf8(buf.subarray(start, stop));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return decodeUtf8(buf.subarray(start, stop));
  }

  /** `size` bytes of a fixed (a copy or a view, see {@link copyValues}). */
  readFixed(size: number): Uint8Array {
    this.need(size);
    const v = this.copyValues
      ? this.buf.slice(this.pos, this.pos + size)
      : this.buf.subarray(this.pos, this.pos + size);
    this.pos += size;
    return v;
  }

  /** `size` bytes as a view into the buffer (no copy). */
  readRaw(size: number): Uint8Array {
    this.need(size);
    const v = this.buf.subarray(this.pos, this.pos + size);
    this.pos += size;
    return v;
  }

  /** Throws {@link NeedMoreBytes} unless `n` more bytes are readable. */
  need(n: number): void {
    if (this.end - this.pos < n) throw new NeedMoreBytes(this.pos + n);
  }

  private readLength(): number {
    const len = this.readCount();
    if (len < 0) throw new AvroDataError(`negative length ${len}`);
    return len;
  }

  private dataView(): DataView {
    if (this.view === undefined || this.view.buffer !== this.buf.buffer) {
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    }
    // The view starts at the buffer's byteOffset, so positions index it directly.
    return this.view;
  }
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw new AvroDataError('string is not valid UTF-8');
  }
}

/** A growable byte buffer with Avro binary writers. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  /** Bytes written so far. */
  length = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const needed = this.length + n;
    if (needed <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < needed) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** A zig-zag varint long; `value` must be within the signed 64-bit range. */
  writeLong(value: bigint): void {
    if (value > -FAST_LONG_LIMIT && value < FAST_LONG_LIMIT) {
      const n = Number(value);
      this.writeVarNumber(n >= 0 ? n * 2 : -n * 2 - 1);
      return;
    }
    if (value < INT64_MIN || value > INT64_MAX) throw new RangeError(`${value} does not fit an Avro long`);
    let z = value >= 0n ? value << 1n : (-value << 1n) - 1n;
    this.ensure(10);
    const buf = this.buf;
    let pos = this.length;
    while (z >= 0x80n) {
      buf[pos++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    buf[pos++] = Number(z);
    this.length = pos;
  }

  /** A count, length or union index written as an Avro long (a safe integer). */
  writeCount(value: number): void {
    this.writeVarNumber(value >= 0 ? value * 2 : -value * 2 - 1);
  }

  /** A zig-zag varint int; `value` must be a 32-bit integer. */
  writeInt(value: number): void {
    if ((value | 0) !== value) throw new RangeError(`${value} does not fit an Avro int`);
    let z = ((value << 1) ^ (value >> 31)) >>> 0;
    this.ensure(5);
    const buf = this.buf;
    let pos = this.length;
    while (z >= 0x80) {
      buf[pos++] = (z & 0x7f) | 0x80;
      z >>>= 7;
    }
    buf[pos++] = z;
    this.length = pos;
  }

  /** A boolean byte. */
  writeBoolean(value: boolean): void {
    this.ensure(1);
    this.buf[this.length++] = value ? 1 : 0;
  }

  /** A 4-byte little-endian float. */
  writeFloat(value: number): void {
    this.ensure(4);
    this.view.setFloat32(this.length, value, true);
    this.length += 4;
  }

  /** An 8-byte little-endian double. */
  writeDouble(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  /** Length-prefixed bytes. */
  writeBytes(value: Uint8Array): void {
    this.writeCount(value.length);
    this.writeRaw(value);
  }

  /** A length-prefixed UTF-8 string. */
  writeString(value: string): void {
    const n = value.length;
    // ASCII strings (nearly all paths and keys) are written after their length as if they were:
    // short ones a char at a time, long ones (paths) by `encodeInto`, two to three times faster
    // than the loop there, and allocating nothing but a view. Anything else is encoded again.
    const mark = this.length;
    this.writeCount(n);
    if (n >= 32) {
      this.ensure(3 * n);
      const start = this.length;
      // n bytes for n UTF-16 units only when every one of them is ASCII.
      if (utf8Encoder.encodeInto(value, this.buf.subarray(start, start + 3 * n)).written === n) {
        this.length = start + n;
        return;
      }
      this.length = mark;
      this.writeBytes(utf8Encoder.encode(value));
      return;
    }
    this.ensure(n);
    const buf = this.buf;
    const start = this.length;
    let i = 0;
    for (; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) break;
      buf[start + i] = c;
    }
    if (i === n) {
      this.length = start + n;
      return;
    }
    this.length = mark;
    this.writeBytes(utf8Encoder.encode(value));
  }

  /** Bytes copied as they are (fixed values, encoded blocks). */
  writeRaw(value: Uint8Array): void {
    this.ensure(value.length);
    this.buf.set(value, this.length);
    this.length += value.length;
  }

  /** A view of the bytes written so far (valid until the next write or {@link reset}). */
  bytesView(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** Forgets the bytes written, keeping the capacity. */
  reset(): void {
    this.length = 0;
  }

  /** Unsigned varint of a non-negative integer below 2^53. */
  private writeVarNumber(z: number): void {
    this.ensure(10);
    const buf = this.buf;
    let pos = this.length;
    while (z >= 0x80) {
      buf[pos++] = (z % 0x80) | 0x80;
      z = Math.floor(z / 0x80);
    }
    buf[pos++] = z;
    this.length = pos;
  }
}
