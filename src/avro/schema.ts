/**
 * Avro schemas: parsing a writer schema (the JSON in a container file's header) into a resolved
 * type graph, and compiling that graph into value decoders and encoders.
 *
 * Named types (records, enums, fixed) are resolved to the same object wherever they are
 * referenced, so recursive schemas form cycles. Logical types are ignored: a value decodes as its
 * underlying type (a decimal is bytes, a timestamp a long). Attributes this module does not
 * interpret — Iceberg's `field-id`, `element-id`, `key-id`, `value-id`, `logicalType: map` on
 * arrays of key/value records — are kept in each type's `json`, and the container keeps the
 * header's schema bytes verbatim, so nothing is lost by re-encoding.
 *
 * Decoded values: record → plain object (keys in field order), long → bigint, int/float/double
 * → number, bytes/fixed → Uint8Array, string and enum → string, array → array,
 * map → `Map<string, V>`, null → null, union → the bare value of its branch.
 */
import { CorruptFileError } from '../errors.ts';
import { AvroDataError, type ByteReader, type ByteWriter, NeedMoreBytes } from './binary.ts';

/** Names of the Avro primitive types. */
export type AvroPrimitiveName = 'null' | 'boolean' | 'int' | 'long' | 'float' | 'double' | 'bytes' | 'string';

/** A primitive type. `json` is the schema node it came from (a string or an object). */
export interface AvroPrimitiveType {
  readonly kind: AvroPrimitiveName;
  readonly json: unknown;
}

/** A field of a record. */
export interface AvroField {
  readonly name: string;
  readonly type: AvroType;
  /** The field's JSON object, with every attribute (`field-id`, `doc`, `default`...). */
  readonly json: Readonly<Record<string, unknown>>;
}

/** A record (or error) type. */
export interface AvroRecordType {
  readonly kind: 'record';
  /** Full name (namespace-qualified). */
  readonly name: string;
  readonly fields: readonly AvroField[];
  readonly json: Readonly<Record<string, unknown>>;
}

/** An enum type. */
export interface AvroEnumType {
  readonly kind: 'enum';
  readonly name: string;
  readonly symbols: readonly string[];
  readonly json: Readonly<Record<string, unknown>>;
}

/** A fixed type. */
export interface AvroFixedType {
  readonly kind: 'fixed';
  readonly name: string;
  readonly size: number;
  readonly json: Readonly<Record<string, unknown>>;
}

/** An array type. */
export interface AvroArrayType {
  readonly kind: 'array';
  readonly items: AvroType;
  readonly json: Readonly<Record<string, unknown>>;
}

/** A map type (string keys). */
export interface AvroMapType {
  readonly kind: 'map';
  readonly values: AvroType;
  readonly json: Readonly<Record<string, unknown>>;
}

/** A union type. */
export interface AvroUnionType {
  readonly kind: 'union';
  readonly branches: readonly AvroType[];
  readonly json: readonly unknown[];
}

/** A resolved Avro type. */
export type AvroType =
  | AvroPrimitiveType
  | AvroRecordType
  | AvroEnumType
  | AvroFixedType
  | AvroArrayType
  | AvroMapType
  | AvroUnionType;

/** A decoded Avro value (see the module comment for the mapping). */
export type AvroValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | AvroValue[]
  | Map<string, AvroValue>
  | AvroRecord;

/** A decoded record: field name → value, in schema field order. */
export interface AvroRecord {
  [field: string]: AvroValue;
}

const PRIMITIVES: ReadonlySet<string> = new Set([
  'null',
  'boolean',
  'int',
  'long',
  'float',
  'double',
  'bytes',
  'string',
]);

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class SchemaError extends Error {}

/**
 * Resolves a parsed schema JSON value into an {@link AvroType}.
 * @param json the schema as `JSON.parse` returns it.
 * @param fileName names the file in errors.
 * @throws CorruptFileError if the schema is not valid Avro.
 */
export function parseAvroSchema(json: unknown, fileName: string): AvroType {
  try {
    return new SchemaParser().parse(json, '');
  } catch (err) {
    if (err instanceof SchemaError) throw new CorruptFileError(fileName, `bad Avro schema: ${err.message}`);
    throw err;
  }
}

