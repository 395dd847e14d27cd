/**
 * iceberg-metadata-sync: make replicated Apache Iceberg tables usable at a DR site.
 *
 * The library API: the rewrite-mode engine ({@link syncTable}, {@link planSync},
 * {@link verifyTable}), add-files mode ({@link addFiles}, {@link planAddFiles}), table
 * inspection, the codecs, storage and catalogs they are built from.
 */

export {
  type AddFilesOptions,
  type AddFilesProgress,
  type AddFilesReport,
  addFiles,
  type CreateTableOptions,
  planAddFiles,
  type SkippedFile,
} from './addfiles/engine.ts';
export {
  DEFAULT_INCLUDE,
  hivePartitionValues,
  type ScanOptions,
  type ScanResult,
  scanDataFiles,
} from './addfiles/scan.ts';
export * from './catalog/index.ts';
export * from './errors.ts';
export * from './iceberg/metadata.ts';
export * from './iceberg/metadata-json.ts';
export * from './iceberg/metadata-validate.ts';
export {
  NAME_MAPPING_PROPERTY,
  type NameMapping,
  nameMappingOf,
  nameMappingToJson,
  parseNameMapping,
} from './iceberg/name-mapping.ts';
export {
  formatInspectReport,
  type InspectReport,
  inspectExitCode,
  inspectTable,
} from './inspect/inspect.ts';
export {
  METRIC_NAMES,
  type MetricsCarryOver,
  TABLE_RESULTS,
  WarehouseMetrics,
  type WarehouseMetricsOptions,
} from './metrics/metrics.ts';
export {
  carryOverPath,
  checkMetricsFilePath,
  readCarryOver,
  recordRunToTextfile,
  writeFileAtomic,
  writeMetricsTextfile,
} from './metrics/textfile.ts';
export {
  bool,
  duration,
  nonNegativeInt,
  oneOf,
  parseSetting,
  positiveInt,
  positiveNumber,
  type Rule,
} from './options/values.ts';
export { type ParquetFooter, readParquetFooter } from './parquet/footer.ts';
export {
  type ColumnResolution,
  parquetToIcebergStruct,
  parquetTree,
  resolveColumns,
} from './parquet/iceberg-schema.ts';
export {
  type DataFileMetrics,
  footerMetrics,
  type MetricsMode,
  parseMetricsMode,
} from './parquet/metrics.ts';
export { rewritePositionDeleteFile } from './parquet/position-deletes.ts';
export {
  type PuffinBlob,
  type PuffinFooter,
  readPuffinFooter,
  rewritePuffinFooter,
} from './puffin/puffin.ts';
export type {
  BackendSettings,
  SchemeInfo,
  StorageBackend,
  StorageLocation,
  StoragePrefixSettings,
  StorageRoute,
} from './storage/backend.ts';
export { LocalStorage, localBackend, toLocalPath } from './storage/local/index.ts';
export {
  MEMORY_SCHEME,
  MemoryStorage,
  type MemoryStorageOptions,
  memoryBackend,
} from './storage/memory/index.ts';
export {
  backendForLocation,
  backendForScheme,
  createStorageRouter,
  knownSchemes,
  STORAGE_BACKENDS,
  type StorageRouterSettings,
} from './storage/registry.ts';
export { type StorageResolver, StorageRouter } from './storage/router.ts';
export {
  parseS3Path,
  registerS3Storage,
  S3_PROPERTY_KEYS,
  S3_SCHEMES,
  type S3Location,
  type S3PrefixOptions,
  S3Storage,
  type S3StorageOptions,
  s3Backend,
  s3OptionsFromProperties,
  s3Routes,
} from './storage/s3/index.ts';
export * from './storage/storage.ts';
export {
  DEFAULT_NAMENODE_HTTP_PORT,
  DEFAULT_NAMENODE_RPC_PORT,
  HDFS_PROPERTY_KEYS,
  HDFS_SCHEMES,
  type HdfsLocation,
  type HdfsPrefixOptions,
  hadoopNameservices,
  hdfsRoutes,
  normalizeNamenode,
  parseHdfsPath,
  registerHdfsStorage,
  WebHdfsStorage,
  type WebHdfsStorageOptions,
  webHdfsBackend,
  webHdfsOptionsFromProperties,
} from './storage/webhdfs/index.ts';
export { planSync, type SyncTableOptions, syncTable } from './sync/engine.ts';
export type { MissingFile, SyncReport, SyncStatus } from './sync/report.ts';
export { type VerifyOptions, type VerifyProblem, type VerifyReport, verifyTable } from './sync/verify.ts';
export { acquireLock, LockedError, type RunLock } from './table/lock.ts';
export * from './table/path-mapping.ts';
export type { ProgressEvent } from './table/progress.ts';
export {
  assertOutsideReplica,
  findReplicaOverlaps,
  type GuardedLocation,
  metadataRootOutputs,
  type ReplicaGuardOptions,
  type ReplicaOverlap,
  replicaLocations,
} from './table/replica-guard.ts';
export { JsonDecimal, type JsonObject, type JsonValue, parseJson, stringifyJson } from './util/json.ts';
export {
  defaultLogger,
  jsonLogger,
  LOG_LEVELS,
  type LogFn,
  type Logger,
  type LogLevel,
  type SinkOptions,
  silentLogger,
  textLogger,
} from './util/logger.ts';
export { isSecretName, MASK, redactSecrets, redactUrl } from './util/redact.ts';
export * from './warehouse/index.ts';
export {
  type Backoff,
  type LagSample,
  newRunId,
  type RunContext,
  type WatchDeps,
  WatchLoop,
  type WatchLoopOptions,
  type WatchRound,
  type WatchState,
} from './watch/loop.ts';
export { type RunWatchOptions, runWatch } from './watch/run-watch.ts';
export { startWatchServer, type WatchServer, type WatchServerOptions } from './watch/server.ts';
export { renderStatusPage } from './watch/status-page.ts';
