/**
 * The watch loop over a fixed list of replicated tables, synced by the real single-table engine
 * (src/sync/engine.ts) into a real SQLite catalog: the scheduler inputs of a watch, for tests, with
 * nothing faked but the table discovery (the tables are listed in a small JSON "policy" file,
 * which watch reloads like a real one).
 *
 * The status is computed as the warehouse status does it, in small: the DR catalog's current
 * snapshot against the newest replicated metadata.json's, lag as the difference of their commit
 * times.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SqlCatalog } from '../../src/catalog/sql/sql.ts';
import { ConfigError, IcebergSyncError } from '../../src/errors.ts';
import type { TableMetadata } from '../../src/iceberg/metadata.ts';
import { decodeMetadata } from '../../src/iceberg/metadata-json.ts';
import type {
  TableStatus,
  WarehouseRunReport,
  WarehouseTableReport,
} from '../../src/metrics/warehouse-types.ts';
import { toLocalPath } from '../../src/storage/local/local.ts';
import { StorageRouter } from '../../src/storage/router.ts';
import { syncTable } from '../../src/sync/engine.ts';
import type { SyncReport } from '../../src/sync/report.ts';
import { newestMetadataFirst } from '../../src/table/metadata-files.ts';
import { childLogger } from '../../src/util/logger.ts';
import type { WatchDeps } from '../../src/watch/loop.ts';

/** One table of the list. */
export interface ListedTable {
  /** `namespace.name`. */
  readonly key: string;
  readonly tableLocation: string;
  readonly mappings: { source: string; target: string }[];
  readonly metadataRoot: string;
  readonly thresholdSeconds: number;
}

/** The JSON "policy" file: the catalog and the tables. */
export interface TableListPolicy {
  /** `sqlite:////abs/file.db`. */
  readonly catalogUri: string;
  readonly tables: ListedTable[];
}

function snapshotAt(m: TableMetadata): { id?: string; atMs?: number } {
  const id = m.currentSnapshotId;
  if (id === undefined || id < 0n) return {};
  const snap = m.snapshots.find((s) => s.snapshotId === id);
  return { id: id.toString(), ...(snap ? { atMs: Number(snap.timestampMs) } : {}) };
}

function readMetadata(file: string): TableMetadata {
  const local = toLocalPath(file);
  return decodeMetadata(readFileSync(local), local).metadata;
}

function newestReplicated(tableLocation: string): TableMetadata | undefined {
  const dir = path.join(tableLocation, 'metadata');
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir).map((n) => ({ path: path.join(dir, n), size: 0 }));
  const newest = newestMetadataFirst(files)[0];
  return newest ? readMetadata(newest.path) : undefined;
}

const EXIT: Record<string, number> = { committed: 0, 'up-to-date': 0, behind: 3 };

