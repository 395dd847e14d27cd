/**
 * Finding the tables of a replicated warehouse without asking a source catalog (there is none at
 * the DR site): the two layouts writers use, `<root>/<db>.db/<table>` (Hive, Spark's session
 * catalog, Impala) and `<root>/<namespace>/<table>` (Iceberg's Hadoop catalog, REST warehouses),
 * each table recognised by a `metadata/` directory holding a `*.metadata.json` file.
 *
 * The listing is bounded: the root, each namespace directory, each candidate table directory
 * (for its sub-directories) and the first page of each `metadata/` directory; data directories
 * are never listed. Hidden and `_`-prefixed names are left out, as readers leave them out.
 */
import { ConfigError } from '../errors.ts';
import { isMetadataFileName } from '../iceberg/metadata-json.ts';
import type { StorageResolver } from '../storage/router.ts';
import type { Storage } from '../storage/storage.ts';

/** A table found in the replica. */
export interface DiscoveredTable {
  /** `namespace.name`. */
  readonly key: string;
  readonly namespace: readonly string[];
  readonly name: string;
  /** The replicated table directory. */
  readonly location: string;
}

/** A name found at more than one place: not synced, since either could be the right one. */
export interface DiscoveryConflict {
  readonly key: string;
  readonly locations: readonly string[];
}

/** What discovery found under the roots. */
export interface DiscoveryResult {
  readonly tables: DiscoveredTable[];
  readonly conflicts: DiscoveryConflict[];
  /** Directory listings made. */
  readonly listings: number;
}

function hidden(name: string): boolean {
  return name.startsWith('.') || name.startsWith('_');
}

function join(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, '')}/${name}`;
}

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function directoriesOf(storage: Storage, dir: string, signal?: AbortSignal): AsyncIterable<string> {
  if (!storage.listDirectories) {
    throw new ConfigError(
      `cannot discover tables under ${dir}: its storage cannot list directories; name the tables under replication.tables with a location`,
    );
  }
  return storage.listDirectories(dir, signal ? { signal } : {});
}

/** Whether `dir/metadata` holds a metadata.json (reads the listing only up to the first one). */
async function hasMetadata(storage: Storage, dir: string, signal?: AbortSignal): Promise<boolean> {
  const meta = join(dir, 'metadata');
  for await (const f of storage.list(meta, signal ? { signal } : {})) {
    if (isMetadataFileName(f.path)) return true;
  }
  return false;
}

/**
 * Lists the tables under each root. A table whose `namespace.name` is found at two places (under
 * two roots, or as `<db>` and `<db>.db`) is a conflict, not a table.
 */
export async function discoverTables(
  roots: readonly string[],
  resolve: StorageResolver,
  options: { signal?: AbortSignal; concurrency?: number } = {},
): Promise<DiscoveryResult> {
  const { signal } = options;
  const found = new Map<string, DiscoveredTable[]>();
  let listings = 0;
  for (const root of roots) {
    const storage = resolve(root);
    const namespaces = await collect(directoriesOf(storage, root, signal));
    listings++;
    for (const nsDir of namespaces) {
      if (hidden(nsDir)) continue;
      const namespace = nsDir.endsWith('.db') && nsDir.length > 3 ? nsDir.slice(0, -3) : nsDir;
      const nsPath = join(root, nsDir);
      const candidates = await collect(directoriesOf(storage, nsPath, signal));
      listings++;
      // The metadata listings of one namespace go out together: on object stores and WebHDFS each
      // is a round trip.
      const width = options.concurrency ?? 16;
      for (let i = 0; i < candidates.length; i += width) {
        const batch = candidates.slice(i, i + width).filter((n) => !hidden(n));
        const ok = await Promise.all(batch.map((t) => hasMetadata(storage, join(nsPath, t), signal)));
        listings += batch.length;
        batch.forEach((name, j) => {
          if (!ok[j]) return;
          const key = `${namespace}.${name}`;
          const t: DiscoveredTable = { key, namespace: [namespace], name, location: join(nsPath, name) };
          found.set(key, [...(found.get(key) ?? []), t]);
        });
      }
    }
  }
  const tables: DiscoveredTable[] = [];
  const conflicts: DiscoveryConflict[] = [];
  for (const [key, list] of [...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (list.length === 1) tables.push(list[0]!);
    else conflicts.push({ key, locations: list.map((t) => t.location) });
  }
  return { tables, conflicts, listings };
}
