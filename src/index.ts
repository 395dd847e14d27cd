/**
 * iceberg-metadata-sync: make replicated Apache Iceberg tables usable at a DR site.
 *
 * The library API: the sync engine ({@link syncTable}, {@link planSync}, {@link verifyTable}),
 * table inspection, the codecs, storage and catalogs it is built from.
 */
export * from './errors.ts';
export { type JsonObject, type JsonValue, JsonDecimal, parseJson, stringifyJson } from './util/json.ts';
export * from './iceberg/metadata.ts';
export * from './iceberg/metadata-json.ts';
export * from './storage/storage.ts';
export { LocalStorage, toLocalPath } from './storage/local.ts';
export { StorageRouter, type StorageResolver } from './storage/router.ts';
export * from './catalog/index.ts';
export * from './sync/path-mapping.ts';
export { syncTable, planSync, type SyncTableOptions, type ProgressEvent } from './sync/engine.ts';
export type { SyncReport, SyncStatus, MissingFile } from './sync/report.ts';
export { verifyTable, type VerifyOptions, type VerifyReport, type VerifyProblem } from './sync/verify.ts';
export { inspectTable, formatInspectReport, type InspectReport } from './inspect/inspect.ts';
export { readParquetFooter, type ParquetFooter } from './parquet/footer.ts';
export { rewritePositionDeleteFile } from './parquet/position-deletes.ts';
export { readPuffinFooter, rewritePuffinFooter, type PuffinBlob, type PuffinFooter } from './puffin/puffin.ts';
