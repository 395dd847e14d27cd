/**
 * Value encoders compiled from a resolved Avro type graph. A JS value that does not fit its type
 * raises {@link AvroValueError} naming where in the record it sits.
 */
import type { ByteWriter } from './binary.ts';
import { type AvroType, typeName } from './schema.ts';

/** Encodes one value to a writer; throws {@link AvroValueError} for a value that does not fit. */
export type AvroEncoder = (w: ByteWriter, v: unknown) => void;

/** A JS value that does not fit the Avro type it is written as. `path` locates it in the record. */
export class AvroValueError extends TypeError {
  /** Field names (and `[i]` array indices, `["k"]` map keys) from the top-level record down to the bad value. */
  readonly path: string[] = [];
  /** What is wrong, without the path. */
  readonly detail: string;
  constructor(detail: string) {
    super(detail);
    this.name = 'AvroValueError';
    this.detail = detail;
  }
  /** Prepends a field name to the path (called while the error unwinds). */
  within(field: string): this {
    this.path.unshift(field);
    const where = this.path.map((p, i) => (i === 0 || p.startsWith('[') ? p : `.${p}`)).join('');
    this.message = `cannot encode ${where}: ${this.detail}`;
    return this;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  if (v instanceof Map) return 'Map';
  return typeof v;
}

function mismatch(expected: string, v: unknown): AvroValueError {
  return new AvroValueError(`expected ${expected}, got ${describe(v)}`);
}

/** Compiles an encoder for `t`. */
export function createEncoder(t: AvroType): AvroEncoder {
  return compileEncoder(t, new Map());
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Whether the JS value `v` can be written as `t` (to pick a union branch). */
function fits(t: AvroType, v: unknown): boolean {
  switch (t.kind) {
    case 'null':
      return v === null || v === undefined;
    case 'boolean':
      return typeof v === 'boolean';
    case 'int':
      return typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX;
    case 'long':
      return (typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX) || Number.isSafeInteger(v);
    case 'float':
    case 'double':
      return typeof v === 'number';
    case 'bytes':
      return v instanceof Uint8Array;
    case 'fixed':
      return v instanceof Uint8Array && v.length === t.size;
    case 'string':
      return typeof v === 'string';
    case 'enum':
      return typeof v === 'string' && t.symbols.includes(v);
    case 'array':
      return Array.isArray(v);
    case 'map':
      return v instanceof Map;
    case 'record': {
      if (!isPlainRecord(v)) return false;
      return t.fields.every((f) => f.name in v || fits(f.type, null));
    }
    case 'union':
      return t.branches.some((b) => fits(b, v));
  }
}

function isPlainRecord(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Uint8Array) &&
    !(v instanceof Map)
  );
}

function compileEncoder(t: AvroType, cache: Map<AvroType, AvroEncoder>): AvroEncoder {
  switch (t.kind) {
    case 'null':
      return (_w, v) => {
        if (v !== null && v !== undefined) throw mismatch('null', v);
      };
    case 'boolean':
      return (w, v) => {
        if (typeof v !== 'boolean') throw mismatch('boolean', v);
        w.writeBoolean(v);
      };
    case 'int':
      return (w, v) => {
        if (typeof v !== 'number' || (v | 0) !== v) throw mismatch('int (32-bit integer number)', v);
        w.writeInt(v);
      };
    case 'long':
      return (w, v) => {
        if (typeof v === 'bigint') {
          if (v < INT64_MIN || v > INT64_MAX) throw new AvroValueError(`${v} does not fit an Avro long`);
          w.writeLong(v);
        } else if (Number.isSafeInteger(v)) {
          w.writeLong(BigInt(v as number));
        } else {
          throw mismatch('long (bigint)', v);
        }
      };
    case 'float':
      return (w, v) => {
        if (typeof v !== 'number') throw mismatch('float (number)', v);
        w.writeFloat(v);
      };
    case 'double':
      return (w, v) => {
        if (typeof v !== 'number') throw mismatch('double (number)', v);
        w.writeDouble(v);
      };
    case 'bytes':
      return (w, v) => {
        if (!(v instanceof Uint8Array)) throw mismatch('bytes (Uint8Array)', v);
        w.writeBytes(v);
      };
    case 'string':
      return (w, v) => {
        if (typeof v !== 'string') throw mismatch('string', v);
        w.writeString(v);
      };
    case 'fixed': {
      const size = t.size;
      return (w, v) => {
        if (!(v instanceof Uint8Array) || v.length !== size) throw mismatch(`fixed(${size}) Uint8Array`, v);
        w.writeRaw(v);
      };
    }
    case 'enum': {
      const index = new Map(t.symbols.map((s, i) => [s, i]));
      return (w, v) => {
        const i = typeof v === 'string' ? index.get(v) : undefined;
        if (i === undefined) throw mismatch(`a symbol of enum ${t.name}`, v);
        w.writeInt(i);
      };
    }
    case 'array': {
      const item = compileEncoder(t.items, cache);
      // One block holding every item, then the end marker: what Java's encoders write.
      return (w, v) => {
        if (!Array.isArray(v)) throw mismatch('array', v);
        if (v.length > 0) {
          w.writeCount(v.length);
          let i = 0;
          try {
            for (; i < v.length; i++) item(w, v[i]);
          } catch (err) {
            if (err instanceof AvroValueError) throw err.within(`[${i}]`);
            throw err;
          }
        }
        w.writeCount(0);
      };
    }
    case 'map': {
      const value = compileEncoder(t.values, cache);
      return (w, v) => {
        if (!(v instanceof Map)) throw mismatch('map (Map)', v);
        if (v.size > 0) {
          w.writeCount(v.size);
          for (const [k, x] of v) {
            if (typeof k !== 'string') throw mismatch('string map key', k);
            w.writeString(k);
            try {
              value(w, x);
            } catch (err) {
              if (err instanceof AvroValueError) throw err.within(`[${JSON.stringify(k)}]`);
              throw err;
            }
          }
        }
        w.writeCount(0);
      };
    }
    case 'union': {
      const branches = t.branches;
      const encoders = branches.map((b) => compileEncoder(b, cache));
      const nullIndex = branches.findIndex((b) => b.kind === 'null');
      // Iceberg's ["null", X]: no need to test which branch fits.
      if (branches.length === 2 && nullIndex >= 0) {
        const other = 1 - nullIndex;
        const enc = encoders[other]!;
        return (w, v) => {
          if (v === null || v === undefined) {
            w.writeCount(nullIndex);
          } else {
            w.writeCount(other);
            enc(w, v);
          }
        };
      }
      return (w, v) => {
        const i = v === null || v === undefined ? nullIndex : branches.findIndex((b) => fits(b, v));
        if (i < 0) throw mismatch(`one of [${branches.map((b) => typeName(b)).join(', ')}]`, v);
        w.writeCount(i);
        encoders[i]!(w, v);
      };
    }
    case 'record': {
      const cached = cache.get(t);
      if (cached) return cached;
      let impl: AvroEncoder | undefined;
      cache.set(t, (w, v) => impl!(w, v));
      const names = t.fields.map((f) => f.name);
      const encoders = t.fields.map((f) => compileEncoder(f.type, cache));
      const count = names.length;
      impl = (w, v) => {
        if (!isPlainRecord(v)) throw mismatch(`record ${t.name} (object)`, v);
        let i = 0;
        try {
          for (; i < count; i++) encoders[i]!(w, v[names[i]!]);
        } catch (err) {
          if (err instanceof AvroValueError) throw err.within(names[i]!);
          throw err;
        }
      };
      cache.set(t, impl);
      return impl;
    }
  }
}
