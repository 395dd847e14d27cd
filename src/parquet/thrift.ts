/**
 * A lossless Thrift Compact Protocol codec for Parquet metadata structures.
 *
 * Parquet footers, page headers and page indexes are Thrift structs. Rewriting one field of
 * them must keep every other field as it was, including fields this code does not know and
 * their exact wire types (an i16 must not come back as an i32; an empty list keeps its element
 * type). So structs decode to a generic tree of (field id, wire type, value) and encode back
 * from it; callers edit only the fields they mean to change.
 */

/** Compact Protocol wire types. */
export const CompactType = {
  STOP: 0,
  BOOL_TRUE: 1,
  BOOL_FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;
export type CompactType = (typeof CompactType)[keyof typeof CompactType];

/** A decoded Thrift value. Integers up to i32 are numbers, i64 are bigints. */
export type ThriftValue = boolean | number | bigint | Uint8Array | ThriftList | ThriftMap | ThriftStruct;

/** A list or set, with its element wire type (kept for empty lists too). */
export interface ThriftList {
  readonly kind: 'list' | 'set';
  elemType: CompactType;
  items: ThriftValue[];
}

/** A map, with its key and value wire types. */
export interface ThriftMap {
  readonly kind: 'map';
  keyType: CompactType;
  valueType: CompactType;
  entries: [ThriftValue, ThriftValue][];
}

/** One field of a struct. Booleans are stored with type BOOL_TRUE whatever their value. */
export interface ThriftField {
  id: number;
  type: CompactType;
  value: ThriftValue;
}

/** A decoded struct: its fields in wire order, with typed accessors. */
export class ThriftStruct {
  readonly kind = 'struct';
  fields: ThriftField[];

  constructor(fields: ThriftField[] = []) {
    this.fields = fields;
  }

  /** The value of field `id`, or undefined. */
  get(id: number): ThriftValue | undefined {
    return this.fields.find((f) => f.id === id)?.value;
  }

  has(id: number): boolean {
    return this.fields.some((f) => f.id === id);
  }

  /** Sets field `id` (replacing it in place, or inserting it in id order). */
  set(id: number, type: CompactType, value: ThriftValue): this {
    const normalized = type === CompactType.BOOL_FALSE ? CompactType.BOOL_TRUE : type;
    const existing = this.fields.find((f) => f.id === id);
    if (existing) {
      existing.type = normalized;
      existing.value = value;
    } else {
      const at = this.fields.findIndex((f) => f.id > id);
      const field = { id, type: normalized, value };
      if (at < 0) this.fields.push(field);
      else this.fields.splice(at, 0, field);
    }
    return this;
  }

  delete(id: number): this {
    this.fields = this.fields.filter((f) => f.id !== id);
    return this;
  }

  /** Field `id` as a number (byte, i16, i32), or undefined when absent. */
  int(id: number): number | undefined {
    const v = this.get(id);
    if (v === undefined) return undefined;
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    throw new ThriftError(`thrift field ${id} is not an integer`);
  }

  /** Field `id` as a bigint (any integer type), or undefined when absent. */
  long(id: number): bigint | undefined {
    const v = this.get(id);
    if (v === undefined) return undefined;
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
    throw new ThriftError(`thrift field ${id} is not an integer`);
  }

  bool(id: number): boolean | undefined {
    const v = this.get(id);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') throw new ThriftError(`thrift field ${id} is not a bool`);
    return v;
  }

  binary(id: number): Uint8Array | undefined {
    const v = this.get(id);
    if (v === undefined) return undefined;
    if (!(v instanceof Uint8Array)) throw new ThriftError(`thrift field ${id} is not binary`);
    return v;
  }

  string(id: number): string | undefined {
    const b = this.binary(id);
    return b && new TextDecoder().decode(b);
  }

  struct(id: number): ThriftStruct | undefined {
    const v = this.get(id);
    if (v === undefined) return undefined;
    if (!(v instanceof ThriftStruct)) throw new ThriftError(`thrift field ${id} is not a struct`);
    return v;
  }

  list(id: number): ThriftList | undefined {
    const v = this.get(id);
    if (v === undefined) return undefined;
    if (!isList(v)) throw new ThriftError(`thrift field ${id} is not a list`);
    return v;
  }

  /** Field `id` as a list of structs (empty when absent). */
  structs(id: number): ThriftStruct[] {
    const l = this.list(id);
    if (!l) return [];
    return l.items.map((item) => {
      if (!(item instanceof ThriftStruct))
        throw new ThriftError(`thrift field ${id} is not a list of structs`);
      return item;
    });
  }
}

function isList(v: ThriftValue): v is ThriftList {
  return typeof v === 'object' && !(v instanceof Uint8Array) && (v.kind === 'list' || v.kind === 'set');
}

/** Builds a list value. */
export function thriftList(elemType: CompactType, items: ThriftValue[]): ThriftList {
  return { kind: 'list', elemType, items };
}

/** Thrown on malformed input; callers turn it into a CorruptFileError naming the file. */
export class ThriftError extends Error {}

const MAX_DEPTH = 64;

/** Decodes one struct from `bytes` at `offset`; returns it and the offset just after it. */
export function decodeStruct(bytes: Uint8Array, offset = 0): { value: ThriftStruct; end: number } {
  const r = new Reader(bytes, offset);
  const value = r.struct(0);
  return { value, end: r.pos };
}

class Reader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos: number;

  constructor(bytes: Uint8Array, pos: number) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = pos;
  }

  byte(): number {
    if (this.pos >= this.bytes.length) throw new ThriftError('thrift data ends early');
    return this.bytes[this.pos++]!;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new ThriftError('thrift varint too long');
    }
  }

  varint32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
      if (shift > 28) {
        const last = this.byte();
        if (last & 0xf0) throw new ThriftError('thrift varint too long');
        return (result | (last << 28)) >>> 0;
      }
    }
  }

  zigzag32(): number {
    const n = this.varint32();
    return (n >>> 1) ^ -(n & 1);
  }

  zigzag64(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  length(): number {
    const n = this.varint32();
    if (n > this.bytes.length - this.pos) throw new ThriftError(`thrift length ${n} exceeds the data left`);
    return n;
  }

  struct(depth: number): ThriftStruct {
    if (depth > MAX_DEPTH) throw new ThriftError('thrift nesting too deep');
    const fields: ThriftField[] = [];
    let lastId = 0;
    for (;;) {
      const header = this.byte();
      const type = (header & 0x0f) as CompactType;
      if (type === CompactType.STOP) return new ThriftStruct(fields);
      const delta = header >> 4;
      const id = delta ? lastId + delta : this.zigzag32();
      lastId = id;
      if (type === CompactType.BOOL_TRUE || type === CompactType.BOOL_FALSE) {
        fields.push({ id, type: CompactType.BOOL_TRUE, value: type === CompactType.BOOL_TRUE });
      } else {
        fields.push({ id, type, value: this.element(type, depth) });
      }
    }
  }

  element(type: CompactType, depth: number): ThriftValue {
    switch (type) {
      case CompactType.BOOL_TRUE:
      case CompactType.BOOL_FALSE:
        // Inside collections a bool is one byte; 1 means true.
        return this.byte() === 1;
      case CompactType.BYTE: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case CompactType.I16:
      case CompactType.I32:
        return this.zigzag32();
      case CompactType.I64:
        return this.zigzag64();
      case CompactType.DOUBLE: {
        if (this.pos + 8 > this.bytes.length) throw new ThriftError('thrift data ends early');
        const v = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case CompactType.BINARY: {
        const n = this.length();
        const v = this.bytes.subarray(this.pos, this.pos + n);
        this.pos += n;
        return v;
      }
      case CompactType.LIST:
      case CompactType.SET: {
        const header = this.byte();
        const elemType = (header & 0x0f) as CompactType;
        let size = header >> 4;
        if (size === 15) size = this.length();
        const items: ThriftValue[] = [];
        for (let i = 0; i < size; i++) items.push(this.element(elemType, depth + 1));
        return { kind: type === CompactType.SET ? 'set' : 'list', elemType, items };
      }
      case CompactType.MAP: {
        const size = this.length();
        const entries: [ThriftValue, ThriftValue][] = [];
        if (size === 0)
          return { kind: 'map', keyType: CompactType.BINARY, valueType: CompactType.BINARY, entries };
        const types = this.byte();
        const keyType = (types >> 4) as CompactType;
        const valueType = (types & 0x0f) as CompactType;
        for (let i = 0; i < size; i++) {
          entries.push([this.element(keyType, depth + 1), this.element(valueType, depth + 1)]);
        }
        return { kind: 'map', keyType, valueType, entries };
      }
      case CompactType.STRUCT:
        return this.struct(depth + 1);
      default:
        throw new ThriftError(`thrift unknown type ${type}`);
    }
  }
}

/** Encodes a struct. */
export function encodeStruct(value: ThriftStruct): Uint8Array {
  const w = new Writer();
  w.struct(value);
  return w.bytes();
}

class Writer {
  private buf = new Uint8Array(256);
  private len = 0;

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b & 0xff;
  }

  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  varint(v: bigint): void {
    let n = BigInt.asUintN(64, v);
    while (n >= 0x80n) {
      this.byte(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.byte(Number(n));
  }

  varint32(v: number): void {
    let n = v >>> 0;
    while (n >= 0x80) {
      this.byte((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    this.byte(n);
  }

  zigzag32(v: number): void {
    this.varint32((v << 1) ^ (v >> 31));
  }

  zigzag64(v: bigint): void {
    const n = BigInt.asIntN(64, v);
    this.varint((n << 1n) ^ (n >> 63n));
  }

  struct(s: ThriftStruct): void {
    let lastId = 0;
    for (const f of s.fields) {
      let type = f.type;
      if (type === CompactType.BOOL_TRUE || type === CompactType.BOOL_FALSE) {
        type = f.value === true ? CompactType.BOOL_TRUE : CompactType.BOOL_FALSE;
      }
      const delta = f.id - lastId;
      if (delta > 0 && delta <= 15) {
        this.byte((delta << 4) | type);
      } else {
        this.byte(type);
        this.zigzag32(f.id);
      }
      lastId = f.id;
      if (type !== CompactType.BOOL_TRUE && type !== CompactType.BOOL_FALSE) this.element(type, f.value);
    }
    this.byte(CompactType.STOP);
  }

  element(type: CompactType, v: ThriftValue): void {
    switch (type) {
      case CompactType.BOOL_TRUE:
      case CompactType.BOOL_FALSE:
        this.byte(v === true ? 1 : 2);
        return;
      case CompactType.BYTE:
        this.byte(num(v));
        return;
      case CompactType.I16:
      case CompactType.I32:
        this.zigzag32(num(v));
        return;
      case CompactType.I64:
        this.zigzag64(typeof v === 'bigint' ? v : BigInt(num(v)));
        return;
      case CompactType.DOUBLE: {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, num(v), true);
        this.raw(b);
        return;
      }
      case CompactType.BINARY: {
        if (!(v instanceof Uint8Array)) throw new TypeError('thrift binary value expected');
        this.varint32(v.length);
        this.raw(v);
        return;
      }
      case CompactType.LIST:
      case CompactType.SET: {
        if (typeof v !== 'object' || v instanceof Uint8Array || (v.kind !== 'list' && v.kind !== 'set')) {
          throw new TypeError('thrift list value expected');
        }
        if (v.items.length < 15) {
          this.byte((v.items.length << 4) | v.elemType);
        } else {
          this.byte(0xf0 | v.elemType);
          this.varint32(v.items.length);
        }
        for (const item of v.items) this.element(v.elemType, item);
        return;
      }
      case CompactType.MAP: {
        if (typeof v !== 'object' || v instanceof Uint8Array || v.kind !== 'map') {
          throw new TypeError('thrift map value expected');
        }
        this.varint32(v.entries.length);
        if (v.entries.length === 0) return;
        this.byte((v.keyType << 4) | v.valueType);
        for (const [k, val] of v.entries) {
          this.element(v.keyType, k);
          this.element(v.valueType, val);
        }
        return;
      }
      case CompactType.STRUCT:
        if (!(v instanceof ThriftStruct)) throw new TypeError('thrift struct value expected');
        this.struct(v);
        return;
      default:
        throw new TypeError(`thrift unknown type ${type}`);
    }
  }
}

function num(v: ThriftValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new TypeError('thrift integer value expected');
}
