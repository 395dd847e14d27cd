/**
 * Record scanners: where a few fields of each record are, and the integer values of some, without
 * building any value. A copy that replaces one string of a record and keeps every other byte
 * needs no more, and a manifest entry's metrics maps (most of its bytes) are stepped over, never
 * decoded.
 *
 * A scanner is compiled to one JavaScript function per schema, with every skip inlined: V8 runs
 * that several times faster than the tree of closures a decoder is. Its source is made from the
 * shape of the type graph alone (kinds, sizes, slot numbers); no name or value from the schema
 * enters it. It is as strict as a decoder: a varint over 10 bytes, a negative length or count, a
 * union branch out of range, an `int` beyond 32 bits or bytes ending early throw
 * {@link AvroDataError} or {@link NeedMoreBytes}, so a caller that gets an error decodes the block
 * with a decoder for the exact message.
 */
import { AvroDataError, NeedMoreBytes } from './binary.ts';
import { MAX_ZERO_SIZE_ITEMS, minEncodedSize } from './decode.ts';
import type { AvroType } from './schema.ts';

/**
 * What to capture of a field: `int` or `long` its value (of an `int` or `long` field, or of such
 * a branch of a union), `span` where its encoding starts and ends (a string or bytes field, two
 * slots), `present` 1 or 0 as a union field holds a non-null branch or null.
 */
export type ScanCapture = 'int' | 'long' | 'span' | 'present';

/** Fields to capture by name; a nested spec captures fields of a record field (or of a union's record branch). */
export interface ScanSpec {
  readonly [field: string]: ScanCapture | ScanSpec;
}

/** A compiled scanner (see the module's doc). */
export interface AvroScanner {
  /** Slots each scan writes. */
  readonly width: number;
  /**
   * The first slot of the field at `path` (names joined by `.`); a span's end is the next one.
   * @throws Error for a path the spec does not capture.
   */
  slot(path: string): number;
  /**
   * Scans the record at `pos` of `buf` (whose data end at `end`), writing its captures to `out`
   * (NaN for a field the record lacks or a union holding null; a long beyond 2^53 as ±Infinity).
   * Returns where the record ends.
   */
  scan(buf: Uint8Array, pos: number, end: number, out: Float64Array): number;
}

/**
 * The long encoded at `[from, to)` whose zig-zag form is beyond 2^53, where doubles are no longer
 * exact: worked out in bigint (rare: such a long is over 2^52), ±Infinity beyond 2^53.
 */
function bigLong(b: Uint8Array, from: number, to: number): number {
  let z = 0n;
  for (let i = to - 1; i >= from; i--) z = (z << 7n) | BigInt(b[i]! & 0x7f);
  const v = (z >> 1n) ^ -(z & 1n);
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  return v > max ? Number.POSITIVE_INFINITY : v < -max ? Number.NEGATIVE_INFINITY : Number(v);
}

/** The source generator: local variables `b` (bytes), `p` (position), `e` (end), `o` (out). */
class Generator {
  readonly slots = new Map<string, number>();
  /** Slots allocated so far. */
  width = 0;
  #temp = 0;
  /** Records being generated, to refuse a recursive schema (its code would never end). */
  readonly #open = new Set<AvroType>();

  temp(): string {
    return `t${this.#temp++}`;
  }

  /** Reads a zig-zag varint used as a count, length or branch (a safe integer) into `v`. */
  count(v: string): string {
    const u = this.temp();
    const m = this.temp();
    const k = this.temp();
    return `let ${v};{let ${u}=0,${m}=1;for(let i=0;;i++){if(p>=e)throw N(p+1);const ${k}=b[p++];${u}+=(${k}&127)*${m};if(${u}>9007199254740991||i===7&&${k}>=128)throw D("count or length out of range");if(${k}<128)break;${m}*=128;}${v}=${u}%2===0?${u}/2:-(${u}+1)/2;}`;
  }

  /** Reads a zig-zag varint long into `v` as a number, ±Infinity beyond 2^53. */
  long(v: string): string {
    const u = this.temp();
    const m = this.temp();
    const k = this.temp();
    const s = this.temp();
    return `let ${v};{const ${s}=p;let ${u}=0,${m}=1;for(let i=0;;i++){if(p>=e)throw N(p+1);const ${k}=b[p++];if(i===9&&${k}>1)throw D("varint long does not fit 64 bits");${u}+=(${k}&127)*${m};if(${k}<128)break;${m}*=128;}${v}=${u}>9007199254740991?L(b,${s},p):${u}%2===0?${u}/2:-(${u}+1)/2;}`;
  }

  skipVarint(): string {
    return `for(let i=0;;i++){if(p>=e)throw N(p+1);if(b[p++]<128)break;if(i===9)throw D("varint longer than 10 bytes");}`;
  }

  skipN(n: string): string {
    return `if(${n}<0)throw D("negative length "+${n});if(${n}>e-p)throw N(p+${n});p+=${n};`;
  }

