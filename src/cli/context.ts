/** Turns command-line options into the library's inputs: catalog, table, locations, mapping. */
import { mkdir } from 'node:fs/promises';
import * as nodePath from 'node:path';
import type { Catalog, TableIdentifier } from '../catalog/catalog.ts';
import {
  type CatalogConfig,
  type CatalogsConfig,
  catalogConfig,
  loadCatalogsConfig,
  type StoragePrefixConfig,
  selectCatalogName,
} from '../catalog/config.ts';
import { CATALOG_TYPES, catalogTypeFor, createCatalog } from '../catalog/registry.ts';
import { ConfigError } from '../errors.ts';
import { toLocalPath } from '../storage/local/local.ts';
import { createStorageRouter } from '../storage/registry.ts';
import type { StorageRouter } from '../storage/router.ts';
import { type PathMappingRule, parseMappingRule } from '../table/path-mapping.ts';
import { type GuardedLocation, replicaLocations } from '../table/replica-guard.ts';
import { defaultLogger, type Logger } from '../util/logger.ts';
import { assertCommandOutsideReplica, embeddedSqliteDir } from './output-guard.ts';

/** Options shared by plan, sync and verify. */
export interface TableCommandOptions {
  config?: string;
  catalog?: string;
  catalogType?: string;
  catalogUri?: string;
  warehouse?: string;
  database: string;
  table: string;
  replicatedPath?: string;
  tableLocation?: string;
  metadataRoot?: string;
  map?: string[];
}

/** Everything a table command needs. */
export interface TableContext {
  readonly catalog: Catalog;
  readonly catalogConfig: CatalogConfig;
  readonly table: TableIdentifier;
  readonly router: StorageRouter;
  readonly mappings: PathMappingRule[];
  readonly metadataRoot: string;
  readonly warehouse: string | undefined;
}

/** Absolute local form of a path given on the command line (URIs with a scheme stay as they are). */
export function absolutize(p: string): string {
  if (isRemote(p)) return p;
  return nodePath.resolve(toLocalPath(p));
}

/** True for a path with a scheme other than `file:` (`s3://...`, `hdfs://...`). */
function isRemote(p: string): boolean {
  return /^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(p) && !p.startsWith('file:');
}

/** The configuration file named by `--config` or ICEBERG_SYNC_CONFIG, if any. */
async function loadConfigFile(o: { config?: string }): Promise<CatalogsConfig | undefined> {
  const file = o.config ?? process.env.ICEBERG_SYNC_CONFIG;
  return file ? loadCatalogsConfig(file) : undefined;
}

/**
 * The storage router of a command: every backend of the registry (`storage/registry.ts`), with
 * the catalog's properties as their defaults (`s3.*`, `hdfs.*`, Hadoop-style `dfs.*`
 * nameservices) and the `storage:` section's per-location overrides.
 */
export function storageRouter(
  catalogProperties: Readonly<Record<string, string>> = {},
  storage: readonly StoragePrefixConfig[] = [],
  where = 'catalog',
  logger: Logger = defaultLogger,
): StorageRouter {
  return createStorageRouter({
    properties: catalogProperties,
    storage,
    where,
    onWarning: (m) => logger.warn(m),
  });
}

/**
 * The storage router for commands without a catalog (`inspect`): S3 settings from the
 * configuration file's catalog (when one is named or is the only one) and its `storage:` section.
 */
export async function standaloneStorageRouter(
  o: { config?: string; catalog?: string },
  logger: Logger = defaultLogger,
): Promise<StorageRouter> {
  const file = await loadConfigFile(o);
  let cfg: CatalogConfig | undefined;
  if (file && (o.catalog !== undefined || file.defaultCatalog || Object.keys(file.catalogs).length === 1)) {
    cfg = catalogConfig(file, o.catalog);
  }
  return storageRouter(cfg?.properties, file?.storage, `catalog.${o.catalog ?? 'default'}`, logger);
}

async function resolveCatalogConfig(
  o: TableCommandOptions,
  file: CatalogsConfig | undefined,
  name: string,
): Promise<CatalogConfig> {
  let cfg: CatalogConfig | undefined;
  if (file && (o.catalog !== undefined || Object.keys(file.catalogs).length > 0))
    cfg = catalogConfig(file, name);
  const typeName = o.catalogType ?? cfg?.type ?? 'sql';
  const type = catalogTypeFor(typeName);
  if (!type) {
    throw new ConfigError(
      `unsupported --catalog-type '${typeName}' (${CATALOG_TYPES.map((t) => t.type).join(' or ')})`,
    );
  }
  const warehouse = o.warehouse ?? cfg?.warehouse;
  const flags = {
    ...(o.catalogUri ? { uri: o.catalogUri } : {}),
    ...(warehouse ? { warehouse: type.warehouseIsName ? warehouse : absolutize(warehouse) } : {}),
  };
  // The descriptor gives that type's member of the union.
  return (await type.fromFlags(flags, cfg)) as CatalogConfig;
}