class SchemaParser {
  private readonly named = new Map<string, AvroType>();

  parse(json: unknown, ns: string): AvroType {
    if (typeof json === 'string') return this.reference(json, ns);
    if (Array.isArray(json)) {
      const branches = json.map((b) => this.parse(b, ns));
      if (branches.some((b) => b.kind === 'union')) throw new SchemaError('union directly inside a union');
      return { kind: 'union', branches, json };
    }
    if (!isObject(json)) throw new SchemaError(`unexpected schema node ${JSON.stringify(json)}`);
    const type = json.type;
    // {"type": <schema>} with a nested schema (or a named reference) is that schema, annotated.
    if (typeof type !== 'string' || !['record', 'error', 'enum', 'fixed', 'array', 'map'].includes(type)) {
      if (typeof type === 'string' && PRIMITIVES.has(type)) return { kind: type as AvroPrimitiveName, json };
      if (type === undefined) throw new SchemaError('schema object without "type"');
      return this.parse(type, ns);
    }
    switch (type) {
      case 'array':
        return { kind: 'array', items: this.parse(json.items, ns), json };
      case 'map':
        return { kind: 'map', values: this.parse(json.values, ns), json };
      case 'enum': {
        const name = this.define(json, ns);
        const symbols = json.symbols;
        if (!Array.isArray(symbols) || !symbols.every((s) => typeof s === 'string')) {
          throw new SchemaError(`enum ${name} has no symbol list`);
        }
        const t: AvroEnumType = { kind: 'enum', name, symbols, json };
        this.named.set(name, t);
        return t;
      }
      case 'fixed': {
        const name = this.define(json, ns);
        const size = json.size;
        if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
          throw new SchemaError(`fixed ${name} has no valid size`);
        }
        const t: AvroFixedType = { kind: 'fixed', name, size, json };
        this.named.set(name, t);
        return t;
      }
      default: {
        const name = this.define(json, ns);
        const fields: AvroField[] = [];
        const t: AvroRecordType = { kind: 'record', name, fields, json };
        // Registered before its fields so that they may refer back to it.
        this.named.set(name, t);
        const inner = namespaceOf(name);
        if (!Array.isArray(json.fields)) throw new SchemaError(`record ${name} has no field list`);
        for (const f of json.fields) {
          if (!isObject(f) || typeof f.name !== 'string')
            throw new SchemaError(`record ${name} has a bad field`);
          fields.push({ name: f.name, type: this.parse(f.type, inner), json: f });
        }
        return t;
      }
    }
  }

  private define(json: JsonObject, ns: string): string {
    const name = json.name;
    if (typeof name !== 'string' || name === '') throw new SchemaError(`${String(json.type)} without a name`);
    const space = typeof json.namespace === 'string' ? json.namespace : ns;
    const full = name.includes('.') || space === '' ? name : `${space}.${name}`;
    if (this.named.has(full)) throw new SchemaError(`type ${full} defined twice`);
    return full;
  }

  private reference(name: string, ns: string): AvroType {
    if (PRIMITIVES.has(name)) return { kind: name as AvroPrimitiveName, json: name };
    const t =
      (!name.includes('.') && ns !== '' ? this.named.get(`${ns}.${name}`) : undefined) ??
      this.named.get(name);
    if (t === undefined) throw new SchemaError(`unknown type '${name}'`);
    return t;
  }
}

function namespaceOf(fullName: string): string {
  const i = fullName.lastIndexOf('.');
  return i < 0 ? '' : fullName.slice(0, i);
}

/** Decodes one value from a reader. */
export type AvroDecoder = (r: ByteReader) => AvroValue;

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

/** A short name of a type for messages. */
export function typeName(t: AvroType): string {
  switch (t.kind) {
    case 'record':
    case 'enum':
    case 'fixed':
      return t.name;
    case 'array':
      return `array<${typeName(t.items)}>`;
    case 'map':
      return `map<${typeName(t.values)}>`;
    case 'union':
      return `[${t.branches.map(typeName).join(', ')}]`;
    default:
      return t.kind;
  }
}
