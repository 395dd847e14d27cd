/**
 * A DR site made from the bundled sample (examples/replica): a scratch copy of the replica, the
 * CLI arguments that sync it into an embedded SQLite catalog, and ways to look at the result
 * (the catalog's row, checksums of a tree). The CLI tests of hostile input share it.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { listFilesRecursive, repoRoot, scratchDir } from './paths.ts';

/** The sample replica's warehouse (sales.orders). */
export const sampleWarehouse = path.join(repoRoot, 'examples', 'replica', 'warehouse');
/** Where the sample's metadata says the table lived at the source. */
export const sampleSourcePrefix = 'hdfs://prod-nn:8020/warehouse';

/** A scratch copy of the sample replica and a DR warehouse beside it. */
export interface SampleSite {
  readonly base: string;
  /** The replicated warehouse root (`--replicated-path`). */
  readonly replica: string;
  /** The replicated table directory. */
  readonly table: string;
  /** The replicated table's metadata directory. */
  readonly metadataDir: string;
  /** The DR warehouse (`--warehouse`), with its SQLite catalog file. */
  readonly dr: string;
  readonly dbFile: string;
  /** The default metadata root of the DR table. */
  readonly root: string;
  /** The table arguments of every command: warehouse, table, replica, mapping. */
  readonly args: string[];
}

/** Copies the sample into a fresh scratch directory (nothing synced yet). */
export function sampleSite(prefix: string): SampleSite {
  const base = scratchDir(prefix);
  const replica = path.join(base, 'replica');
  cpSync(sampleWarehouse, replica, { recursive: true });
  const table = path.join(replica, 'sales', 'orders');
  const dr = path.join(base, 'dr');
  return {
    base,
    replica,
    table,
    metadataDir: path.join(table, 'metadata'),
    dr,
    dbFile: path.join(dr, 'iceberg_catalog.db'),
    root: path.join(dr, 'sales', 'orders', 'metadata'),
    args: [
      '--warehouse',
      dr,
      '--database',
      'sales',
      '--table',
      'orders',
      '--replicated-path',
      replica,
      '--map',
      `${sampleSourcePrefix}=${replica}`,
    ],
  };
}

/** The metadata location the SQLite catalog file holds for sales.orders; undefined without file or row. */
export function catalogLocation(dbFile: string): string | undefined {
  if (!existsSync(dbFile)) return undefined;
  const db = new DatabaseSync(dbFile, { readOnly: true });
  try {
    const row = db
      .prepare(
        "SELECT metadata_location FROM iceberg_tables WHERE table_namespace = 'sales' AND table_name = 'orders'",
      )
      .get() as { metadata_location: string } | undefined;
    return row?.metadata_location;
  } finally {
    db.close();
  }
}

/** sha256 of every file below `dir`, by path: equal maps mean a byte-identical tree. */
export function checksums(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of listFilesRecursive(dir))
    m.set(f, createHash('sha256').update(readFileSync(f)).digest('hex'));
  return m;
}