/** How a command uses its table context. */
export interface TableContextOptions {
  /** Create nothing and open the catalog read-only (plan, verify). */
  readonly readOnly?: boolean;
  /** Check the outputs against the replica before anything is created (default true). */
  readonly guard?: boolean;
  /** Outputs besides the catalog and the metadata root, e.g. the copy plan. */
  readonly outputs?: readonly GuardedLocation[];
}

/** Builds catalog, identifiers, locations and mapping rules from options. */
export async function tableContext(
  o: TableCommandOptions,
  use: TableContextOptions = {},
  logger: Logger = defaultLogger,
): Promise<TableContext> {
  const file = await loadConfigFile(o);
  // --catalog, else the file's default-catalog, else its only catalog, else `dr`.
  const name = selectCatalogName(file, o.catalog);
  const cfg = await resolveCatalogConfig(o, file, name);
  const router = storageRouter(cfg.properties, file?.storage, `catalog.${name}`, logger);
  const table: TableIdentifier = { namespace: o.database.split('.'), name: o.table };
  const warehouse =
    'warehouse' in cfg && cfg.warehouse && !catalogTypeFor(cfg.type)?.warehouseIsName
      ? absolutize(cfg.warehouse)
      : undefined;
  const defaultRoot = warehouse
    ? `${warehouse}/${[...table.namespace, table.name].join('/')}/metadata`
    : undefined;
  const metadataRoot = o.metadataRoot ? absolutize(o.metadataRoot) : defaultRoot;
  if (!metadataRoot) {
    throw new ConfigError(
      `no place for the rewritten metadata: give --metadata-root${catalogTypeFor(cfg.type)?.warehouseIsName ? '' : ', or a catalog warehouse'}`,
    );
  }
  if (cfg.type === 'hadoop' && defaultRoot && metadataRoot !== defaultRoot) {
    throw new ConfigError(
      `a hadoop catalog keeps metadata in ${defaultRoot}; drop --metadata-root or use a sql catalog`,
    );
  }
  const mappings = (o.map ?? [])
    .map(parseMappingRule)
    .map((r) => ({ source: r.source, target: absolutize(r.target) }));
  if (use.guard ?? true) {
    // Before anything at all is created: the catalog file, the warehouse, the metadata root.
    const replicas = replicaLocations({
      ...(o.replicatedPath ? { replicatedPath: absolutize(o.replicatedPath) } : {}),
      ...(o.tableLocation ? { tableLocation: absolutize(o.tableLocation) } : {}),
      mapTargets: mappings.map((m) => m.target),
    });
    await assertCommandOutsideReplica(replicas, cfg, metadataRoot, router, use.outputs);
  }
  const sqliteDir = embeddedSqliteDir(cfg);
  if (sqliteDir && !use.readOnly) await mkdir(sqliteDir, { recursive: true });
  const catalog = await createCatalog(name, cfg, router.resolver, {
    onWarning: (m) => logger.warn(m),
    ...(use.readOnly ? { readOnly: true } : {}),
  });
  return { catalog, catalogConfig: cfg, table, router, mappings, metadataRoot, warehouse };
}

/** Closes what a table command opened: the catalog, then every storage backend (both, whatever fails). */
export async function closeTableContext(ctx: TableContext): Promise<void> {
  const results = await Promise.allSettled([ctx.catalog.close(), ctx.router.close()]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Finds the replicated table: `--table-location`, or `<replicated-path>/<db>/<table>` or `<db>.db/<table>`. */
export async function replicatedTableLocation(
  o: TableCommandOptions,
  router: StorageRouter,
): Promise<string> {
  if (o.tableLocation) return absolutize(o.tableLocation);
  if (!o.replicatedPath)
    throw new ConfigError('give --replicated-path DIR (the DR warehouse root) or --table-location DIR');
  const root = absolutize(o.replicatedPath).replace(/\/+$/, '');
  const tried: string[] = [];
  for (const dir of [`${root}/${o.database}/${o.table}`, `${root}/${o.database}.db/${o.table}`]) {
    tried.push(dir);
    const meta = `${dir}/metadata`;
    for await (const _ of router.resolve(meta).list(meta)) return dir;
  }
  throw new ConfigError(
    `no replicated table found at ${tried.join(' or ')} (no metadata/ directory with files)`,
  );
}
