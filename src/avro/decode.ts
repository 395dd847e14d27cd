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
function minEncodedSize(t: AvroType, seen = new Set<AvroType>()): number {
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
const MAX_ZERO_SIZE_ITEMS = 1 << 24;

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
