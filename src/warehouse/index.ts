/** Whole-warehouse operation: policy, discovery, runs over every table, status. */
export { type CopyPlanSummary, copyPlanFile } from './copy-plans.ts';
export {
  type DiscoveredTable,
  type DiscoveryConflict,
  type DiscoveryResult,
  discoverTables,
} from './discovery.ts';
export { aggregateExitCode, EXIT_PRECEDENCE, runStatusFor } from './exit-code.ts';
export { appendHistory, type HistoryRecord, historyPath, lastRun, readHistory } from './history.ts';
export {
  absolutePath,
  loadPolicy,
  metadataRootFor,
  POLICY_DEFAULTS,
  type PolicyOverrides,
  parsePolicy,
  TABLE_MODES,
  type TableMode,
  type TableOverride,
  type TableSettings,
  tableSettings,
  type WarehousePolicy,
} from './policy.ts';
export {
  planAll,
  runWarehouse,
  syncAll,
  verifyAll,
  type WarehouseMode,
  type WarehouseRunOptions,
  type WarehouseRunResult,
} from './run.ts';
export { inShard, parseShard, type Shard, shardOf, type TableSelector, tableSelector } from './selection.ts';
export { openSite, type SelectedTable, type Site, selectTables } from './site.ts';
export { statusExitCode, type WarehouseStatusOptions, warehouseStatus } from './status.ts';
export type { TableStatus, WarehouseRunReport, WarehouseTableReport, WarehouseTableStatus } from './types.ts';
