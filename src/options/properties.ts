/**
 * Reading a backend's settings from string properties (a catalog's `s3.*` / `hdfs.*` keys, or an
 * entry of the `storage:` section) by the rules of {@link ./values.ts}: typed getters whose errors
 * name the setting and its value.
 */
import { ConfigError } from '../errors.ts';
import { isSecretName, redactSecrets } from '../util/redact.ts';
import { bool, duration, parseSetting, positiveInt, positiveNumber, type Rule } from './values.ts';

/** Typed access to one backend's properties. */
export interface PropertyReader {
  /** The value, or `undefined` when absent or empty. */
  get(key: string): string | undefined;
  /** The value by `rule`, or `undefined` when absent or empty. */
  by<T>(key: string, rule: Rule<T>): T | undefined;
  /** `true`/`yes`/`1` or `false`/`no`/`0`, any case. */
  bool(key: string): boolean | undefined;
  /** A number above 0 (a whole one with `integer`). */
  positive(key: string, integer: boolean): number | undefined;
  /** A positive duration (plain seconds, or `500ms`, `90s`, `5m`, `1h`), as milliseconds. */
  secondsAsMs(key: string): number | undefined;
  /** Fails naming `where.key`, what is wrong, and the value given (credentials masked). */
  fail(key: string, what: string): never;
}

const positiveDuration = duration();

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
  const by = <T>(k: string, rule: Rule<T>): T | undefined => {
    const v = get(k);
    return v === undefined ? undefined : parseSetting(rule, `${where}.${k}`, v);
  };
  return {
    get,
    by,
    fail: (k, what) => {
      const got = isSecretName(k) ? '' : ` (got '${redactSecrets(properties[k] ?? '')}')`;
      throw new ConfigError(`${where}.${k}: ${what}${got}`);
    },
    bool: (k) => by(k, bool),
    positive: (k, integer) => by(k, integer ? positiveInt : positiveNumber),
    secondsAsMs: (k) => by(k, positiveDuration),
  };
}

/** The options object without its undefined members. */
export function definedOnly<T>(options: Record<string, unknown>): T {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as T;
}
