/**
 * add-files mode: registers Parquet files that arrived in a replicated directory in a DR
 * table, reading nothing but their footers, and references them in place. One append snapshot
 * per run, committed atomically through the catalog; reruns add nothing; a kill at any point
 * leaves the table at its last commit.
 */
import { randomUUID } from 'node:crypto';
import type { AvroRecord } from '../avro/container.ts';
import { type Catalog, formatIdentifier, type TableIdentifier } from '../catalog/catalog.ts';
import { CorruptFileError, type IcebergSyncError, NotFoundError, UnsupportedError } from '../errors.ts';
import { readManifestList } from '../iceberg/manifest-codec.ts';
import type { FormatVersion } from '../iceberg/metadata.ts';
import { encodeMetadata, metadataVersionOf } from '../iceberg/metadata-json.ts';
import { validateTableMetadata } from '../iceberg/metadata-validate.ts';
import { NAME_MAPPING_PROPERTY, nameMappingOf, nameMappingToJson } from '../iceberg/name-mapping.ts';
import type { PartitionSpec } from '../iceberg/partition.ts';
import type { Schema } from '../iceberg/schema.ts';
import { type ParquetFooter, readParquetFooter } from '../parquet/footer.ts';
import { abortableResolver } from '../storage/abortable.ts';
import type { StorageResolver } from '../storage/router.ts';
import { openRangeReader } from '../storage/storage.ts';
import { acquireLock } from '../table/lock.ts';
import { pathKey } from '../table/path-mapping.ts';
import type { ProgressEvent } from '../table/progress.ts';
import {
  assertOutsideReplica,
  metadataRootOutputs,
  type ReplicaGuardOptions,
} from '../table/replica-guard.ts';
import { throwIfAborted } from '../util/abort.ts';
import { isJsonObject, type JsonObject } from '../util/json.ts';
import { defaultLogger, type Logger } from '../util/logger.ts';
import { appendSummary, buildAppend, newSnapshotId, withSnapshot } from './append.ts';
import { type CreatedShape, type CreateTableOptions, createdTableMetadata } from './create-table.ts';
import { type LoadedTableState, loadTable, readText } from './current-table.ts';
import type { NewDataFile } from './data-file.ts';
import { isPuffinFile, puffinRejection, trackedDeleteRejection } from './delete-files.ts';
import { judgeNewFiles, type NewFileOutcome } from './new-files.ts';
import { type Removal, removeFiles } from './remove.ts';
import { type ScannedFile, scanDataFiles } from './scan.ts';
import { type AddFilesState, saveAddFilesState } from './state.ts';
import { shapeOf } from './table-shape.ts';
import { loadTrackedSet, type ManifestReadContext } from './tracked-set.ts';

/** Progress of a run (the same events as a sync's). */
export type AddFilesProgress = ProgressEvent;

export type { CreateTableOptions } from './create-table.ts';

/** Inputs of {@link addFiles}. */
export interface AddFilesOptions {
  readonly table: TableIdentifier;
  readonly catalog: Catalog;
  readonly resolve: StorageResolver;
  /** The replicated directory holding the data files. */
  readonly dataPath: string;
  /** Where new metadata, manifests and the checkpoint go (never inside `dataPath`). */
  readonly metadataRoot: string;
  /** Create the table on the first run (otherwise a missing table is an error). */
  readonly create?: CreateTableOptions;
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  /** Files modified less than this long ago are left for the next run (default 0 ms). */
  readonly settleMs?: number;
  /** Footers read at once (default 16). */
  readonly concurrency?: number;
  /**
   * Remove tracked files that are gone from the replicated directory (a delete snapshot, or an
   * overwrite when files are added too), for sources that compact and clean up.
   */
  readonly removeMissing?: boolean;
  /** Plan only: read footers, write nothing. */
  readonly dryRun?: boolean;
  readonly onProgress?: (e: AddFilesProgress) => void;
  /** Where warnings go (default: text on stderr). */
  readonly logger?: Logger;
  /** How the replica guard recognises HDFS locations (see {@link ReplicaGuardOptions}). */
  readonly replicaGuard?: ReplicaGuardOptions;
  /**
   * Stops the run with `AbortedError`: between steps and in storage calls in flight, never once
   * the catalog commit has begun. The lock is still released.
   */
  readonly signal?: AbortSignal;
}

/** A file that was not added, and why. */
export interface SkippedFile {
  readonly path: string;
  readonly reason: string;
}

