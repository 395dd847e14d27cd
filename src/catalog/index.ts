/**
 * Catalogs: the {@link Catalog} contract, the catalog types of the registry (SQL for
 * JdbcCatalog/PyIceberg, Hadoop, REST, Glue, Hive Metastore), their configuration, and {@link createCatalog} to open one.
 */
export type { Catalog, LoadedTable, TableIdentifier } from './catalog.ts';
export { formatIdentifier, parseIdentifier, validateIdentifier, validateNamespace } from './catalog.ts';
export type { CatalogConfigBase, CatalogFlags, CatalogType, OpenCatalogOptions } from './catalog-type.ts';
export type {
  CatalogConfig,
  CatalogsConfig,
  GlueCatalogConfig,
  HadoopCatalogConfig,
  ParseOptions,
  RestCatalogConfig,
  SqlCatalogConfig,
  StoragePrefixConfig,
} from './config.ts';
export { catalogConfig, loadCatalogsConfig, parseCatalogsConfig, selectCatalogName } from './config.ts';
export type { GlueCatalogOptions } from './glue/index.ts';
export { GlueCatalog, glueCatalogType } from './glue/index.ts';
export type { HadoopCatalogOptions, HadoopLoadedTable } from './hadoop/index.ts';
export { HadoopCatalog, hadoopCatalogType, metadataFileVersion, VERSION_HINT } from './hadoop/index.ts';
export type {
  HiveCatalogConfig,
  HiveCatalogOptions,
  MetastoreAddress,
  MetastoreCapabilities,
  MetastoreClientOptions,
} from './hive/index.ts';
export { HiveCatalog, hiveCatalogType, parseMetastoreUris } from './hive/index.ts';
export {
  CATALOG_TYPES,
  type CreateCatalogOptions,
  catalogTypeFor,
  catalogTypeNames,
  createCatalog,
} from './registry.ts';
export type { HttpClientOptions, RestAuth, RestCatalogOptions } from './rest/index.ts';
export { RestCatalog, restCatalogType } from './rest/index.ts';
export type {
  SqlCatalogOptions,
  SqlDriver,
  SqlExecutor,
  SqliteDriverOptions,
  SqlRow,
  SqlSchemaVersion,
  SqlTarget,
  SqlValue,
} from './sql/index.ts';
export {
  NodeSqliteDriver,
  PgDriver,
  parseSqlUri,
  redactUri,
  SQL_CATALOG_DDL,
  SqlCatalog,
  sqlCatalogType,
} from './sql/index.ts';
