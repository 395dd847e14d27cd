/**
 * Whole-warehouse runs: `syncAll`, `planAll` and `verifyAll` take every selected table of a
 * policy through the single-table engine of its mode (rewrite `syncTable`/`planSync`, add-files
 * `addFiles`/`planAddFiles`, `verifyTable`), a bounded number at once. One table's failure is
 * recorded in its report and never stops the others; the run's exit code is the most urgent of
 * the tables' (exit-code.ts).
 *
 * Each table keeps its own run lock, so two hosts running the same policy never run one table
 * twice at once: a table whose lock another run holds is `skipped` (that run syncs it). An aborted
 * `signal` starts no new table; the tables in flight get the same signal and stop cleanly (their
 * catalog at the last commit), and the tables not started are `skipped`.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pLimit from 'p-limit';
import { type AddFilesReport, addFiles, planAddFiles } from '../addfiles/engine.ts';
import type { Catalog } from '../catalog/catalog.ts';
import { ConfigError, ExitCode, exitCodeFor, IcebergSyncError, NotFoundError } from '../errors.ts';
import type { StorageResolver } from '../storage/router.ts';
import { planSync, syncTable } from '../sync/engine.ts';
import type { SyncReport } from '../sync/report.ts';
import { type VerifyReport, verifyTable } from '../sync/verify.ts';
import { LockedError } from '../table/lock.ts';
import { assertOutsideReplica, metadataRootOutputs } from '../table/replica-guard.ts';
import { defaultLogger, type LogFn, type Logger } from '../util/logger.ts';
import { type CopyPlanSummary, copyPlanFile, finishCopyPlan } from './copy-plans.ts';
import { aggregateExitCode, runStatusFor } from './exit-code.ts';
import { appendHistory } from './history.ts';
import { tableSettings, type WarehousePolicy } from './policy.ts';
import type { Shard } from './selection.ts';
import { openSite, policyReplicas, type SelectedTable, selectTables } from './site.ts';
import type { WarehouseRunReport, WarehouseTableReport } from './types.ts';

/** What a warehouse run does with each table. */
export type WarehouseMode = 'sync' | 'plan' | 'verify';

/** Options of {@link syncAll}, {@link planAll} and {@link verifyAll}. */
export interface WarehouseRunOptions {
  /** Stops the run: no new table starts; tables in flight stop cleanly (exit code 8). */
  readonly signal?: AbortSignal;
  /** No new table starts once aborted; the tables in flight finish (watch's first SIGTERM). */
  readonly stop?: AbortSignal;
  /** A table to leave out of this run (watch's back-off): reported `skipped` with this error. */
  readonly skip?: (table: string) => { code: string; message: string } | undefined;
  /** Called as each table's run starts. */
  readonly onTableStart?: (table: string) => void;
  /** Tables at once (default: the policy's `concurrency`, else 4). */
  readonly concurrency?: number;
  /** Only this worker's part of the tables (see selection.ts). */
  readonly shard?: Shard;
  /** Called as each table finishes, with its report (after its history line is written). */
  readonly onTableDone?: (report: WarehouseTableReport) => void;
  /** Where warnings and per-table lines go (default: text on stderr). */
  readonly logger?: Logger;
  /**
   * A directory for the copy plans of behind tables: `<table>.csv` (`source,target` per line) and
   * DistCp lists grouped by target directory (copy-plans.ts). Plan runs write only there.
   */
  readonly copyPlanDir?: string;
  /** The run's id (default: a random UUID), recorded in each table's history. */
  readonly runId?: string;
  /** The command recorded in the history (default `sync-all`). */
  readonly command?: string;
  /** Called once the tables are selected, before any runs (e.g. to report how many). */
  readonly onSelected?: (tables: readonly string[]) => void;
}

/** A warehouse run's report, with the copy plans written (when asked for). */
export interface WarehouseRunResult extends WarehouseRunReport {
  /** With `copyPlanDir`: what was written there, per behind table. */
  copyPlans?: CopyPlanSummary[];
  /** Directory listings discovery made. */
  discoveryListings?: number;
}

