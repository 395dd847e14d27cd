/**
 * Mutations of real inputs for the decoder fuzz tests, as fast-check arbitraries: bit flips,
 * byte writes, truncation, insertion, deletion, splicing (a range of the input copied over or
 * into another place), length-field tampering (a little- or big-endian integer or an Avro/Thrift
 * varint overwritten with a boundary value) and JSON structural mutations (a member removed,
 * duplicated or retyped, values replaced by boundary values, deep nesting).
 *
 * A mutation is plain data, so fast-check can print and shrink it, and applying it is a pure
 * function of the input: the same seed always makes the same bytes.
 */
import fc from 'fast-check';
import { isJsonObject, JsonDecimal, type JsonValue, parseJson, stringifyJson } from '../../src/util/json.ts';

/** Where in the input a position points: anywhere, near the start, or near the end. */
type Region = 'any' | 'head' | 'tail';
interface Pos {
  readonly region: Region;
  readonly n: number;
}

/** One byte-level mutation. */
export type ByteMutation =
  | { readonly op: 'flip'; readonly at: Pos; readonly bit: number }
  | { readonly op: 'set'; readonly at: Pos; readonly value: number }
  | { readonly op: 'truncate'; readonly at: Pos }
  | { readonly op: 'insert'; readonly at: Pos; readonly bytes: Uint8Array }
  | { readonly op: 'delete'; readonly at: Pos; readonly length: number }
  | {
      readonly op: 'splice';
      readonly from: Pos;
      readonly to: Pos;
      readonly length: number;
      readonly insert: boolean;
    }
  | {
      readonly op: 'int';
      readonly at: Pos;
      readonly width: 1 | 2 | 4 | 8;
      readonly littleEndian: boolean;
      readonly value: bigint;
    }
  | { readonly op: 'varint'; readonly at: Pos; readonly value: bigint };

/** Boundary values for length and offset fields (plus the input's own length, see below). */
const BOUNDARY: readonly bigint[] = [
  0n,
  1n,
  -1n,
  2n,
  7n,
  127n,
  128n,
  255n,
  256n,
  0x7fffn,
  0x8000n,
  0xffffn,
  0x7fffffffn,
  -0x80000000n,
  0xffffffffn,
  1n << 32n,
  (1n << 53n) - 1n,
  1n << 53n,
  (1n << 63n) - 1n,
  -(1n << 63n),
];
/** Markers resolved against the input: its length, one less, one more. */
const LEN = 1n << 100n;
const LEN_MINUS = LEN + 1n;
const LEN_PLUS = LEN + 2n;

const pos: fc.Arbitrary<Pos> = fc.record({
  region: fc.constantFrom<Region>('any', 'any', 'head', 'tail', 'tail'),
  n: fc.nat(),
});

const boundary = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...BOUNDARY, LEN, LEN_MINUS, LEN_PLUS) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }) },
);