/** The result of an add-files run (what `--json` prints). */
export interface AddFilesReport {
  status: 'committed' | 'up-to-date' | 'planned';
  table: string;
  /** The catalog's metadata location after the run. */
  metadataLocation: string | null;
  /** The table's current snapshot id after the run (the new one when committed). */
  snapshotId: string | null;
  /** Whether this run created the table. */
  created: boolean;
  filesListed: number;
  filesAlreadyTracked: number;
  filesAdded: number;
  /** Files not added: rejected plus deferred. */
  filesSkipped: number;
  recordsAdded: string;
  bytesAdded: string;
  /** Tracked files no longer in the replicated directory. */
  filesMissing: number;
  /** Of those, the ones removed from the table (with `removeMissing`). */
  filesRemoved: number;
  /** The missing files (first 1000). */
  missing: string[];
  /** Footers read by this run (only new files are read). */
  footersRead: number;
  /** Files that cannot be added as they are (corrupt, wrong schema, unknown partition, delete files). */
  rejected: SkippedFile[];
  /** Files left for a later run (still being written, or too recent). */
  deferred: SkippedFile[];
  /** Files ignored by name (hidden, temporary, checksums), glob or size. */
  ignored: number;
  durationMs: number;
  dryRun: boolean;
}

/** An error's message without the leading file name (the report names the file). */
function reasonOf(err: IcebergSyncError, path: string): string {
  const m = err.message;
  return m.startsWith(`${path}: `) ? m.slice(path.length + 2) : m;
}

/** One add-files run. */
class AddFilesRun {
  readonly o: AddFilesOptions;
  readonly started = Date.now();
  readonly report: AddFilesReport;
  readonly metadataRoot: string;
  /** The caller's resolver without the run's signal: for the lock and the checkpoint. */
  readonly bookkeeping: StorageResolver;

  constructor(o: AddFilesOptions) {
    this.bookkeeping = o.resolve;
    this.o = { ...o, resolve: abortableResolver(o.resolve, o.signal) };
    this.metadataRoot = o.metadataRoot.replace(/\/+$/, '');
    this.report = {
      status: 'up-to-date',
      table: formatIdentifier(o.table),
      metadataLocation: null,
      snapshotId: null,
      created: false,
      filesListed: 0,
      filesAlreadyTracked: 0,
      filesAdded: 0,
      filesSkipped: 0,
      filesMissing: 0,
      filesRemoved: 0,
      missing: [],
      recordsAdded: '0',
      bytesAdded: '0',
      footersRead: 0,
      rejected: [],
      deferred: [],
      ignored: 0,
      durationMs: 0,
      dryRun: o.dryRun ?? false,
    };
  }

  progress(e: AddFilesProgress): void {
    this.o.onProgress?.(e);
    // Every step announces itself: the place to stop between steps (after the announcement, so
    // that a host reacting to it stops the step it names).
    throwIfAborted(this.o.signal);
  }

  /** How this run reads the table's manifests. */
  get manifests(): ManifestReadContext {
    return {
      resolve: this.o.resolve,
      ...(this.o.concurrency !== undefined ? { concurrency: this.o.concurrency } : {}),
      progress: (e) => this.progress(e),
    };
  }

  async readFooter(f: ScannedFile): Promise<ParquetFooter> {
    const reader = await openRangeReader(this.o.resolve(f.path), f.path, f.size);
    this.report.footersRead++;
    return readParquetFooter(reader, f.path);
  }

  /** Whether a file that is no Parquet file is a Puffin file (false when that cannot be read). */
  async isPuffin(f: ScannedFile): Promise<boolean> {
    try {
      return await isPuffinFile(await openRangeReader(this.o.resolve(f.path), f.path, f.size));
    } catch {
      return false;
    }
  }

  async run(): Promise<AddFilesReport> {
    const o = this.o;
    // Before anything is written (the lock included): no output inside the replicated directory.
    // A catalog that names the metadata file itself (Hadoop layout) writes where it says.
    const catalogFile = o.catalog.nextMetadataLocation(o.table, undefined);
    await assertOutsideReplica(
      [{ what: 'replicated directory', path: o.dataPath }],
      [
        ...metadataRootOutputs(this.metadataRoot),
        ...(catalogFile
          ? [{ what: 'catalog metadata directory', path: catalogFile.slice(0, catalogFile.lastIndexOf('/')) }]
          : []),
      ],
      o.replicaGuard,
    );
    throwIfAborted(o.signal);
    const lock = o.dryRun ? undefined : await acquireLock(this.bookkeeping, this.metadataRoot, o.logger);
    try {
      await this.runLocked();
    } finally {
      await lock?.release();
    }
    this.report.filesSkipped = this.report.rejected.length + this.report.deferred.length;
    this.report.durationMs = Date.now() - this.started;
    return this.report;
  }

