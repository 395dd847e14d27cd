/**
 * `status`: per table, what the DR catalog holds against what the replica has, the RPO lag and the
 * last run, cheaply: one catalog read and one metadata.json read for the DR side, one listing of
 * the replicated `metadata/` and one metadata.json read for the replica side. Only a table whose
 * DR snapshot is not the replica's newest gets a read-only plan (its manifests, incrementally
 * from the checkpoint), to tell which replicated version is complete and how many files are
 * missing.
 *
 * The lag is the RPO as the DR site sees it: the commit time (`timestamp-ms`) of the newest
 * source snapshot visible in the replica minus that of the snapshot the DR catalog holds, 0 when
 * they are the same snapshot. Commit times are the source's own clocks, so the figure does not
 * depend on when replication or sync ran.
 */
import pLimit from 'p-limit';
import type { Catalog } from '../catalog/catalog.ts';
import { CorruptFileError, ExitCode, exitCodeFor, IcebergSyncError } from '../errors.ts';
import type { TableMetadata } from '../iceberg/metadata.ts';
import { decodeMetadata } from '../iceberg/metadata-json.ts';
import type { StorageResolver } from '../storage/router.ts';
import { planSync } from '../sync/engine.ts';
import { newestMetadataFirst } from '../table/metadata-files.ts';
import { defaultLogger, type Logger } from '../util/logger.ts';
import { aggregateExitCode } from './exit-code.ts';
import { type LagPoint, lagPoints, lastRun, readHistory } from './history.ts';
import { tableSettings, type WarehousePolicy } from './policy.ts';
import type { Shard } from './selection.ts';
import { openSite, openStorage, type SelectedTable, selectTables, splitKey } from './site.ts';
import type { TableStatus } from './types.ts';

/** Options of {@link warehouseStatus}. */
export interface WarehouseStatusOptions {
  readonly shard?: Shard;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** Tables looked at once (default: the policy's concurrency). */
  readonly concurrency?: number;
  /**
   * Plan tables that are behind, to find their newest complete version and missing files
   * (default true). Without it only metadata.json files are read.
   */
  readonly plan?: boolean;
  /** The time lags of add-files tables are measured against (default now). */
  readonly now?: Date;
}

interface SnapshotAt {
  readonly id?: string;
  readonly at?: bigint;
}

function current(m: TableMetadata): SnapshotAt {
  const id = m.currentSnapshotId;
  if (id === undefined || id < 0n) return {};
  const snap = m.snapshots.find((s) => s.snapshotId === id);
  return { id: id.toString(), ...(snap ? { at: snap.timestampMs } : {}) };
}

function snapshotOf(m: TableMetadata, id: string): SnapshotAt {
  const snap = m.snapshots.find((s) => s.snapshotId.toString() === id);
  return { id, ...(snap ? { at: snap.timestampMs } : {}) };
}

async function readMetadata(resolve: StorageResolver, path: string): Promise<TableMetadata> {
  return decodeMetadata(await resolve(path).read(path), path).metadata;
}

/** The newest readable metadata.json of a replicated table, newest first. */
async function newestReplicated(
  resolve: StorageResolver,
  location: string,
  metadataDir?: string,
): Promise<{ path: string; metadata: TableMetadata } | undefined> {
  const dir = metadataDir ?? `${location.replace(/\/+$/, '')}/metadata`;
  const files = [];
  for await (const f of resolve(dir).list(dir)) files.push(f);
  let firstError: unknown;
  for (const f of newestMetadataFirst(files)) {
    try {
      return { path: f.path, metadata: await readMetadata(resolve, f.path) };
    } catch (err) {
      // Truncated (replication in flight) or damaged: the next older one, as sync does.
      firstError ??= err;
    }
  }
  if (firstError !== undefined) {
    throw new CorruptFileError(dir, `no readable metadata.json (newest: ${(firstError as Error).message})`);
  }
  return undefined;
}

const iso = (ms: bigint | undefined) => (ms === undefined ? undefined : new Date(Number(ms)).toISOString());

async function tableStatus(
  policy: WarehousePolicy,
  catalog: Catalog,
  resolve: StorageResolver,
  t: SelectedTable,
  o: WarehouseStatusOptions,
): Promise<TableStatus> {
  const s = tableSettings(policy, t.namespace, t.name);
  const thresholdSeconds = s.rpoMs / 1000;
  const base: TableStatus = { table: t.key, thresholdSeconds, withinThreshold: false, missingFiles: 0 };
  const last = await lastRun(resolve, s.metadataRoot).catch(() => undefined);
  const out: TableStatus = {
    ...base,
    ...(last
      ? {
          lastRun: {
            status: last.status,
            at: last.at,
            durationMs: last.durationMs,
            ...(last.error ? { error: last.error } : {}),
          },
        }
      : {}),
  };
  try {
    if (t.conflict) throw new IcebergSyncError('CONFIG', `found at ${t.conflict.locations.join(' and ')}`);
    if (!t.location) throw new IcebergSyncError('NOT_FOUND', 'named in the policy, not found in the replica');
    const id = { namespace: [...t.namespace], name: t.name };
    const loaded = await catalog.loadTable(id);
    let dr: SnapshotAt = {};
    if (loaded) {
      out.drMetadataLocation = loaded.metadataLocation;
      dr = current(await readMetadata(resolve, loaded.metadataLocation));
      if (dr.id) out.drSnapshotId = dr.id;
      if (dr.at !== undefined) out.drCommittedAt = iso(dr.at)!;
    }
    if (s.mode === 'add-files') {
      // No replicated metadata to compare with: the lag is the time since the last good run.
      const okAt = last && last.status !== 'failed' ? Date.parse(last.at) : undefined;
      if (okAt !== undefined) {
        out.lagSeconds = Math.max(0, ((o.now ?? new Date()).getTime() - okAt) / 1000);
        out.withinThreshold = out.lagSeconds <= thresholdSeconds;
      }
      return out;
    }
    const newest = await newestReplicated(resolve, t.location, s.override?.metadataDir);
    const ref = newest ? current(newest.metadata) : {};
    if (ref.id) out.replicaNewestReferencedSnapshotId = ref.id;
    if (ref.at !== undefined) out.replicaNewestCommittedAt = iso(ref.at)!;
    if (!ref.id) {
      // The replica holds no snapshot yet: nothing to be behind.
      out.lagSeconds = 0;
    } else if (dr.id === ref.id) {
      out.replicaNewestSnapshotId = ref.id;
      out.lagSeconds = 0;
    } else {
      if (o.plan ?? true) {
        const plan = await planSync({
          table: id,
          catalog,
          tableLocation: t.location,
          ...(s.override?.metadataDir ? { metadataDir: s.override.metadataDir } : {}),
          mappings: s.mappings,
          metadataRoot: s.metadataRoot,
          resolve,
          logger: o.logger ?? defaultLogger,
          ...(o.signal ? { signal: o.signal } : {}),
        });
        out.missingFiles = plan.missingFiles;
        if (plan.snapshotId) out.replicaNewestSnapshotId = plan.snapshotId;
      }
      if (dr.at !== undefined && ref.at !== undefined) {
        const lag = Number(ref.at - dr.at) / 1000;
        out.lagSeconds = Math.max(0, lag);
      }
      // A DR snapshot the newest replicated metadata no longer lists (expired at the source):
      // its time came from the DR metadata itself, which is all that is needed.
      if (dr.id && dr.at === undefined && newest) {
        const again = snapshotOf(newest.metadata, dr.id);
        if (again.at !== undefined && ref.at !== undefined)
          out.lagSeconds = Math.max(0, Number(ref.at - again.at) / 1000);
      }
    }
    out.withinThreshold = out.lagSeconds !== undefined && out.lagSeconds <= thresholdSeconds;
    return out;
  } catch (err) {
    return {
      ...out,
      error:
        err instanceof IcebergSyncError
          ? { code: err.code, message: err.message }
          : { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) },
    };
  }
}