/** Arbitrary byte mutations, weighted towards the kinds that reach deep into a decoder. */
export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('flip' as const), at: pos, bit: fc.integer({ min: 0, max: 7 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      at: pos,
      value: fc.integer({ min: 0, max: 255 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: pos }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      at: pos,
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('delete' as const),
      at: pos,
      length: fc.integer({ min: 1, max: 64 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('splice' as const),
      from: pos,
      to: pos,
      length: fc.integer({ min: 1, max: 256 }),
      insert: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('int' as const),
      at: pos,
      width: fc.constantFrom<1 | 2 | 4 | 8>(1, 2, 4, 4, 8),
      littleEndian: fc.boolean(),
      value: boundary,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('varint' as const), at: pos, value: boundary }) },
);

/** One to four byte mutations applied in order. */
export const byteMutations: fc.Arbitrary<ByteMutation[]> = fc.array(byteMutation, {
  minLength: 1,
  maxLength: 4,
});

function resolve(p: Pos, length: number): number {
  if (length === 0) return 0;
  switch (p.region) {
    case 'head':
      return p.n % Math.min(length, 64);
    case 'tail':
      return length - 1 - (p.n % Math.min(length, 512));
    default:
      return p.n % length;
  }
}

function valueFor(v: bigint, length: number): bigint {
  if (v === LEN) return BigInt(length);
  if (v === LEN_MINUS) return BigInt(length - 1);
  if (v === LEN_PLUS) return BigInt(length + 1);
  return v;
}

/** Zig-zag varint bytes of a signed 64-bit value (Avro longs, Thrift compact integers). */
function varintBytes(v: bigint): number[] {
  const clamped = BigInt.asIntN(64, v);
  let z = BigInt.asUintN(64, (clamped << 1n) ^ (clamped >> 63n));
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Applies one mutation; the input is not modified. */
export function applyByteMutation(input: Uint8Array, m: ByteMutation): Uint8Array {
  const len = input.length;
  switch (m.op) {
    case 'flip': {
      if (len === 0) return input;
      const out = input.slice();
      const i = resolve(m.at, len);
      out[i] = out[i]! ^ (1 << m.bit);
      return out;
    }
    case 'set': {
      if (len === 0) return input;
      const out = input.slice();
      out[resolve(m.at, len)] = m.value;
      return out;
    }
    case 'truncate':
      return input.slice(0, resolve(m.at, len));
    case 'insert': {
      const i = resolve(m.at, len + 1);
      return concat(input.subarray(0, i), m.bytes, input.subarray(i));
    }
    case 'delete': {
      const i = resolve(m.at, len);
      return concat(input.subarray(0, i), input.subarray(i + m.length));
    }
    case 'splice': {
      if (len === 0) return input;
      const from = resolve(m.from, len);
      const piece = input.slice(from, from + m.length);
      const to = resolve(m.to, len);
      if (m.insert) return concat(input.subarray(0, to), piece, input.subarray(to));
      const out = input.slice();
      out.set(piece.subarray(0, Math.max(0, len - to)), to);
      return out;
    }
    case 'int': {
      if (len === 0) return input;
      const at = resolve(m.at, len);
      const out = input.slice();
      const v = BigInt.asUintN(m.width * 8, valueFor(m.value, len));
      for (let i = 0; i < m.width && at + i < len; i++) {
        const shift = BigInt(8 * (m.littleEndian ? i : m.width - 1 - i));
        out[at + i] = Number((v >> shift) & 0xffn);
      }
      return out;
    }
    case 'varint': {
      if (len === 0) return input;
      const at = resolve(m.at, len);
      // Replace the varint that starts here (up to 10 bytes) by the new one.
      let end = at;
      while (end < len && end - at < 10 && input[end]! >= 0x80) end++;
      end = Math.min(end + 1, len);
      return concat(
        input.subarray(0, at),
        Uint8Array.from(varintBytes(valueFor(m.value, len))),
        input.subarray(end),
      );
    }
  }
}

/** Applies mutations in order. */
export function applyByteMutations(input: Uint8Array, ms: readonly ByteMutation[]): Uint8Array {
  let out = input;
  for (const m of ms) out = applyByteMutation(out, m);
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON structural mutations

/** One structural mutation of a JSON document; `node` picks a value by its preorder index. */
export type JsonMutation =
  | { readonly op: 'remove'; readonly node: number }
  | { readonly op: 'replace'; readonly node: number; readonly value: number }
  | { readonly op: 'duplicate'; readonly node: number; readonly value: number }
  | { readonly op: 'proto'; readonly node: number; readonly value: number }
  | { readonly op: 'swap'; readonly node: number; readonly other: number }
  | { readonly op: 'wrap'; readonly node: number }
  | { readonly op: 'nest'; readonly node: number; readonly depth: number };

export const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  fc.record({ op: fc.constant('remove' as const), node: fc.nat() }),
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('replace' as const), node: fc.nat(), value: fc.nat() }),
  },
  fc.record({ op: fc.constant('duplicate' as const), node: fc.nat(), value: fc.nat() }),
  fc.record({ op: fc.constant('proto' as const), node: fc.nat(), value: fc.nat() }),
  fc.record({ op: fc.constant('swap' as const), node: fc.nat(), other: fc.nat() }),
  fc.record({ op: fc.constant('wrap' as const), node: fc.nat() }),
  fc.record({ op: fc.constant('nest' as const), node: fc.nat(), depth: fc.constantFrom(100, 5000, 100000) }),
);

export const jsonMutations: fc.Arbitrary<JsonMutation[]> = fc.array(jsonMutation, {
  minLength: 1,
  maxLength: 3,
});

/** Values a field may be replaced by: each type, boundary integers, odd strings. */
const REPLACEMENTS: readonly JsonValue[] = [
  null,
  true,
  false,
  0n,
  -1n,
  1n,
  2n,
  3n,
  4n,
  (1n << 31n) - 1n,
  1n << 31n,
  (1n << 53n) + 1n,
  (1n << 63n) - 1n,
  1n << 63n,
  -(1n << 63n) - 1n,
  123456789012345678901234567890n,
  new JsonDecimal('1.5'),
  new JsonDecimal('1e400'),
  new JsonDecimal('-0.0'),
  '',
  'x',
  '-1',
  '9223372036854775808',
  '../../etc/passwd',
  '\u0000',
  '__proto__',
  [],
  [null],
  {},
  { 'snapshot-id': 1n, type: 'branch' },
];

