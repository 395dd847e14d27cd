/** The Hive Metastore catalog type (`hive`): Apache Iceberg's and PyIceberg's HiveCatalog tables. */
export { type HiveCatalogConfig, hiveCatalogSchema, hiveCatalogType } from './descriptor.ts';
export type { HiveCatalogOptions, MetastoreCapabilities } from './hive.ts';
export { HiveCatalog } from './hive.ts';
export type { MetastoreAddress, MetastoreClientOptions } from './metastore-client.ts';
export { parseMetastoreUris } from './metastore-uri.ts';
