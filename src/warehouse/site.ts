/**
 * The DR site a policy describes, opened once for a whole warehouse run: one storage router (the
 * catalog's properties and the `storage:` section), one catalog, and the table list (discovery
 * under the replicated roots plus the tables the policy names with a location), selected by the
 * include/exclude globs and the shard.
 */
import { mkdir } from 'node:fs/promises';
import type { Catalog } from '../catalog/catalog.ts';
import { catalogTypeFor, createCatalog } from '../catalog/registry.ts';
import { createStorageRouter } from '../storage/registry.ts';
import type { StorageRouter } from '../storage/router.ts';
import { assertOutsideReplica, type GuardedLocation } from '../table/replica-guard.ts';
import { defaultLogger, type Logger } from '../util/logger.ts';
import { type DiscoveryConflict, discoverTables } from './discovery.ts';
import type { WarehousePolicy } from './policy.ts';
import { inShard, type Shard, tableSelector } from './selection.ts';

/** An open DR site; close it when done. */
export interface Site {
  readonly router: StorageRouter;
  readonly catalog: Catalog;
  close(): Promise<void>;
}

/** Every replica location the policy names: the roots, the mapping targets, the tables' own locations. */
export function policyReplicas(policy: WarehousePolicy): GuardedLocation[] {
  const out: GuardedLocation[] = policy.replicatedPaths.map((path) => ({
    what: 'replicated warehouse root (replication.replicated-paths)',
    path,
  }));
  for (const m of policy.mappings) out.push({ what: 'mapping target (replication.map)', path: m.target });
  for (const [key, t] of Object.entries(policy.tables)) {
    if (t.location) out.push({ what: `replication.tables.${key}.location`, path: t.location });
    if (t.metadataDir) out.push({ what: `replication.tables.${key}.metadata-dir`, path: t.metadataDir });
    for (const m of t.mappings) out.push({ what: `replication.tables.${key}.map target`, path: m.target });
  }
  return out;
}

/** The catalog's own outputs (its SQLite file, its Hadoop warehouse), as its type declares them. */
function catalogOutputs(policy: WarehousePolicy): GuardedLocation[] {
  return [...(catalogTypeFor(policy.catalog.type)?.writesTo?.(policy.catalog as never) ?? [])];
}

/** The storage router of the policy's site, without its catalog (close it when done). */
export function openStorage(policy: WarehousePolicy, logger: Logger = defaultLogger): StorageRouter {
  return createStorageRouter({
    properties: policy.catalog.properties,
    storage: policy.config.storage ?? [],
    where: `catalog.${policy.catalogName}`,
    onWarning: (m) => logger.warn(m),
  });
}

/**
 * Opens router and catalog. Unless `readOnly`, first checks the catalog's files and `outputs`
 * against every replica location (exit 2 on overlap) and creates the embedded SQLite catalog's
 * directory.
 */
export async function openSite(
  policy: WarehousePolicy,
  options: { readOnly?: boolean; logger?: Logger; outputs?: readonly GuardedLocation[] } = {},
): Promise<Site> {
  const logger = options.logger ?? defaultLogger;
  const router = openStorage(policy, logger);
  try {
    await assertOutsideReplica(policyReplicas(policy), [
      ...catalogOutputs(policy),
      ...(options.outputs ?? []),
    ]);
    const cfg = policy.catalog;
    if (
      !options.readOnly &&
      cfg.type === 'sql' &&
      cfg.warehouse &&
      (cfg as { uri: string }).uri === `sqlite:///${cfg.warehouse}/iceberg_catalog.db`
    ) {
      await mkdir(cfg.warehouse, { recursive: true });
    }
    const catalog = await createCatalog(policy.catalogName, policy.catalog, router.resolver, {
      onWarning: (m) => logger.warn(m),
      ...(options.readOnly ? { readOnly: true } : {}),
    });
    return {
      router,
      catalog,
      close: async () => {
        const results = await Promise.allSettled([catalog.close(), router.close()]);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed) throw failed.reason;
      },
    };
  } catch (err) {
    await router.close().catch(() => {});
    throw err;
  }
}

/** A table a run takes. */
export interface SelectedTable {
  readonly key: string;
  readonly namespace: readonly string[];
  readonly name: string;
  /** The replicated table (or data) directory; undefined when named by the policy but not found. */
  readonly location?: string;
  /** Set when the table cannot run: found at two places. */
  readonly conflict?: DiscoveryConflict;
}

/** The tables of a run: discovered and named ones, selected by globs (`disabled` ones left out) and shard. */
export async function selectTables(
  policy: WarehousePolicy,
  site: Pick<Site, 'router'>,
  options: { shard?: Shard; signal?: AbortSignal } = {},
): Promise<{ tables: SelectedTable[]; listings: number }> {
  const found =
    policy.replicatedPaths.length > 0
      ? await discoverTables(policy.replicatedPaths, site.router.resolver, {
          ...(options.signal ? { signal: options.signal } : {}),
        })
      : { tables: [], conflicts: [], listings: 0 };
  const all = new Map<string, SelectedTable>();
  for (const t of found.tables) all.set(t.key, t);
  for (const c of found.conflicts) {
    const [namespace, name] = splitKey(c.key);
    all.set(c.key, { key: c.key, namespace, name, conflict: c });
  }
  for (const [key, t] of Object.entries(policy.tables)) {
    const [namespace, name] = splitKey(key);
    // A location in the policy wins over discovery (and settles a conflict).
    if (t.location) all.set(key, { key, namespace, name, location: t.location });
    else if (!all.has(key)) all.set(key, { key, namespace, name });
  }
  const selected = tableSelector(policy.include, policy.exclude);
  const tables = [...all.values()]
    .filter((t) => selected(t.key) && !policy.tables[t.key]?.disabled && inShard(t.key, options.shard))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { tables, listings: found.listings };
}

/** `a.b.c` → namespace `[a, b]`, name `c`. */
export function splitKey(key: string): [string[], string] {
  const parts = key.split('.');
  return [parts.slice(0, -1), parts.at(-1)!];
}
