/**
 * Catalogs: the {@link Catalog} contract, the SQL (JdbcCatalog/PyIceberg) and Hadoop
 * implementations, their configuration, and {@link createCatalog} to build one from it.
 */
import { ConfigError } from '../errors.ts';
import type { StorageResolver } from '../storage/router.ts';
import type { Catalog } from './catalog.ts';
import type { CatalogConfig } from './config.ts';
import { HadoopCatalog } from './hadoop/hadoop.ts';
import { SqlCatalog } from './sql/sql.ts';

export type { Catalog, LoadedTable, TableIdentifier } from './catalog.ts';
export { formatIdentifier, parseIdentifier, validateIdentifier, validateNamespace } from './catalog.ts';
export type {
  CatalogConfig,
  CatalogsConfig,
  HadoopCatalogConfig,
  ParseOptions,
  SqlCatalogConfig,
  StoragePrefixConfig,
} from './config.ts';
export { catalogConfig, loadCatalogsConfig, parseCatalogsConfig } from './config.ts';
export type { HadoopCatalogOptions, HadoopLoadedTable } from './hadoop/hadoop.ts';
export { HadoopCatalog, metadataFileVersion, VERSION_HINT } from './hadoop/hadoop.ts';
export type { SqlCatalogOptions, SqlSchemaVersion, SqlTarget } from './sql/sql.ts';
export { parseSqlUri, redactUri, SQL_CATALOG_DDL, SqlCatalog } from './sql/sql.ts';
export type { SqlDriver, SqlExecutor, SqliteDriverOptions, SqlRow, SqlValue } from './sql/sql-driver.ts';
export { NodeSqliteDriver, PgDriver } from './sql/sql-driver.ts';

/** Options of {@link createCatalog}. */
export interface CreateCatalogOptions {
  /** Non-fatal problems (e.g. a version hint that could not be written). */
  readonly onWarning?: (message: string) => void;
  /** Base for relative SQLite paths (default the working directory, as SQLAlchemy resolves them). */
  readonly cwd?: string;
}

/**
 * Opens the catalog `name` described by `config`. `storageFor` supplies the storage for a
 * path: the warehouse of a Hadoop catalog, metadata files a SQL catalog writes. The caller
 * closes the catalog.
 */
export async function createCatalog(
  name: string,
  config: CatalogConfig,
  storageFor: StorageResolver,
  options: CreateCatalogOptions = {},
): Promise<Catalog> {
  const catalogName = config.catalogName ?? name;
  switch (config.type) {
    case 'sql':
      return SqlCatalog.open({
        name: catalogName,
        uri: config.uri,
        user: config.user,
        password: config.password,
        busyTimeoutMs: config.busyTimeoutMs,
        initTables: config.initTables,
        storageFor,
        cwd: options.cwd,
      });
    case 'hadoop':
      return new HadoopCatalog({
        name: catalogName,
        warehouse: config.warehouse,
        storage: storageFor(config.warehouse),
        onWarning: options.onWarning,
      });
    default:
      throw new ConfigError(`unsupported catalog type '${(config as { type: string }).type}'`);
  }
}
