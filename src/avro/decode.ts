/**
 * Value decoders compiled from a resolved Avro type graph (see `schema.ts` for the values they
 * return). Array and map block counts are checked against the bytes left before anything is
 * allocated, so a corrupt count cannot make a decoder allocate what it claims.
 */
import { AvroDataError, type ByteReader, NeedMoreBytes } from './binary.ts';
import type { AvroRecord, AvroType, AvroValue } from './schema.ts';

/** Decodes one value from a reader. */
export type AvroDecoder = (r: ByteReader) => AvroValue;

/** Smallest possible encoded size of a value of `t`, to reject absurd array/map counts early. */
export function minEncodedSize(t: AvroType, seen = new Set<AvroType>()): number {
  switch (t.kind) {
    case 'null':
      return 0;
    case 'float':
      return 4;
    case 'double':
      return 8;
    case 'fixed':
      return t.size;
    case 'record': {
      if (seen.has(t)) return 0;
      seen.add(t);
      let n = 0;
      for (const f of t.fields) n += minEncodedSize(f.type, seen);
      seen.delete(t);
      return n;
    }
    default:
      return 1;
  }
}

/** Upper bound on items of a zero-size type (null, empty record) in one array or map block. */
export const MAX_ZERO_SIZE_ITEMS = 1 << 24;

function readBlockCount(r: ByteReader, itemSize: number): number {
  let count = r.readCount();
  if (count < 0) {
    // A negative count is followed by the block's byte size, which we do not need.
    count = -count;
    r.readCount();
  }
  if (itemSize > 0 ? count * itemSize > r.remaining : count > MAX_ZERO_SIZE_ITEMS) {
    throw new NeedMoreBytes(r.pos + count * Math.max(itemSize, 1));
  }
  return count;
}

/**
 * Compiles a decoder for `t`. Decoders throw {@link NeedMoreBytes} when the data ends early and
 * {@link AvroDataError} when it is malformed.
 */
export function createDecoder(t: AvroType): AvroDecoder {
  return compileDecoder(t, new Map());
}

function compileDecoder(t: AvroType, cache: Map<AvroType, AvroDecoder>): AvroDecoder {
  switch (t.kind) {
    case 'null':
      return () => null;
    case 'boolean':
      return (r) => r.readBoolean();
    case 'int':
      return (r) => r.readInt();
    case 'long':
      return (r) => r.readLong();
    case 'float':
      return (r) => r.readFloat();
    case 'double':
      return (r) => r.readDouble();
    case 'bytes':
      return (r) => r.readBytes();
    case 'string':
      return (r) => r.readString();
    case 'fixed': {
      const size = t.size;
      return (r) => r.readFixed(size);
    }
    case 'enum': {
      const symbols = t.symbols;
      return (r) => {
        const i = r.readInt();
        const s = symbols[i];
        if (s === undefined) throw new AvroDataError(`bad enum index ${i} for ${t.name}`);
        return s;
      };
    }
    case 'array': {
      const item = compileDecoder(t.items, cache);
      const itemSize = minEncodedSize(t.items);
      return (r) => {
        const out: AvroValue[] = [];
        for (let n = readBlockCount(r, itemSize); n !== 0; n = readBlockCount(r, itemSize)) {
          for (let i = 0; i < n; i++) out.push(item(r));
        }
        return out;
      };
    }
    case 'map': {
      const value = compileDecoder(t.values, cache);
      const itemSize = 1 + minEncodedSize(t.values);
      return (r) => {
        const out = new Map<string, AvroValue>();
        for (let n = readBlockCount(r, itemSize); n !== 0; n = readBlockCount(r, itemSize)) {
          for (let i = 0; i < n; i++) {
            const k = r.readString();
            out.set(k, value(r));
          }
        }
        return out;
      };
    }
    case 'union': {
      const branches = t.branches.map((b) => compileDecoder(b, cache));
      const n = branches.length;
      return (r) => {
        const i = r.readCount();
        const branch = branches[i];
        if (branch === undefined) throw new AvroDataError(`bad union branch ${i} (union has ${n} branches)`);
        return branch(r);
      };
    }
    case 'record': {
      const cached = cache.get(t);
      if (cached) return cached;
      let impl: AvroDecoder | undefined;
      // Recursive references reach the record through this indirection.
      cache.set(t, (r) => impl!(r));
      const names = t.fields.map((f) => f.name);
      const decoders = t.fields.map((f) => compileDecoder(f.type, cache));
      const count = names.length;
      const hasProto = names.includes('__proto__');
      impl = (r) => {
        const o: AvroRecord = {};
        for (let i = 0; i < count; i++) {
          const name = names[i]!;
          const v = decoders[i]!(r);
          if (hasProto && name === '__proto__') {
            Object.defineProperty(o, name, {
              value: v,
              enumerable: true,
              writable: true,
              configurable: true,
            });
          } else {
            o[name] = v;
          }
        }
        return o;
      };
      cache.set(t, impl);
      return impl;
    }
  }
}

/**
 * Fields to decode, by name: `true` for the whole value, or the projection of a record (or of
 * the record branch of a union) for some of its fields. Every other field is skipped over
 * without building a value: how a reader that needs a few fields of each record (a presence
 * check needs paths and sizes, not metrics) avoids the cost of the rest.
 */
