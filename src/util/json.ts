/**
 * JSON that keeps every number exact.
 *
 * Iceberg metadata holds 64-bit ids (snapshot ids above 2^53 are common), which JSON.parse
 * would round. Integers are therefore parsed to `bigint` and written back verbatim; other
 * numbers keep their source text (see {@link JsonDecimal}). The native parser does the work:
 * its reviver receives each literal's source text, and `JSON.rawJSON` writes raw digits back.
 *
 * Object key order is kept as JavaScript keeps it: insertion order, except that keys that look
 * like array indices ("0", "1", ...) come first. No Iceberg metadata field depends on that order.
 */

/** A non-integer JSON number, kept as its source text so it is written back unchanged. */
export class JsonDecimal {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  /** The value as a JS number (may round). */
  toNumber(): number {
    return Number(this.text);
  }
  toString(): string {
    return this.text;
  }
}

/** A value of exact JSON. */
export type JsonValue = null | boolean | string | bigint | JsonDecimal | JsonValue[] | JsonObject;
/** An object of exact JSON. */
export interface JsonObject {
  [key: string]: JsonValue;
}

interface ReviverContext {
  source?: string;
}
type RawJson = unknown;
const jsonWithRaw = JSON as unknown as {
  parse(
    text: string,
    reviver: (this: unknown, key: string, value: unknown, ctx?: ReviverContext) => unknown,
  ): unknown;
  rawJSON(text: string): RawJson;
};

const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;

/** Parses JSON text keeping every number exact. Throws SyntaxError on malformed input. */
export function parseJson(text: string): JsonValue {
  return jsonWithRaw.parse(text, (_key, value, ctx) => {
    if (typeof value !== 'number') return value;
    const src = ctx?.source;
    if (src === undefined) throw new Error('this JavaScript engine lacks JSON.parse source text access');
    if (INTEGER.test(src)) return BigInt(src);
    return new JsonDecimal(src);
  }) as JsonValue;
}

/** Options of {@link stringifyJson}. */
export interface StringifyOptions {
  /** Indent for pretty output; omit for compact output. */
  readonly indent?: number;
}

/** Writes exact JSON: bigints as integer literals, decimals as their source text. */
export function stringifyJson(value: JsonValue, options: StringifyOptions = {}): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === 'bigint') return jsonWithRaw.rawJSON(v.toString());
      if (v instanceof JsonDecimal) return jsonWithRaw.rawJSON(v.text);
      if (typeof v === 'number') {
        // Plain numbers only come from code that builds metadata; integers must be exact.
        if (!Number.isFinite(v)) throw new TypeError(`cannot write ${v} as JSON`);
        return v;
      }
      return v;
    },
    options.indent,
  );
}

/** True when `v` is a JSON object (not null, not an array). */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof JsonDecimal);
}

/** Deep equality of exact JSON values (key order ignored). */
export function jsonEquals(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (a instanceof JsonDecimal || b instanceof JsonDecimal) {
    return a instanceof JsonDecimal && b instanceof JsonDecimal && Number(a.text) === Number(b.text);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEquals(x, b[i] as JsonValue));
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEquals(a[k] as JsonValue, b[k] as JsonValue));
  }
  return false;
}