/** A logger whose messages name the table. */
function tableLogger(logger: Logger, key: string): Logger {
  const wrap = (fn: LogFn): LogFn =>
    ((a: string | Readonly<Record<string, unknown>>, b?: string) =>
      typeof a === 'string'
        ? fn({ table: key }, `${key}: ${a}`)
        : fn({ table: key, ...a }, `${key}: ${b ?? ''}`)) as LogFn;
  return {
    error: wrap(logger.error),
    warn: wrap(logger.warn),
    info: wrap(logger.info),
    debug: wrap(logger.debug),
  };
}

function errorOf(err: unknown): { code: string; message: string } {
  return err instanceof IcebergSyncError
    ? { code: err.code, message: err.message }
    : { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

const SYNC_EXIT: Record<SyncReport['status'], number> = {
  committed: ExitCode.OK,
  'up-to-date': ExitCode.OK,
  planned: ExitCode.OK,
  behind: ExitCode.BEHIND,
  failed: ExitCode.INTERNAL,
};

function fromSyncReport(key: string, r: SyncReport, dryRun: boolean): WarehouseTableReport {
  const status: WarehouseTableReport['status'] =
    r.status === 'planned' ? 'planned' : r.status === 'failed' ? 'failed' : r.status;
  return {
    table: key,
    status,
    ...(r.snapshotId ? { snapshotId: r.snapshotId } : {}),
    ...(r.metadataLocation ? { metadataLocation: r.metadataLocation } : {}),
    missingFiles: r.missingFiles,
    filesRewritten: dryRun ? 0 : r.manifestsRewritten + r.manifestListsRewritten + r.deleteFilesRewritten,
    durationMs: r.durationMs,
    exitCode: SYNC_EXIT[r.status],
    ...(r.error ? { error: r.error } : {}),
    report: r,
  };
}

function fromAddFilesReport(key: string, r: AddFilesReport): WarehouseTableReport {
  const exitCode = r.rejected.length ? ExitCode.BAD_INPUT : r.deferred.length ? ExitCode.BEHIND : ExitCode.OK;
  const status: WarehouseTableReport['status'] =
    r.status === 'planned' ? 'planned' : r.deferred.length && !r.rejected.length ? 'behind' : r.status;
  return {
    table: key,
    status,
    ...(r.snapshotId ? { snapshotId: r.snapshotId } : {}),
    ...(r.metadataLocation ? { metadataLocation: r.metadataLocation } : {}),
    missingFiles: r.filesMissing,
    filesRewritten: r.dryRun ? 0 : r.filesAdded,
    durationMs: r.durationMs,
    exitCode,
    ...(r.rejected.length
      ? {
          error: {
            code: 'FILES_REJECTED',
            message: `${r.rejected.length} file(s) rejected; first: ${r.rejected[0]!.path}: ${r.rejected[0]!.reason}`,
          },
        }
      : {}),
    report: r,
  };
}

function fromVerifyReport(key: string, r: VerifyReport, durationMs: number): WarehouseTableReport {
  return {
    table: key,
    status: r.ok ? 'verified' : 'failed',
    ...(r.metadataLocation ? { metadataLocation: r.metadataLocation } : {}),
    missingFiles: 0,
    durationMs,
    exitCode: r.ok ? ExitCode.OK : ExitCode.VERIFY_FAILED,
    ...(r.ok
      ? {}
      : {
          error: {
            code: 'VERIFY_FAILED',
            message: `${r.problems.length} problem(s); first: ${r.problems[0]?.path}: ${r.problems[0]?.problem}`,
          },
        }),
    report: r,
  };
}

interface TableRunContext {
  readonly policy: WarehousePolicy;
  readonly catalog: Catalog;
  readonly resolve: StorageResolver;
  readonly mode: WarehouseMode;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  readonly copyPlanDir?: string;
}

/** Runs one table; never throws (a failure is the table's report). */
async function runTable(ctx: TableRunContext, t: SelectedTable): Promise<WarehouseTableReport> {
  const started = Date.now();
  const failed = (err: unknown, status: 'failed' | 'skipped' = 'failed'): WarehouseTableReport => ({
    table: t.key,
    status,
    missingFiles: 0,
    durationMs: Date.now() - started,
    exitCode: status === 'skipped' && err instanceof LockedError ? ExitCode.OK : exitCodeFor(err),
    error: errorOf(err),
  });
  try {
    if (t.conflict) {
      throw new ConfigError(
        `found at ${t.conflict.locations.join(' and ')}: name its location under replication.tables.${t.key}.location`,
      );
    }
    if (!t.location) {
      throw new NotFoundError(`${t.key} (named in replication.tables, not found under the replicated paths)`);
    }
    const s = tableSettings(ctx.policy, t.namespace, t.name);
    if (ctx.policy.catalog.type === 'hadoop' && s.metadataRoot !== defaultHadoopRoot(ctx.policy, t)) {
      throw new ConfigError(`${t.key}: a hadoop catalog keeps metadata in its warehouse; drop metadata-root`);
    }
    const log = tableLogger(ctx.logger, t.key);
    // Every replica location of the policy, not only this table's: a metadata root must not land
    // in another table's replica either.
    if (ctx.mode !== 'verify') {
      await assertOutsideReplica(policyReplicas(ctx.policy), metadataRootOutputs(s.metadataRoot));
    }
    const table = { namespace: [...t.namespace], name: t.name };
    const signal = ctx.signal ? { signal: ctx.signal } : {};
    const dryRun = ctx.mode === 'plan';
    if (ctx.mode === 'verify') {
      const r = await verifyTable({
        table,
        catalog: ctx.catalog,
        mappings: s.mappings,
        metadataRoot: s.metadataRoot,
        resolve: ctx.resolve,
        ...signal,
      });
      return fromVerifyReport(t.key, r, Date.now() - started);
    }
    if (s.mode === 'add-files') {
      const o = s.override;
      const opts = {
        table,
        catalog: ctx.catalog,
        resolve: ctx.resolve,
        dataPath: t.location,
        metadataRoot: s.metadataRoot,
        ...(o?.create
          ? {
              create: {
                partitionBy: [...o.create.partitionBy],
                ...(o.create.formatVersion ? { formatVersion: o.create.formatVersion } : {}),
              },
            }
          : {}),
        ...(o?.include ? { include: o.include } : {}),
        ...(o?.exclude ? { exclude: o.exclude } : {}),
        settleMs: s.settleMs,
        ...(ctx.policy.fileConcurrency ? { concurrency: ctx.policy.fileConcurrency } : {}),
        logger: log,
        ...signal,
      };
      return fromAddFilesReport(t.key, dryRun ? await planAddFiles(opts) : await addFiles(opts));
    }
    const copyPlanPath = ctx.copyPlanDir ? copyPlanFile(ctx.copyPlanDir, t.key) : undefined;
    const opts = {
      table,
      catalog: ctx.catalog,
      tableLocation: t.location,
      ...(s.override?.metadataDir ? { metadataDir: s.override.metadataDir } : {}),
      mappings: s.mappings,
      metadataRoot: s.metadataRoot,
      resolve: ctx.resolve,
      ...(copyPlanPath ? { copyPlanPath } : {}),
      ...(ctx.policy.fileConcurrency ? { concurrency: ctx.policy.fileConcurrency } : {}),
      logger: log,
      ...signal,
    };
    return fromSyncReport(t.key, dryRun ? await planSync(opts) : await syncTable(opts), dryRun);
  } catch (err) {
    return failed(err, err instanceof LockedError ? 'skipped' : 'failed');
  }
}

function defaultHadoopRoot(policy: WarehousePolicy, t: SelectedTable): string | undefined {
  const wh = policy.catalog.warehouse;
  return wh ? `${wh.replace(/\/+$/, '')}/${[...t.namespace, t.name].join('/')}/metadata` : undefined;
}

/**
 * Runs every selected table of `policy` in `mode`. Resolves the run's report; rejects only when
 * the run cannot start at all (configuration, catalog or replica unreachable).
 */
export async function runWarehouse(
  policy: WarehousePolicy,
  mode: WarehouseMode,
  options: WarehouseRunOptions = {},
): Promise<WarehouseRunResult> {
  const startedAt = new Date();
  const runId = options.runId ?? randomUUID();
  const logger = options.logger ?? defaultLogger;
  const copyPlanDir = options.copyPlanDir?.replace(/\/+$/, '');
  const site = await openSite(policy, {
    readOnly: mode !== 'sync',
    logger,
    ...(copyPlanDir ? { outputs: [{ what: 'copy plan directory (--copy-plan)', path: copyPlanDir }] } : {}),
  });
  try {
    const { tables, listings } = await selectTables(policy, site, {
      ...(options.shard ? { shard: options.shard } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    options.onSelected?.(tables.map((t) => t.key));
    const limit = pLimit(options.concurrency ?? policy.concurrency);
    const ctx: TableRunContext = {
      policy,
      catalog: site.catalog,
      resolve: site.router.resolver,
      mode,
      logger,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(copyPlanDir ? { copyPlanDir } : {}),
    };
    const copyPlans: CopyPlanSummary[] = [];
    const reports = await Promise.all(
      tables.map((t) =>
        limit(async () => {
          const at = new Date();
          let r: WarehouseTableReport;
          const held = options.skip?.(t.key);
          if (options.signal?.aborted || options.stop?.aborted) {
            r = {
              table: t.key,
              status: 'skipped',
              missingFiles: 0,
              durationMs: 0,
              exitCode: ExitCode.ABORTED,
              error: { code: 'ABORTED', message: 'the run was stopped before this table started' },
            };
          } else if (held) {
            r = {
              table: t.key,
              status: 'skipped',
              missingFiles: 0,
              durationMs: 0,
              exitCode: ExitCode.OK,
              error: held,
            };
          } else {
            options.onTableStart?.(t.key);
            r = await runTable(ctx, t);
            if (copyPlanDir && mode !== 'verify' && !r.error) {
              const plan = await finishCopyPlan(
                site.router.resolver,
                copyPlanDir,
                t.key,
                r.missingFiles,
              ).catch((err: unknown) => {
                logger.warn(`${t.key}: could not write its DistCp lists: ${(err as Error).message}`);
                return undefined;
              });
              if (plan) copyPlans.push(plan);
            }
            if (mode === 'sync' && r.status !== 'skipped' && t.location) {
              const s = safeRoot(policy, t);
              if (s) {
                const report = r.report as Partial<SyncReport> | undefined;
                await appendHistory(
                  site.router.resolver,
                  s,
                  {
                    runId,
                    at: at.toISOString(),
                    durationMs: r.durationMs,
                    command: options.command ?? 'sync-all',
                    status: r.status,
                    ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
                    ...(r.snapshotId ? { snapshotId: r.snapshotId } : {}),
                    ...(r.metadataLocation ? { metadataLocation: r.metadataLocation } : {}),
                    ...(report?.sourceMetadata ? { sourceMetadata: report.sourceMetadata } : {}),
                    missingFiles: r.missingFiles,
                    ...(report?.lagSeconds !== undefined ? { lagSeconds: report.lagSeconds } : {}),
                    ...(r.filesRewritten !== undefined ? { filesRewritten: r.filesRewritten } : {}),
                    host: hostname(),
                    ...(r.error ? { error: r.error } : {}),
                  },
                  { maxLines: policy.historyLines, logger },
                );
              }
            }
          }
          options.onTableDone?.(r);
          return r;
        }),
      ),
    );
    const exitCode = aggregateExitCode(reports.map((r) => r.exitCode ?? ExitCode.INTERNAL));
    copyPlans.sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0));
    return {
      runId,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      status: runStatusFor(exitCode),
      exitCode,
      tables: reports,
      ...(copyPlanDir ? { copyPlans } : {}),
      discoveryListings: listings,
    };
  } finally {
    await site.close();
  }
}

function safeRoot(policy: WarehousePolicy, t: SelectedTable): string | undefined {
  try {
    return tableSettings(policy, t.namespace, t.name).metadataRoot;
  } catch {
    return undefined;
  }
}

/** Syncs every selected table of the policy (see {@link runWarehouse}). */
export function syncAll(
  policy: WarehousePolicy,
  options: WarehouseRunOptions = {},
): Promise<WarehouseRunResult> {
  return runWarehouse(policy, 'sync', options);
}

/** The dry run of {@link syncAll}: writes nothing but the copy plans asked for. */
export function planAll(
  policy: WarehousePolicy,
  options: WarehouseRunOptions = {},
): Promise<WarehouseRunResult> {
  return runWarehouse(policy, 'plan', { command: 'plan-all', ...options });
}

/** Verifies every selected table as committed in the DR catalog. */
export function verifyAll(
  policy: WarehousePolicy,
  options: WarehouseRunOptions = {},
): Promise<WarehouseRunResult> {
  return runWarehouse(policy, 'verify', { command: 'verify-all', ...options });
}