/** Watch inputs over the tables listed in `policyFile` (re-read on every reload). */
export function tableListDeps(policyFile: string): WatchDeps & { policy(): TableListPolicy } {
  let policy: TableListPolicy | undefined;
  const last = new Map<string, { report: WarehouseTableReport; at: string; sync?: SyncReport }>();
  const resolve = new StorageRouter().resolver;
  const open = (readOnly = false) =>
    SqlCatalog.open({ name: 'dr', uri: policy!.catalogUri, storageFor: resolve, readOnly });

  return {
    policy: () => policy!,
    policyFiles: () => [policyFile],
    async loadPolicy() {
      let parsed: TableListPolicy;
      try {
        parsed = JSON.parse(readFileSync(policyFile, 'utf8')) as TableListPolicy;
      } catch (err) {
        throw new ConfigError(`${policyFile}: ${(err as Error).message}`);
      }
      if (!Array.isArray(parsed.tables)) throw new ConfigError(`${policyFile}: tables: expected a list`);
      policy = parsed;
    },
    async runOnce(ctx): Promise<WarehouseRunReport> {
      const startedAt = new Date().toISOString();
      const catalog = await open();
      const tables: WarehouseTableReport[] = [];
      try {
        for (const t of policy!.tables) {
          const at = new Date().toISOString();
          let r: WarehouseTableReport;
          if (ctx.stop.aborted) {
            r = {
              table: t.key,
              status: 'skipped',
              missingFiles: 0,
              durationMs: 0,
              error: { code: 'ABORTED', message: 'the run was stopped before this table started' },
            };
          } else if (ctx.skip(t.key)) {
            r = {
              table: t.key,
              status: 'skipped',
              missingFiles: 0,
              durationMs: 0,
              error: { code: 'BACKOFF', message: 'backing off after repeated failures' },
            };
          } else {
            ctx.onTableStart(t.key);
            const logger = childLogger(ctx.logger, { table: t.key });
            logger.info(`${t.key}: sync started`);
            const began = Date.now();
            const [namespace, name] = [
              t.key.slice(0, t.key.lastIndexOf('.')),
              t.key.slice(t.key.lastIndexOf('.') + 1),
            ];
            let sync: SyncReport | undefined;
            try {
              sync = await syncTable({
                table: { namespace: namespace.split('.'), name },
                catalog,
                tableLocation: t.tableLocation,
                mappings: t.mappings,
                metadataRoot: t.metadataRoot,
                resolve,
                signal: ctx.abort,
                logger,
              });
              r = {
                table: t.key,
                status: sync.status === 'planned' ? 'committed' : sync.status,
                ...(sync.snapshotId ? { snapshotId: sync.snapshotId } : {}),
                ...(sync.metadataLocation ? { metadataLocation: sync.metadataLocation } : {}),
                missingFiles: sync.missingFiles,
                filesRewritten:
                  sync.manifestsRewritten + sync.manifestListsRewritten + sync.deleteFilesRewritten,
                durationMs: sync.durationMs,
              };
            } catch (err) {
              r = {
                table: t.key,
                status: 'failed',
                missingFiles: 0,
                durationMs: Date.now() - began,
                error: {
                  code: err instanceof IcebergSyncError ? err.code : 'INTERNAL',
                  message: (err as Error).message,
                },
              };
            }
            logger.info({ status: r.status }, `${t.key}: ${r.status}`);
            ctx.onTableDone(r);
            if (r.status !== 'skipped') last.set(t.key, { report: r, at, ...(sync ? { sync } : {}) });
          }
          tables.push(r);
        }
      } finally {
        await catalog.close();
      }
      const failed = tables.some((t) => t.status === 'failed');
      const aborted = tables.some((t) => t.error?.code === 'ABORTED');
      const behind = tables.some((t) => t.status === 'behind');
      return {
        runId: ctx.runId,
        startedAt,
        finishedAt: new Date().toISOString(),
        status: failed ? 'failed' : aborted ? 'aborted' : behind ? 'behind' : 'ok',
        exitCode: failed
          ? 4
          : aborted
            ? 8
            : behind
              ? 3
              : Math.max(0, ...tables.map((t) => EXIT[t.status] ?? 0)),
        tables,
      };
    },
    async statusOf(): Promise<TableStatus[]> {
      const catalog = await open(true);
      try {
        const rows: TableStatus[] = [];
        for (const t of policy!.tables) {
          const [namespace, name] = [
            t.key.slice(0, t.key.lastIndexOf('.')),
            t.key.slice(t.key.lastIndexOf('.') + 1),
          ];
          const loaded = await catalog.loadTable({ namespace: namespace.split('.'), name });
          const dr = loaded ? snapshotAt(readMetadata(loaded.metadataLocation)) : {};
          const newestMeta = newestReplicated(t.tableLocation);
          const newest = newestMeta ? snapshotAt(newestMeta) : {};
          const lag =
            dr.id !== undefined && dr.id === newest.id
              ? 0
              : dr.atMs !== undefined && newest.atMs !== undefined
                ? Math.max(0, (newest.atMs - dr.atMs) / 1000)
                : undefined;
          const l = last.get(t.key);
          rows.push({
            table: t.key,
            ...(dr.id ? { drSnapshotId: dr.id } : {}),
            ...(dr.atMs !== undefined ? { drCommittedAt: new Date(dr.atMs).toISOString() } : {}),
            ...(loaded ? { drMetadataLocation: loaded.metadataLocation } : {}),
            ...(newest.id ? { replicaNewestReferencedSnapshotId: newest.id } : {}),
            ...(lag !== undefined ? { lagSeconds: lag } : {}),
            thresholdSeconds: t.thresholdSeconds,
            withinThreshold: lag !== undefined && lag <= t.thresholdSeconds,
            missingFiles: l?.report.missingFiles ?? 0,
            ...(l
              ? {
                  lastRun: {
                    status: l.report.status,
                    at: l.at,
                    durationMs: l.report.durationMs,
                    ...(l.report.error ? { error: l.report.error } : {}),
                  },
                }
              : {}),
          });
        }
        return rows;
      } finally {
        await catalog.close();
      }
    },
  };
}