/** The status of every selected table of the policy. Writes nothing (the catalog is opened read-only). */
export async function warehouseStatus(
  policy: WarehousePolicy,
  options: WarehouseStatusOptions = {},
): Promise<TableStatus[]> {
  const site = await openSite(policy, {
    readOnly: true,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  try {
    const { tables } = await selectTables(policy, site, {
      ...(options.shard ? { shard: options.shard } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const limit = pLimit(options.concurrency ?? policy.concurrency);
    return await Promise.all(
      tables.map((t) => limit(() => tableStatus(policy, site.catalog, site.router.resolver, t, options))),
    );
  } finally {
    await site.close();
  }
}

/**
 * The lag after each recorded run of `tables` (keys as {@link warehouseStatus} names them), oldest
 * first: what `watch` shows of the time before it started. Reads the run histories only (the
 * newest `limit` points kept per table); a table whose history cannot be read has none.
 */
export async function lagHistories(
  policy: WarehousePolicy,
  tables: readonly string[],
  options: { logger?: Logger; limit?: number } = {},
): Promise<Map<string, LagPoint[]>> {
  const logger = options.logger ?? defaultLogger;
  const router = openStorage(policy, logger);
  const out = new Map<string, LagPoint[]>();
  try {
    const limit = pLimit(policy.concurrency);
    await Promise.all(
      tables.map((table) =>
        limit(async () => {
          try {
            const [namespace, name] = splitKey(table);
            const root = tableSettings(policy, namespace, name).metadataRoot;
            const points = lagPoints(await readHistory(router.resolver, root));
            if (points.length) out.set(table, options.limit ? points.slice(-options.limit) : points);
          } catch (err) {
            logger.warn(`${table}: could not read its run history: ${(err as Error).message}`);
          }
        }),
      ),
    );
  } finally {
    await router.close();
  }
  return out;
}

/**
 * The exit code of `status`: 0 when every table is within its threshold; 3 when one is over it
 * (or its lag is unknown: never synced); a table whose status could not be read contributes its
 * error's code (exit-code.ts precedence).
 */
export function statusExitCode(statuses: readonly TableStatus[]): number {
  const codes: number[] = [];
  for (const s of statuses) {
    if (s.error) {
      codes.push(
        s.error.code === 'INTERNAL'
          ? ExitCode.INTERNAL
          : exitCodeFor(new IcebergSyncError(s.error.code as never, s.error.message)),
      );
    } else if (!s.withinThreshold) codes.push(ExitCode.BEHIND);
  }
  return aggregateExitCode(codes);
}
