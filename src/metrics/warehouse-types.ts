/**
 * The shapes a warehouse run and a status check produce, as metrics and the watch loop read them.
 * They belong to the warehouse module (src/warehouse/types.ts: `syncAll` reports,
 * `warehouseStatus` rows); this copy lets metrics and watch build on their own, and becomes a
 * re-export of that module's types once both are in one tree.
 */

/** The outcome of one table in a warehouse run. */
export type WarehouseTableStatus =
  /** A new DR snapshot was committed. */
  | 'committed'
  /** Nothing new: the DR table already reflects the newest complete replicated version. */
  | 'up-to-date'
  /** The newest replicated version is not complete yet; the newest complete one is committed (or planned). */
  | 'behind'
  /** The table's run failed; `error` says why. Other tables are not affected. */
  | 'failed'
  /** Not run: another run holds the table's lock, or the run was stopped before the table started. */
  | 'skipped'
  /** plan-all: the dry run found something to commit. */
  | 'planned'
  /** verify-all: the committed DR table passed every check. */
  | 'verified';

/** One table of a warehouse run. */
export interface WarehouseTableReport {
  /** `namespace.name` (nested namespace levels joined by dots). */
  table: string;
  status: WarehouseTableStatus;
  /** The DR table's current snapshot id after the run, as a string (64-bit ids never pass a JS number). */
  snapshotId?: string;
  /** The DR table's metadata.json after the run. */
  metadataLocation?: string;
  /** Files of the newest replicated version missing (or short) at the DR site; 0 when none or not known. */
  missingFiles: number;
  /** Metadata files rewritten (manifests, manifest lists, delete files) or, in add-files mode, data files added. */
  filesRewritten?: number;
  /** Bytes written under the metadata root by this run, when the engine reports it. */
  bytesWritten?: number;
  durationMs: number;
  /** The exit code this table contributes to the run's (see docs/usage.md, "Exit codes of warehouse runs"). */
  exitCode?: number;
  /** With `failed` and `skipped`: the stable error code (`LOCKED`, `CORRUPT_FILE`, ...) and message. */
  error?: { code: string; message: string };
  /** The per-table engine report (`SyncReport`, `AddFilesReport` or `VerifyReport`), when the engine ran. */
  report?: unknown;
}

/** One warehouse run (`sync-all`, `plan-all`, `verify-all`). */
export interface WarehouseRunReport {
  /** Unique per run; recorded in every table's run history. */
  runId: string;
  /** ISO 8601. */
  startedAt: string;
  finishedAt: string;
  /** `ok` (exit 0), `behind` (3), `aborted` (8) or `failed` (any other non-zero exit code). */
  status: string;
  /** The aggregated exit code (docs/usage.md, "Exit codes of warehouse runs"). */
  exitCode: number;
  /** The selected tables (after include/exclude and `--shard`), in table order. */
  tables: WarehouseTableReport[];
}

/** What `status` says about one table: DR catalog against replica, RPO lag and the last run. */
export interface TableStatus {
  table: string;
  /** The DR catalog's current snapshot of the table (none when not registered or empty). */
  drSnapshotId?: string;
  /** That snapshot's commit time at the source (`timestamp-ms`), ISO 8601. */
  drCommittedAt?: string;
  drMetadataLocation?: string;
  /** The newest snapshot of the replica whose files have all arrived (what a sync would commit). */
  replicaNewestSnapshotId?: string;
  /** The current snapshot of the newest replicated metadata.json: what the source had, arrived or not. */
  replicaNewestReferencedSnapshotId?: string;
  /** Commit time of {@link replicaNewestReferencedSnapshotId}, ISO 8601. */
  replicaNewestCommittedAt?: string;
  /**
   * RPO lag: commit time of the newest source snapshot visible in the replica minus that of the
   * DR snapshot, in seconds (0 when they are the same snapshot); undefined when not computable.
   */
  lagSeconds?: number;
  /** The table's RPO threshold. */
  thresholdSeconds: number;
  /** `lagSeconds` within `thresholdSeconds` (false when the lag is not known, e.g. never synced). */
  withinThreshold: boolean;
  /** Files of the newest replicated version not (fully) at the DR site. */
  missingFiles: number;
  /** The last run recorded in the table's run history. */
  lastRun?: { status: string; at: string; durationMs: number; error?: { code: string; message: string } };
  /** Set when the status itself could not be determined (replica or catalog unreadable). */
  error?: { code: string; message: string };
}
