/**
 * The value rules every setting follows, wherever it is written: a command-line flag
 * (`--concurrency 8`), a catalog key in the configuration file (`busy-timeout-ms: 5000`), or a
 * storage property (`s3.connect-timeout: 10`). Each rule is a zod schema that takes the raw value
 * (a string from the command line or an environment variable, a number or boolean from YAML) and
 * either gives the typed value or an issue whose message says what is expected and shows the value
 * given. {@link parseSetting} turns that into a {@link ConfigError} (exit 2) naming the setting.
 *
 * | rule | accepts |
 * | --- | --- |
 * | {@link positiveInt} | whole numbers written in digits, 1 or more (`8`; not `0`, `-3`, `2.5`, `1e3`, `0x10`, `abc`) |
 * | {@link nonNegativeInt} | the same, 0 included |
 * | {@link positiveNumber} | decimal numbers above 0 (`2`, `0.5`) |
 * | {@link bool} | `true`/`false`, `yes`/`no`, `1`/`0`, any case |
 * | {@link duration} | plain seconds (`60`, `1.5`) or a number with a unit: `ms`, `s`, `m`, `h` (`500ms`, `90s`, `5m`, `1h`); as milliseconds |
 * | {@link oneOf} | one of a fixed list of values, exactly as listed |
 */
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { isSecretName, redactSecrets } from '../util/redact.ts';

/** A rule: a zod schema from a raw setting value to its typed value. */
export type Rule<T> = z.ZodType<T, unknown>;

/** How a raw value is shown in messages: strings quoted, credentials masked. */
function shown(v: unknown): string {
  if (typeof v === 'string') return `'${redactSecrets(v)}'`;
  if (v === undefined) return 'nothing';
  try {
    return redactSecrets(JSON.stringify(v) ?? String(v));
  } catch {
    return String(v);
  }
}

/** A rule from a parse function that gives `undefined` for a value it refuses. */
function rule<T>(expected: string, parse: (v: unknown) => T | undefined): Rule<T> {
  return z.unknown().transform((v, ctx) => {
    const r = parse(v);
    if (r !== undefined) return r;
    ctx.issues.push({ code: 'custom', message: `${expected} (got ${shown(v)})`, input: v });
    return z.NEVER;
  });
}

/** The text of a string or number value, trimmed; `undefined` for anything else. */
function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

const DIGITS = /^\d+$/;
const DECIMAL = /^\d+(?:\.\d+)?$|^\.\d+$/;

function wholeNumber(v: unknown, min: number): number | undefined {
  const t = textOf(v);
  if (t === undefined || !DIGITS.test(t)) return undefined;
  const n = Number(t);
  return Number.isSafeInteger(n) && n >= min ? n : undefined;
}

/** A whole number of at least 1. */
export const positiveInt: Rule<number> = rule('must be a positive whole number', (v) => wholeNumber(v, 1));

/** A whole number of at least 0. */
export const nonNegativeInt: Rule<number> = rule('must be a whole number, 0 or more', (v) =>
  wholeNumber(v, 0),
);

/** A decimal number above 0. */
export const positiveNumber: Rule<number> = rule('must be a positive number', (v) => {
  const t = textOf(v);
  if (t === undefined || !DECIMAL.test(t)) return undefined;
  const n = Number(t);
  return n > 0 && Number.isFinite(n) ? n : undefined;
});

const TRUE = /^(true|yes|1)$/i;
const FALSE = /^(false|no|0)$/i;

/** `true`/`false`, `yes`/`no`, `1`/`0` (any case), or a YAML boolean. */
export const bool: Rule<boolean> = rule('must be true or false', (v) => {
  if (typeof v === 'boolean') return v;
  const t = textOf(v);
  if (t === undefined) return undefined;
  if (TRUE.test(t)) return true;
  if (FALSE.test(t)) return false;
  return undefined;
});

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** Timers cannot wait longer (Node fires a longer setTimeout at once). */
const MAX_DURATION_MS = 2_147_483_647;
const DURATION = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?$/i;

/**
 * A duration: plain seconds (`60`, `1.5`, as PyIceberg's `s3.connect-timeout` is written) or a
 * number with a unit (`500ms`, `90s`, `5m`, `1h`), as whole milliseconds, at most about 24 days.
 * `0` only with `allowZero`.
 */
export function duration(options: { readonly allowZero?: boolean } = {}): Rule<number> {
  const what = options.allowZero ? 'a number of seconds, 0 or more,' : 'a positive number of seconds';
  return rule(`must be ${what} or a duration with a unit (500ms, 90s, 5m, 1h)`, (v) => {
    const t = textOf(v);
    const m = t === undefined ? null : DURATION.exec(t);
    if (!m) return undefined;
    const ms = Math.round(Number(m[1]) * UNIT_MS[(m[2] ?? 's').toLowerCase()]!);
    if (!Number.isFinite(ms) || ms > MAX_DURATION_MS) return undefined;
    if (ms === 0 && !options.allowZero) return undefined;
    return ms;
  });
}

/** `a, b or c`. */
function orList(values: readonly unknown[]): string {
  const s = values.map(String);
  return s.length <= 1 ? (s[0] ?? '') : `${s.slice(0, -1).join(', ')} or ${s.at(-1)}`;
}

/** One of `values`, compared as text (so `2` from the command line matches the number 2). */
export function oneOf<const T extends string | number>(values: readonly T[]): Rule<T> {
  return rule(`must be ${orList(values)}`, (v) => {
    const t = textOf(v);
    return t === undefined ? undefined : values.find((x) => String(x) === t);
  });
}

/**
 * The typed value of `setting` by `rule`, or a {@link ConfigError}
 * `<setting>: <what is expected> (got '<value>')`, the value masked when it is a credential.
 */
export function parseSetting<T>(rule: Rule<T>, setting: string, value: unknown): T {
  const r = rule.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  let message = issue?.message ?? 'invalid value';
  // A rule shows the value it refused; a secret setting's value is never shown, even refused.
  if (isSecretName(setting)) message = message.replace(/ \(got .*\)$/s, '');
  throw new ConfigError(`${setting}: ${message}`);
}

/**
 * A command-line option parser for `rule` (commander's `argParser`): the typed value, or a
 * {@link ConfigError} naming the flag.
 */
export function flag<T>(rule: Rule<T>, name: string): (value: string) => T {
  return (value) => parseSetting(rule, name, value);
}
