/**
 * The zod pieces catalog settings are validated with: strings, booleans and numbers as YAML and
 * environment variables give them, and one way of reporting what is wrong, naming the setting.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.ts';

/** A non-empty string. */
export const text = () =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'required' : 'must be a string') })
    .min(1, 'must not be empty');

/** A scalar setting (kept as its string form in `properties`). */
export const scalar = z.union([z.string(), z.number(), z.boolean()], {
  error: 'must be a string, number or boolean',
});

// Booleans and whole numbers follow the value rules every setting shares.
export { bool, positiveInt } from '../options/values.ts';

/** Throws one {@link ConfigError} listing every issue, each named `where.setting`. */
export function failWith(where: string, issues: readonly z.core.$ZodIssue[]): never {
  const lines = issues.map((i) => {
    const path = i.path.length > 0 ? `${where}.${i.path.join('.')}` : where;
    return `${path}: ${i.message}`;
  });
  throw new ConfigError(lines.join('; '));
}

/** Parses `raw` with `schema`, failing as {@link failWith} does. */
export function parseWith<S extends z.ZodType>(where: string, schema: S, raw: unknown): z.output<S> {
  const r = schema.safeParse(raw);
  if (!r.success) failWith(where, r.error.issues);
  return r.data;
}