  async runLocked(): Promise<void> {
    const o = this.o;
    const r = this.report;
    this.progress({ phase: 'discover', message: `loading ${r.table}` });
    const loaded = await o.catalog.loadTable(o.table);
    const table = loaded ? await loadTable(o.resolve, loaded.metadataLocation) : undefined;
    if (!table && !o.create) {
      throw new NotFoundError(
        `${r.table}: no such table in catalog ${o.catalog.name} (pass --create to create it from the files)`,
      );
    }
    r.metadataLocation = loaded?.metadataLocation ?? null;
    const sid = table?.json['current-snapshot-id'];
    r.snapshotId = typeof sid === 'bigint' && sid !== -1n ? sid.toString() : null;

    // What the table tracks: the checkpoint when it belongs to the current metadata, else the manifests.
    // Likewise the files any snapshot tracks as delete files: never to be added as data.
    const { state, tracked, deletes } = await loadTrackedSet(
      this.manifests,
      table,
      this.metadataRoot,
      o.logger,
    );

    this.progress({ phase: 'discover', message: `listing ${o.dataPath}` });
    const storage = o.resolve(o.dataPath);
    const scan = await scanDataFiles(storage, o.dataPath, {
      ...(o.include ? { include: o.include } : {}),
      ...(o.exclude ? { exclude: o.exclude } : {}),
      ...(o.settleMs !== undefined ? { settleMs: o.settleMs } : {}),
      tracked: (p) => tracked.get(pathKey(p)),
    });
    r.filesListed = scan.files.length + scan.unsettled.length;
    r.ignored = scan.ignored;
    // A symbolic link is not a replicated file: it is never read, and never added.
    for (const l of scan.symlinks) r.rejected.push(l);
    for (const f of scan.unsettled)
      r.deferred.push({
        path: f.path,
        reason: 'modified within the settle time; may still be being written',
      });

    // Rejections of files gone from the listing are forgotten (the checkpoint does not grow forever).
    for (const p of Object.keys(state.rejected)) if (!scan.listed.has(p)) delete state.rejected[p];
    const present = new Set([...scan.listed].map(pathKey));
    const missing = [...tracked.keys()].filter((p) => !present.has(p)).sort();
    r.filesMissing = missing.length;
    r.missing = missing.slice(0, 1000);
    const removed = new Set(o.removeMissing ? missing : []);
    if (missing.length && !o.removeMissing) {
      (o.logger ?? defaultLogger).warn(
        `${missing.length} tracked files are gone from ${o.dataPath} (first: ${missing[0]}); pass --remove-missing to remove them from the table`,
      );
    }

    const candidates: ScannedFile[] = [];
    for (const f of scan.files) {
      const asDelete = deletes.get(pathKey(f.path));
      if (asDelete) {
        r.rejected.push({
          path: f.path,
          reason: trackedDeleteRejection(asDelete.content, asDelete.snapshotId),
        });
        continue;
      }
      const known = tracked.get(pathKey(f.path));
      if (known !== undefined) {
        r.filesAlreadyTracked++;
        if (known !== f.size) {
          r.rejected.push({
            path: f.path,
            reason: `already in the table with ${known} bytes but now ${f.size} bytes: a tracked file changed`,
          });
        }
        continue;
      }
      const before = state.rejected[f.path];
      if (before && before.size === f.size && before.mtimeMs === f.mtimeMs) {
        r.rejected.push({ path: f.path, reason: before.reason });
        continue;
      }
      candidates.push(f);
    }
    if (!candidates.length) {
      await this.finish(state, table, tracked, [], removed);
      return;
    }

    // Footers of the new files only, a bounded number at once.
    const { outcomes, creation } = await judgeNewFiles({
      files: candidates,
      storage,
      ...(table ? { shape: shapeOf(table.schema, table.spec, table.properties) } : {}),
      ...(o.create ? { create: o.create } : {}),
      concurrency: o.concurrency ?? 16,
      readFooter: (f) => this.readFooter(f),
      unreadable: async (f, err) => {
        if (
          !(
            err instanceof CorruptFileError ||
            err instanceof UnsupportedError ||
            err instanceof NotFoundError
          )
        )
          throw err;
        // Not Parquet: say so when it is a Puffin file (deletion vectors), never data either.
        return err instanceof CorruptFileError && (await this.isPuffin(f))
          ? puffinRejection()
          : reasonOf(err, f.path);
      },
      onRead: (done, total) => this.progress({ phase: 'check', message: 'footers', done, total }),
    });

    const added: NewDataFile[] = [];
    const newlyRejected: Record<string, AddFilesState['rejected'][string]> = {};
    for (const [i, f] of candidates.entries()) {
      const outcome = outcomes[i] as NewFileOutcome;
      if ('deferred' in outcome) r.deferred.push({ path: f.path, reason: outcome.deferred });
      else if ('ok' in outcome) added.push(outcome.ok);
      else {
        r.rejected.push({ path: f.path, reason: outcome.reason });
        newlyRejected[f.path] = {
          size: f.size,
          ...(f.mtimeMs !== undefined ? { mtimeMs: f.mtimeMs } : {}),
          reason: outcome.reason,
        };
      }
    }
    state.rejected = { ...state.rejected, ...newlyRejected };
    for (const a of added) delete state.rejected[a.path];
    await this.finish(state, table, tracked, added, removed, creation);
  }

