/**
 * Iceberg values of primitive types: their in-memory form here, ordering, and the spec's
 * single-value binary serialization (used for column bounds and partition summaries).
 *
 * In memory: boolean → boolean; int, date → number; long, time, timestamp* → bigint (microseconds,
 * or nanoseconds for `*_ns`); float, double → number; decimal → bigint (the unscaled value);
 * string → string; binary, fixed, uuid → Uint8Array.
 */
import { decimalOf, type PrimitiveType } from './schema.ts';

export type IcebergValue = boolean | number | bigint | string | Uint8Array;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Unsigned lexicographic order of byte strings (also the code point order of UTF-8 text). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Iceberg's order of two values of the same type (strings by code point, not UTF-16 unit). */
export function compareValues(a: IcebergValue, b: IcebergValue): number {
  if (typeof a === 'string' && typeof b === 'string') return compareBytes(utf8.encode(a), utf8.encode(b));
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compareBytes(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'number' && typeof b === 'number') {
    if (a === 0 && b === 0) return Number(Object.is(b, -0)) - Number(Object.is(a, -0)); // -0 < +0, as Java's Double.compare
    return a < b ? -1 : a > b ? 1 : 0;
  }
  throw new TypeError(`cannot compare ${typeof a} with ${typeof b}`);
}

/** Minimal big-endian two's-complement bytes of an integer (Java's BigInteger.toByteArray). */
export function bigintToTwosComplement(v: bigint): Uint8Array {
  const bytes: number[] = [];
  let x = v;
  for (;;) {
    const b = Number(x & 0xffn);
    bytes.unshift(b);
    x >>= 8n;
    if ((x === 0n && (b & 0x80) === 0) || (x === -1n && (b & 0x80) !== 0)) break;
  }
  return Uint8Array.from(bytes);
}

/** The integer of big-endian two's-complement bytes. */
export function twosComplementToBigint(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  if ((bytes[0] as number) & 0x80) v -= 1n << BigInt(bytes.length * 8);
  return v;
}

/** Big-endian two's-complement bytes of `v` sign-extended to `size` bytes (Avro decimal fixed). */
export function bigintToFixed(v: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = v;
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** Bytes needed to hold any unscaled value of a decimal of `precision` digits. */
export function decimalRequiredBytes(precision: number): number {
  let bytes = 1;
  while (2n ** BigInt(8 * bytes - 1) < 10n ** BigInt(precision)) bytes++;
  return bytes;
}

/** The spec's single-value serialization of `v` as `type`. */
export function serializeValue(type: PrimitiveType, v: IcebergValue): Uint8Array {
  switch (type) {
    case 'boolean':
      return Uint8Array.of(v ? 1 : 0);
    case 'int':
    case 'date': {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setInt32(0, v as number, true);
      return out;
    }
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz':
    case 'timestamp_ns':
    case 'timestamptz_ns': {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setBigInt64(0, BigInt(v as bigint | number), true);
      return out;
    }
    case 'float': {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setFloat32(0, v as number, true);
      return out;
    }
    case 'double': {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setFloat64(0, v as number, true);
      return out;
    }
    case 'string':
      return utf8.encode(v as string);
    default:
      if (decimalOf(type)) return bigintToTwosComplement(v as bigint);
      if (v instanceof Uint8Array) return v;
      throw new TypeError(`cannot serialize a ${typeof v} as ${type}`);
  }
}

/** Decodes UTF-8 strictly; `undefined` for invalid bytes. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The first `length` code points of `s`: a valid lower bound of every string it prefixes. */
export function truncateStringMin(s: string, length: number): string {
  const cps = Array.from(s);
  return cps.length <= length ? s : cps.slice(0, length).join('');
}

/**
 * An upper bound of `s` at most `length` code points long: the prefix with its last code point
 * incremented (dropping code points that cannot be), or `undefined` when there is none.
 */
export function truncateStringMax(s: string, length: number): string | undefined {
  const cps = Array.from(s);
  if (cps.length <= length) return s;
  const prefix = cps.slice(0, length).map((c) => c.codePointAt(0) as number);
  for (let i = prefix.length - 1; i >= 0; i--) {
    let next = (prefix[i] as number) + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000; // surrogates are not code points of text
    if (next <= 0x10ffff) {
      return String.fromCodePoint(...prefix.slice(0, i), next);
    }
  }
  return undefined;
}

/** The first `length` bytes of `b`. */
export function truncateBinaryMin(b: Uint8Array, length: number): Uint8Array {
  return b.length <= length ? b : b.slice(0, length);
}

/** An upper bound of `b` at most `length` bytes long, or `undefined` when there is none. */
export function truncateBinaryMax(b: Uint8Array, length: number): Uint8Array | undefined {
  if (b.length <= length) return b;
  const out = b.slice(0, length);
  for (let i = out.length - 1; i >= 0; i--) {
    if ((out[i] as number) < 0xff) {
      out[i] = (out[i] as number) + 1;
      return out.slice(0, i + 1);
    }
  }
  return undefined;
}