interface Slot {
  get(): JsonValue;
  set(v: JsonValue): void;
  remove(): void;
  parent: JsonValue | undefined;
  key: string | number | undefined;
}

/** Every value of the document in preorder, with a handle to replace or remove it. */
function slots(root: { v: JsonValue }): Slot[] {
  const out: Slot[] = [];
  const visit = (
    parent: JsonValue | undefined,
    key: string | number | undefined,
    get: () => JsonValue,
    set: (v: JsonValue) => void,
    remove: () => void,
  ) => {
    out.push({ get, set, remove, parent, key });
    const v = get();
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        visit(
          v,
          i,
          () => v[i]!,
          (x) => {
            v[i] = x;
          },
          () => {
            v.splice(i, 1);
          },
        );
      }
    } else if (isJsonObject(v)) {
      for (const k of Object.keys(v)) {
        visit(
          v,
          k,
          () => v[k]!,
          (x) => {
            v[k] = x;
          },
          () => {
            delete v[k];
          },
        );
      }
    }
  };
  visit(
    undefined,
    undefined,
    () => root.v,
    (x) => {
      root.v = x;
    },
    () => {
      root.v = null;
    },
  );
  return out;
}

const DUP = '\u0001imsync-duplicate\u0001';
const NEST = '\u0001imsync-nest\u0001';

/**
 * Applies structural mutations to JSON text (exact numbers kept) and returns the new text.
 * Duplicate keys and deep nesting cannot live in a parsed tree, so they are placed as markers
 * and spelled out in the text at the end.
 */
export function applyJsonMutations(text: string, ms: readonly JsonMutation[]): string {
  const root = { v: parseJson(text) };
  const dups: string[] = [];
  const nests: number[] = [];
  for (const m of ms) {
    const all = slots(root);
    const s = all[m.node % all.length]!;
    switch (m.op) {
      case 'remove':
        s.remove();
        break;
      case 'replace':
        s.set(structuredCloneJson(REPLACEMENTS[m.value % REPLACEMENTS.length]!));
        break;
      case 'duplicate': {
        // A second member with the key of this one (objects only), holding another value.
        if (isJsonObject(s.parent) && typeof s.key === 'string') {
          s.parent[`${DUP}${dups.length}`] = structuredCloneJson(
            REPLACEMENTS[m.value % REPLACEMENTS.length]!,
          );
          dups.push(s.key);
        }
        break;
      }
      case 'proto': {
        // A member named __proto__ (JSON.parse makes it an own property; plain assignment would not).
        const target = s.get();
        if (isJsonObject(target)) {
          target[`${DUP}${dups.length}`] = structuredCloneJson(REPLACEMENTS[m.value % REPLACEMENTS.length]!);
          dups.push('__proto__');
        }
        break;
      }
      case 'swap': {
        const o = all[m.other % all.length]!;
        const a = s.get();
        const b = o.get();
        // Swapping a node with its own ancestor would make a cycle; skip those.
        if (!contains(a, b) && !contains(b, a)) {
          s.set(b);
          o.set(a);
        }
        break;
      }
      case 'wrap':
        s.set([s.get()]);
        break;
      case 'nest':
        s.set(`${NEST}${nests.length}`);
        nests.push(m.depth);
        break;
    }
  }
  let out = stringifyJson(root.v);
  dups.forEach((key, i) => {
    out = out.replace(JSON.stringify(`${DUP}${i}`), JSON.stringify(key));
  });
  nests.forEach((depth, i) => {
    out = out.replace(JSON.stringify(`${NEST}${i}`), '['.repeat(depth) + ']'.repeat(depth));
  });
  return out;
}

function contains(haystack: JsonValue, needle: JsonValue): boolean {
  if (haystack === needle) return true;
  if (Array.isArray(haystack)) return haystack.some((x) => contains(x, needle));
  if (isJsonObject(haystack)) return Object.values(haystack).some((x) => contains(x, needle));
  return false;
}

function structuredCloneJson(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(structuredCloneJson);
  if (isJsonObject(v)) {
    const o: Record<string, JsonValue> = {};
    for (const [k, x] of Object.entries(v)) o[k] = structuredCloneJson(x);
    return o;
  }
  return v;
}
