/**
 * The `--partition-by` grammar of a table add-files creates: `col` (identity), `col:type`
 * (identity on a Hive directory column the files lack), `year(col)`, `month(col)`, `day(col)`,
 * `hour(col)`, `bucket(N, col)`, `truncate(W, col)`.
 */
import { ConfigError } from '../errors.ts';

/** One parsed `--partition-by` term. */
export interface PartitionTerm {
  /** The Iceberg transform (`identity`, `day`, `bucket[16]`, ...). */
  readonly transform: string;
  readonly column: string;
  /** The declared type of a `col:type` term. */
  readonly type?: string;
}

/** Parses a `--partition-by` term. */
export function parsePartitionTerm(term: string): PartitionTerm {
  const t = term.trim();
  const fn = /^(\w+)\(\s*(?:(\d+)\s*,\s*)?([^)]+?)\s*\)$/.exec(t);
  if (fn) {
    const [, name, arg, column] = fn as unknown as [string, string, string | undefined, string];
    if (['year', 'month', 'day', 'hour', 'identity', 'void'].includes(name) && arg === undefined)
      return { transform: name, column };
    if ((name === 'bucket' || name === 'truncate') && arg !== undefined)
      return { transform: `${name}[${arg}]`, column };
    throw new ConfigError(
      `--partition-by '${term}': unknown transform (identity, year, month, day, hour, bucket(N, col), truncate(W, col))`,
    );
  }
  const colon = t.indexOf(':');
  if (colon > 0) return { transform: 'identity', column: t.slice(0, colon), type: t.slice(colon + 1) };
  if (!/^[^\s(),]+$/.test(t)) throw new ConfigError(`--partition-by '${term}': not a column or transform`);
  return { transform: 'identity', column: t };
}

const PARTITION_SUFFIX: Record<string, string> = {
  year: '_year',
  month: '_month',
  day: '_day',
  hour: '_hour',
};

/** The partition field's name: the column for identity, else the column with the transform's suffix. */
export function partitionFieldName(p: PartitionTerm): string {
  const base = p.transform.replace(/\[.*$/, '');
  return p.transform === 'identity'
    ? p.column
    : `${p.column}${PARTITION_SUFFIX[base] ?? (base === 'bucket' ? '_bucket' : '_trunc')}`;
}
