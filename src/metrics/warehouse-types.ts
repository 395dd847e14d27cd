/**
 * The shapes a warehouse run and a status check produce, as metrics and the watch loop read them.
 * They are the warehouse module's (`syncAll` reports, `warehouseStatus` rows); this file holds the
 * agreed subset so that metrics and watch build on their own, and re-exports the warehouse
 * module's types once both are in one tree.
 */

/** One table's outcome in a warehouse run. */
export interface WarehouseTableReport {
  /** `namespace.name` (nested namespaces joined with dots). */
  readonly table: string;
  readonly status: 'committed' | 'up-to-date' | 'behind' | 'failed' | 'skipped';
  /** The DR table's current snapshot id after the run, as a string. */
  readonly snapshotId?: string;
  readonly metadataLocation?: string;
  /** Files of the newest replicated version still missing at the DR site. */
  readonly missingFiles: number;
  /** Metadata files (manifests, manifest lists, delete files) this run wrote. */
  readonly filesRewritten?: number;
  /** Bytes of metadata this run wrote. */
  readonly bytesWritten?: number;
  readonly durationMs: number;
  readonly error?: { readonly code: string; readonly message: string };
}

/** A whole warehouse run (`sync-all`, or one round of `watch`). */
export interface WarehouseRunReport {
  readonly runId: string;
  /** ISO 8601. */
  readonly startedAt: string;
  /** ISO 8601. */
  readonly finishedAt: string;
  readonly status: string;
  readonly exitCode: number;
  readonly tables: readonly WarehouseTableReport[];
}

/** A table's DR state: what the DR catalog holds, how far behind the replica it is, its last run. */
export interface TableStatus {
  readonly table: string;
  readonly drSnapshotId?: string;
  /** ISO 8601: when the committed DR snapshot was committed at the source. */
  readonly drCommittedAt?: string;
  readonly drMetadataLocation?: string;
  readonly replicaNewestSnapshotId?: string;
  /** RPO lag: how far the committed DR snapshot is behind the newest one in the replica. */
  readonly lagSeconds?: number;
  readonly thresholdSeconds: number;
  readonly withinThreshold: boolean;
  readonly missingFiles: number;
  readonly lastRun?: {
    readonly status: string;
    /** ISO 8601. */
    readonly at: string;
    readonly durationMs: number;
    readonly error?: { readonly code: string; readonly message: string };
  };
}