  /** Code that steps over a value of `t`, capturing as `capture` says (`path` names its slots). */
  value(t: AvroType, capture: ScanCapture | ScanSpec | undefined, path: string): string {
    if (capture !== undefined && typeof capture !== 'object') return this.#captured(t, capture, path);
    switch (t.kind) {
      case 'null':
        return '';
      case 'boolean':
        return 'if(p>=e)throw N(p+1);p++;';
      case 'int':
      case 'long':
      case 'enum':
        return this.skipVarint();
      case 'float':
        return 'if(4>e-p)throw N(p+4);p+=4;';
      case 'double':
        return 'if(8>e-p)throw N(p+8);p+=8;';
      case 'fixed':
        return `if(${t.size}>e-p)throw N(p+${t.size});p+=${t.size};`;
      case 'bytes':
      case 'string': {
        const n = this.temp();
        return `${this.count(n)}${this.skipN(n)}`;
      }
      case 'array':
      case 'map': {
        const item = t.kind === 'map' ? t.values : t.items;
        const size = t.kind === 'map' ? 1 + minEncodedSize(item) : minEncodedSize(item);
        const c = this.temp();
        const n = this.temp();
        const k = this.temp();
        const key = t.kind === 'map' ? `${this.count(k)}${this.skipN(k)}` : '';
        const bound = size > 0 ? `${c}*${size}>e-p` : `${c}>${MAX_ZERO_SIZE_ITEMS}`;
        // A negative count comes with the block's byte size: the block is stepped over whole.
        return `for(;;){${this.count(c)}if(${c}===0)break;if(${c}<0){${this.count(n)}${this.skipN(n)}continue;}if(${bound})throw N(p+${c});for(;${c}>0;${c}--){${key}${this.value(item, undefined, path)}}}`;
      }
      case 'union':
        return this.#union(t.branches, capture, path, undefined);
      case 'record': {
        if (this.#open.has(t)) throw new Error('a recursive schema has no scanner');
        this.#open.add(t);
        const spec = capture;
        let code = '';
        for (const f of t.fields) {
          const c = spec && Object.hasOwn(spec, f.name) ? spec[f.name] : undefined;
          code += this.value(f.type, c, path === '' ? f.name : `${path}.${f.name}`);
        }
        this.#open.delete(t);
        return code;
      }
    }
  }

  #slot(path: string, width: number): number {
    const at = this.width;
    this.slots.set(path, at);
    this.width += width;
    return at;
  }

  #union(
    branches: readonly AvroType[],
    capture: ScanCapture | ScanSpec | undefined,
    path: string,
    presence: number | undefined,
  ): string {
    const v = this.temp();
    let code = `${this.count(v)}switch(${v}){`;
    for (const [i, branch] of branches.entries()) {
      const set = presence === undefined ? '' : `o[${presence}]=${branch.kind === 'null' ? 0 : 1};`;
      // A scalar capture reaches only the branches that can hold it; a null branch leaves NaN.
      const c = typeof capture === 'string' && branch.kind === 'null' ? undefined : capture;
      code += `case ${i}:{${set}${this.value(branch, c, path)}break;}`;
    }
    return `${code}default:throw D("bad union branch "+${v}+" (union has ${branches.length} branches)");}`;
  }

  #captured(t: AvroType, capture: ScanCapture, path: string): string {
    if (capture === 'present') {
      const slot = this.#slot(path, 1);
      if (t.kind !== 'union') return `o[${slot}]=1;${this.value(t, undefined, path)}`;
      return this.#union(t.branches, undefined, path, slot);
    }
    if (t.kind === 'union') {
      if (capture === 'span') throw new Error(`${path}: a span of a union is not captured`);
      if (!this.slots.has(path)) this.#slot(path, 1);
      return this.#union(t.branches, capture, path, undefined);
    }
    const slot = this.slots.get(path) ?? this.#slot(path, capture === 'span' ? 2 : 1);
    if (capture === 'span') {
      if (t.kind !== 'string' && t.kind !== 'bytes')
        throw new Error(`${path}: a span captures strings and bytes`);
      const n = this.temp();
      return `o[${slot}]=p;${this.count(n)}${this.skipN(n)}o[${slot + 1}]=p;`;
    }
    if (t.kind !== 'int' && t.kind !== 'long') throw new Error(`${path}: ${capture} captures ints and longs`);
    const v = this.temp();
    const range =
      t.kind === 'int'
        ? `if(${v}<-2147483648||${v}>2147483647)throw D("varint int out of 32-bit range");`
        : '';
    return `${this.long(v)}${range}o[${slot}]=${v};`;
  }
}

/**
 * Compiles a scanner of records of type `t` capturing the fields of `spec`.
 * @throws Error for a spec that does not fit the type (a span of a non-string, a nested spec on a
 * non-record) or a recursive schema: the caller decodes instead.
 */
export function createScanner(t: AvroType, spec: ScanSpec): AvroScanner {
  const g = new Generator();
  const body = g.value(t, spec, '');
  const width = g.width;
  const reset = Array.from({ length: width }, (_, i) => `o[${i}]=NaN;`).join('');
  const factory = new Function('N', 'D', 'L', `return function scan(b,p,e,o){${reset}${body}return p;};`) as (
    n: (needed: number) => Error,
    d: (detail: string) => Error,
    l: typeof bigLong,
  ) => AvroScanner['scan'];
  const scan = factory(
    (needed) => new NeedMoreBytes(needed),
    (detail) => new AvroDataError(detail),
    bigLong,
  );
  const slots = g.slots;
  return {
    width,
    slot(path) {
      const s = slots.get(path);
      if (s === undefined) throw new Error(`no captured field '${path}'`);
      return s;
    },
    scan,
  };
}