  async finish(
    state: AddFilesState,
    table: LoadedTableState | undefined,
    tracked: Map<string, number>,
    added: NewDataFile[],
    removed: ReadonlySet<string>,
    creation?: CreatedShape,
  ): Promise<void> {
    const o = this.o;
    const r = this.report;
    r.filesAdded = added.length;
    let addedRecords = 0n;
    let addedBytes = 0n;
    for (const f of added) {
      addedRecords += f.metrics.recordCount;
      addedBytes += BigInt(f.size);
    }
    r.recordsAdded = addedRecords.toString();
    r.bytesAdded = addedBytes.toString();
    if (!added.length && !removed.size) {
      r.status = 'up-to-date';
      // Also before the table exists: rejections are remembered, so bad files are not read again.
      if (!o.dryRun) await this.saveState(state, table?.location ?? '', tracked);
      return;
    }
    if (o.dryRun) {
      r.status = 'planned';
      r.filesRemoved = removed.size;
      if (!table) r.created = true;
      return;
    }

    const now = BigInt(Date.now());
    let json: JsonObject;
    let formatVersion: FormatVersion;
    let schema: Schema;
    let spec: PartitionSpec;
    let properties: Record<string, string> = {};
    if (table) {
      json = table.json;
      formatVersion = table.formatVersion;
      schema = table.schema;
      spec = table.spec;
      if (table.properties[NAME_MAPPING_PROPERTY] === undefined) {
        // Files without ids need the mapping to be readable; Iceberg's add_files sets it too.
        properties = { [NAME_MAPPING_PROPERTY]: nameMappingToJson(nameMappingOf(schema.struct)) };
      }
    } else {
      const c = creation as NonNullable<typeof creation>;
      schema = c.schema;
      spec = c.spec;
      ({ json, formatVersion } = createdTableMetadata(o.create, this.metadataRoot, c, now));
    }
    const shape = shapeOf(schema, spec, {
      ...(table?.properties ?? creation?.properties ?? {}),
      ...properties,
    });

    const snapshots = Array.isArray(json.snapshots) ? (json.snapshots as JsonObject[]) : [];
    const existingIds = new Set(
      snapshots.map((s) => s['snapshot-id']).filter((x): x is bigint => typeof x === 'bigint'),
    );
    const snapshotId = newSnapshotId(existingIds);
    const cur = json['current-snapshot-id'];
    const parentSnapshotId = typeof cur === 'bigint' && cur !== -1n ? cur : undefined;
    const parent = snapshots.find((s) => s['snapshot-id'] === parentSnapshotId);
    const lastSeq = typeof json['last-sequence-number'] === 'bigint' ? json['last-sequence-number'] : 0n;
    const sequenceNumber = formatVersion >= 2 ? lastSeq + 1n : 0n;
    const firstRowId = formatVersion >= 3 ? ((json['next-row-id'] as bigint | undefined) ?? 0n) : undefined;

    let parentManifests: AvroRecord[] = [];
    if (parent) {
      const listPath = parent['manifest-list'];
      if (typeof listPath !== 'string')
        throw new UnsupportedError(table?.location ?? '', 'the current snapshot has no manifest list');
      parentManifests = (await readManifestList(await readText(o.resolve, listPath), listPath)).records;
    }

    const uuid = randomUUID();
    let removal: Removal | undefined;
    if (removed.size) {
      this.progress({
        phase: 'commit',
        message: `removing ${removed.size} files that are gone from the replica`,
      });
      removal = await removeFiles({
        formatVersion,
        parentManifests,
        isRemoved: (p) => removed.has(pathKey(p)),
        snapshotId,
        sequenceNumber,
        read: (p) => readText(o.resolve, p),
        newPath: (i) => `${this.metadataRoot}/${uuid}-m${i + 1}.avro`,
      });
      parentManifests = removal.manifests;
    }
    const manifestPath = `${this.metadataRoot}/${uuid}-m0.avro`;
    const listPath = `${this.metadataRoot}/snap-${snapshotId}-1-${uuid}.avro`;
    const files = buildAppend({
      formatVersion,
      schema,
      spec,
      shape,
      files: added,
      snapshotId,
      parentSnapshotId,
      sequenceNumber,
      firstRowId,
      parentManifests,
      manifestPath,
    });
    const summary = appendSummary(
      added,
      { records: files.addedRecords, bytes: files.addedBytes },
      isJsonObject(parent?.summary) ? (parent.summary as Record<string, string>) : undefined,
      !parent,
      removal
        ? { files: removal.removedFiles, records: removal.removedRecords, bytes: removal.removedBytes }
        : undefined,
    );
    const next = withSnapshot(json, {
      formatVersion,
      snapshotId,
      parentSnapshotId,
      sequenceNumber,
      timestampMs: now,
      manifestList: listPath,
      summary,
      schemaId: schema.schemaId,
      previousMetadata: table?.location,
      firstRowId,
      assignedRows: files.assignedRows,
      properties,
    });

    const version = (table ? (metadataVersionOf(table.location) ?? snapshots.length) : 0) + 1;
    const proposed =
      o.catalog.nextMetadataLocation(o.table, table?.location) ??
      `${this.metadataRoot}/${String(version).padStart(5, '0')}-${randomUUID()}.metadata.json`;
    // Never commit metadata an Iceberg reader would refuse (e.g. carried over from a broken
    // current table); checked before anything is written.
    validateTableMetadata(next, proposed);
    this.progress({
      phase: 'commit',
      message: `writing manifests (${added.length} files added, ${removed.size} removed)`,
    });
    for (const m of removal?.rewritten ?? [])
      await o.resolve(m.path).write(m.path, m.bytes, { ifNotExists: true });
    if (files.manifest)
      await o.resolve(manifestPath).write(manifestPath, files.manifest, { ifNotExists: true });
    await o.resolve(listPath).write(listPath, files.manifestList, { ifNotExists: true });
    this.progress({ phase: 'commit', message: `committing snapshot ${snapshotId}` });
    if (!table) await o.catalog.ensureNamespace(o.table.namespace);
    const committed = await o.catalog.commitTable(o.table, table?.location, proposed, encodeMetadata(next));
    r.status = 'committed';
    r.created = !table;
    r.metadataLocation = committed;
    r.snapshotId = snapshotId.toString();
    for (const f of added) tracked.set(pathKey(f.path), f.size);
    for (const p of removal?.removedPaths ?? []) tracked.delete(pathKey(p));
    r.filesRemoved = removal?.removedFiles ?? 0;
    await this.saveState(state, committed, tracked);
  }

  async saveState(state: AddFilesState, location: string, tracked: Map<string, number>): Promise<void> {
    state.metadataLocation = location;
    state.tracked = Object.fromEntries(tracked);
    await saveAddFilesState(this.bookkeeping, this.metadataRoot, state);
  }
}

/**
 * Adds the new Parquet files of a replicated directory to a DR table (creating it if asked),
 * from their footers alone. Safe to repeat: files the table tracks are never added again.
 */
export async function addFiles(options: AddFilesOptions): Promise<AddFilesReport> {
  return new AddFilesRun(options).run();
}

/** Like {@link addFiles} but writes nothing: which files would be added, rejected or deferred. */
export async function planAddFiles(options: AddFilesOptions): Promise<AddFilesReport> {
  return new AddFilesRun({ ...options, dryRun: true }).run();
}
