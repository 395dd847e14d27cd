/**
 * Which tables a warehouse run takes: include/exclude globs on `namespace.table`, evaluated on
 * every run against what discovery finds (so a new table is picked up by the next run), and
 * `--shard i/N`, a deterministic split for parallel workers (a Kubernetes Indexed Job).
 */
import { createHash } from 'node:crypto';
import picomatch from 'picomatch';
import { ConfigError } from '../errors.ts';

/** A compiled include/exclude selection. */
export type TableSelector = (table: string) => boolean;

/**
 * A table is selected when it matches one `include` glob and no `exclude` glob. Globs are
 * picomatch patterns over the whole `namespace.table` (`*` does not stop at dots: `sales.*`,
 * `*.orders`, `{sales,web}.*`, `!(tmp)*.*`); case-sensitive, as Iceberg identifiers are.
 */
export function tableSelector(include: readonly string[], exclude: readonly string[] = []): TableSelector {
  const opts = { dot: true, nonegate: false } as const;
  const inc = include.length ? picomatch([...include], opts) : () => true;
  const exc = exclude.length ? picomatch([...exclude], opts) : () => false;
  return (table) => inc(table) && !exc(table);
}

/** One worker's part of the tables: index `index` (0-based) of `count`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Parses `i/N` (0 <= i < N), as `--shard` takes it. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw new ConfigError(`--shard: must be INDEX/COUNT with 0 <= INDEX < COUNT, e.g. 0/4 (got '${text}')`);
  }
  return { index, count };
}

/**
 * The shard a table belongs to: the first 8 bytes of SHA-256 of `namespace.table`, modulo
 * `count`. It depends on the name alone, not on the list's order or size, so every worker agrees
 * without talking to the others, and a new table moves no other table between shards.
 */
export function shardOf(table: string, count: number): number {
  const h = createHash('sha256').update(table, 'utf8').digest();
  return Number(h.readBigUInt64BE(0) % BigInt(count));
}

/** Whether `table` is in `shard` (every table is when there is no shard). */
export function inShard(table: string, shard: Shard | undefined): boolean {
  return shard === undefined || shardOf(table, shard.count) === shard.index;
}