export interface AvroProjection {
  readonly [field: string]: true | 'span' | AvroProjection;
}

/**
 * A value decoded under a `'span'` projection: the value, and where its encoding starts and ends
 * in the decoded block (so that a writer can replace just those bytes).
 */
export class AvroSpan {
  readonly value: AvroValue;
  readonly start: number;
  readonly end: number;
  constructor(value: AvroValue, start: number, end: number) {
    this.value = value;
    this.start = start;
    this.end = end;
  }
}

/** Skips one value of a type (moves the cursor past it, building nothing). */
type AvroSkipper = (r: ByteReader) => void;

function skipVarint(r: ByteReader): void {
  const buf = r.buf;
  let pos = r.pos;
  for (let i = 0; i < 10; i++) {
    if (pos >= r.end) throw new NeedMoreBytes(pos + 1);
    if (buf[pos++]! < 0x80) {
      r.pos = pos;
      return;
    }
  }
  throw new AvroDataError('varint longer than 10 bytes');
}

function skipBytes(r: ByteReader, n: number): void {
  if (n < 0) throw new AvroDataError(`negative length ${n}`);
  r.need(n);
  r.pos += n;
}

function compileSkipper(t: AvroType, cache: Map<AvroType, AvroSkipper>): AvroSkipper {
  switch (t.kind) {
    case 'null':
      return () => {};
    case 'boolean':
      return (r) => skipBytes(r, 1);
    case 'int':
    case 'long':
    case 'enum':
      return skipVarint;
    case 'float':
      return (r) => skipBytes(r, 4);
    case 'double':
      return (r) => skipBytes(r, 8);
    case 'bytes':
    case 'string':
      return (r) => skipBytes(r, r.readCount());
    case 'fixed': {
      const size = t.size;
      return (r) => skipBytes(r, size);
    }
    case 'array':
    case 'map': {
      const isMap = t.kind === 'map';
      const item = compileSkipper(t.kind === 'map' ? t.values : t.items, cache);
      const itemSize = t.kind === 'map' ? 1 + minEncodedSize(t.values) : minEncodedSize(t.items);
      return (r) => {
        for (;;) {
          let n = r.readCount();
          if (n === 0) return;
          if (n < 0) {
            // A negative count comes with the block's byte size: skip the block whole.
            skipBytes(r, r.readCount());
            continue;
          }
          if (itemSize > 0 ? n * itemSize > r.remaining : n > MAX_ZERO_SIZE_ITEMS) {
            throw new NeedMoreBytes(r.pos + n * Math.max(itemSize, 1));
          }
          for (; n > 0; n--) {
            if (isMap) skipBytes(r, r.readCount());
            item(r);
          }
        }
      };
    }
    case 'union': {
      const branches = t.branches.map((b) => compileSkipper(b, cache));
      return (r) => {
        const i = r.readCount();
        const branch = branches[i];
        if (branch === undefined)
          throw new AvroDataError(`bad union branch ${i} (union has ${branches.length} branches)`);
        branch(r);
      };
    }
    case 'record': {
      const cached = cache.get(t);
      if (cached) return cached;
      let impl: AvroSkipper | undefined;
      cache.set(t, (r) => impl!(r));
      const fields = t.fields.map((f) => compileSkipper(f.type, cache));
      impl = (r) => {
        for (const f of fields) f(r);
      };
      cache.set(t, impl);
      return impl;
    }
  }
}

/**
 * Compiles a decoder for `t` that decodes only the projected fields of its records (see
 * {@link AvroProjection}) and skips the rest; the record values hold the projected fields only.
 */
export function createProjectedDecoder(t: AvroType, projection: AvroProjection): AvroDecoder {
  return compileProjected(t, projection, new Map(), new Map());
}

function compileProjected(
  t: AvroType,
  projection: AvroProjection,
  decoders: Map<AvroType, AvroDecoder>,
  skippers: Map<AvroType, AvroSkipper>,
): AvroDecoder {
  if (t.kind === 'union') {
    const branches = t.branches.map((b) => compileProjected(b, projection, decoders, skippers));
    return (r) => {
      const i = r.readCount();
      const branch = branches[i];
      if (branch === undefined)
        throw new AvroDataError(`bad union branch ${i} (union has ${branches.length} branches)`);
      return branch(r);
    };
  }
  if (t.kind !== 'record') return compileDecoder(t, decoders);
  const parts = t.fields.map((f) => {
    const p = Object.hasOwn(projection, f.name) ? projection[f.name] : undefined;
    if (p === undefined) return { name: undefined, skip: compileSkipper(f.type, skippers) };
    let decode: AvroDecoder;
    if (p === 'span') {
      const d = compileDecoder(f.type, decoders);
      decode = (r) => {
        const start = r.pos;
        const value = d(r);
        return new AvroSpan(value, start, r.pos) as unknown as AvroValue;
      };
    } else
      decode =
        p === true ? compileDecoder(f.type, decoders) : compileProjected(f.type, p, decoders, skippers);
    return { name: f.name, decode };
  });
  return (r) => {
    const o: AvroRecord = {};
    for (const part of parts) {
      if (part.name === undefined) part.skip!(r);
      else if (part.name === '__proto__')
        Object.defineProperty(o, part.name, {
          value: part.decode!(r),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else o[part.name] = part.decode!(r);
    }
    return o;
  };
}
