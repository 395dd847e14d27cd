/**
 * Reading a backend's settings from string properties (a catalog's `s3.*` / `hdfs.*` keys, or an
 * entry of the `storage:` section): typed getters whose errors name the setting and its value.
 */
import { ConfigError } from '../errors.ts';

/** Typed access to one backend's properties. */
export interface PropertyReader {
  /** The value, or `undefined` when absent or empty. */
  get(key: string): string | undefined;
  /** `true`/`yes`/`1` or `false`/`no`/`0`, any case. */
  bool(key: string): boolean | undefined;
  /** A number above 0 (a whole one with `integer`). */
  positive(key: string, integer: boolean): number | undefined;
  /** A positive number of seconds, as milliseconds. */
  secondsAsMs(key: string): number | undefined;
  /** Fails naming `where.key`, what is wrong, and the value given. */
  fail(key: string, what: string): never;
}

/**
 * A reader of `properties`; `where` names their source in errors. With `strict`, a key not in
 * `known` (a typo) is an error.
 */
export function propertyReader(
  properties: Readonly<Record<string, string>>,
  where: string,
  known: readonly string[],
  strict: boolean,
): PropertyReader {
  if (strict) {
    for (const k of Object.keys(properties)) {
      if (!known.includes(k)) {
        throw new ConfigError(`${where}.${k}: unknown setting (known: ${known.join(', ')})`);
      }
    }
  }
  const get = (k: string) => {
    const v = properties[k];
    return v === undefined || v === '' ? undefined : v;
  };
  const fail = (k: string, what: string): never => {
    throw new ConfigError(`${where}.${k}: ${what} (got '${properties[k]}')`);
  };
  const positive = (k: string, integer: boolean) => {
    const v = get(k);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      return fail(k, integer ? 'must be a positive whole number' : 'must be a positive number');
    }
    return n;
  };
  return {
    get,
    fail,
    positive,
    bool: (k) => {
      const v = get(k)?.toLowerCase();
      if (v === undefined) return undefined;
      if (/^(true|yes|1)$/.test(v)) return true;
      if (/^(false|no|0)$/.test(v)) return false;
      return fail(k, 'must be true or false');
    },
    secondsAsMs: (k) => {
      const s = positive(k, false);
      return s === undefined ? undefined : Math.round(s * 1000);
    },
  };
}

/** The options object without its undefined members. */
export function definedOnly<T>(options: Record<string, unknown>): T {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as T;
}
