/**
 * The rewrite-mode sync engine: find the newest replicated metadata version whose files are all
 * at the DR site, rewrite what earlier runs have not rewritten, and commit it to the DR catalog.
 *
 * One run's phases (discover, check, rewrite, commit) stay in one class because they share its
 * per-run caches: the manifests a list names are read once, by the pass that checks their files and
 * writes their copies (manifest-pass.ts), and a delete file is rewritten once however many manifests
 * name it. What needs none of
 * that lives beside it: the catalog checks (reconcile.ts), the copy plan, presence checks, field
 * rewrites (rewrite.ts), the checkpoint (state.ts), and the shared table core in src/table/.
 */
import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { encodeAvroFile, readAvroFile } from '../avro/container.ts';
import type { Catalog, TableIdentifier } from '../catalog/catalog.ts';
import {
  CorruptFileError,
  IcebergSyncError,
  NotFoundError,
  StorageError,
  UnsupportedError,
} from '../errors.ts';
import { type AvroRecordValue, longOf } from '../iceberg/manifest-views.ts';
import type { TableMetadata } from '../iceberg/metadata.ts';
import {
  decodeMetadata,
  encodeMetadata,
  isMetadataFileName,
  type MetadataDocument,
  metadataNameFor,
} from '../iceberg/metadata-json.ts';
import { validateTableMetadata } from '../iceberg/metadata-validate.ts';
import { readParquetFooter } from '../parquet/footer.ts';
import { abortableResolver } from '../storage/abortable.ts';
import { type StorageResolver, StorageRouter } from '../storage/router.ts';
import { type FileInfo, openRangeReader } from '../storage/storage.ts';
import { stateDir } from '../table/checkpoint.ts';
import { acquireLock } from '../table/lock.ts';
import { newestMetadataFirst } from '../table/metadata-files.ts';
import {
  InvalidPathError,
  isUnderDir,
  normalizePath,
  PathMapper,
  type PathMappingRule,
} from '../table/path-mapping.ts';
import type { ProgressEvent } from '../table/progress.ts';
import {
  assertOutsideReplica,
  metadataRootOutputs,
  type ReplicaGuardOptions,
} from '../table/replica-guard.ts';
import { throwIfAborted } from '../util/abort.ts';
import { defaultLogger, type Logger } from '../util/logger.ts';
import { writeCopyPlan } from './copy-plan.ts';
import { type RewrittenDeleteFile, rewriteDeleteFileBytes, rewriteEntryPaths } from './delete-files.ts';
import { lagSeconds } from './lag.ts';
import {
  type ManifestPassContext,
  type ManifestPassResult,
  manifestPass,
  REWRITE_AVRO,
} from './manifest-pass.ts';
import { PresenceChecker } from './presence.ts';
import { assertCommittable, type ReconcileContext, reconcileCatalog } from './reconcile.ts';
import type { MissingFile, SyncReport } from './report.ts';
import { metadataPaths, rewriteMetadataJson } from './rewrite.ts';
import { loadState, type RewrittenFile, type SyncState, saveState, stateForMapping } from './state.ts';

/** Inputs of {@link syncTable}. */
export interface SyncTableOptions {
  /** The table in the DR catalog. */
  readonly table: TableIdentifier;
  /** The DR catalog. */
  readonly catalog: Catalog;
  /** Location of the replicated table at the DR site (its root directory). */
  readonly tableLocation: string;
  /** Directory of the replicated metadata files (default `<tableLocation>/metadata`). */
  readonly metadataDir?: string;
  /** Use this replicated metadata.json as the newest version instead of listing. */
  readonly sourceMetadata?: string;
  /**
   * Mapping rules. When empty, the source table `location` maps to {@link tableLocation}.
   */
  readonly mappings?: readonly PathMappingRule[];
  /** Leave unmapped paths as they are instead of failing. */
  readonly allowUnmapped?: boolean;
  /** Writable directory for the rewritten metadata, outside the replica. */
  readonly metadataRoot: string;
  /** Storage backends (default: local only). */
  readonly resolve?: StorageResolver;
  /** Leave `write.*.path` table properties unchanged. */
  readonly keepPathProperties?: boolean;
  /** Plan only: no writes at all. */
  readonly dryRun?: boolean;
  /**
   * Commit even when the DR catalog's entry is not one this tool wrote (someone else's commit, a
   * damaged row), replacing it with compare-and-swap against what the catalog holds now. Without
   * it such a run stops with `CatalogDivergedError` (exit code 9).
   */
  readonly overwriteCatalog?: boolean;
  /** Where to write the copy plan of missing files (default `<metadataRoot>/.iceberg-sync/copy-plan.csv`). */
  readonly copyPlanPath?: string;
  /** Files read and rewritten at once (default 8). */
  readonly concurrency?: number;
  /** Progress callback. */
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Where warnings go (default: text on stderr). */
  readonly logger?: Logger;
  /** How the replica guard recognises HDFS locations (see {@link ReplicaGuardOptions}). */
  readonly replicaGuard?: ReplicaGuardOptions;
  /**
   * Stops the run with `AbortedError`: between steps and in storage calls in flight, never once
   * the catalog commit has begun. The lock and checkpoint are still released and saved.
   */
  readonly signal?: AbortSignal;
}

interface ManifestRef {
  readonly path: string;
  readonly length?: bigint;
}

interface Candidate {
  readonly path: string;
  doc?: MetadataDocument;
  error?: string;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function joinPath(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, '')}/${name}`;
}

/** One run of the engine. Not reusable: make a new one per run. */
class SyncRun {
  readonly opts: SyncTableOptions;
  readonly resolve: StorageResolver;
  /** {@link resolve} without the run's signal: for the lock and checkpoints, saved even when aborted. */
  readonly bookkeeping: StorageResolver;
  readonly presence: PresenceChecker;
  readonly limit: ReturnType<typeof pLimit>;
  readonly root: string;
  mapper!: PathMapper;
  state!: SyncState;
  readonly report: SyncReport;
  /** Manifests each (not yet rewritten) manifest list names, from the check phase. */
  readonly listManifests = new Map<string, ManifestRef[]>();
  readonly manifestChecks = new Map<string, Promise<MissingFile[]>>();
  readonly listChecks = new Map<string, Promise<MissingFile[]>>();
  readonly deleteRewrites = new Map<string, Promise<RewrittenFile>>();
  /** Manifests this run rewrote while checking them (not reused ones). */
  readonly rewrittenNow = new Set<string>();
  lastSave = Date.now();
  /** The checkpoint's content as last read or written (an unchanged state is not written again). */
  savedState: string | undefined;
  /** The newest valid replicated metadata, which the lag is measured against. */
  newest: TableMetadata | undefined;
  /** Replicated metadata files that are symbolic links: not replicated files, never followed. */
  readonly symlinks = new Set<string>();
  /** The names of the outputs of the metadata files listed this run (see reconcile.ts). */
  outputNames: ReadonlySet<string> = new Set();

  constructor(opts: SyncTableOptions) {
    this.opts = opts;
    this.bookkeeping = opts.resolve ?? new StorageRouter().resolver;
    this.resolve = abortableResolver(this.bookkeeping, opts.signal);
    // The replica's roots: a symlinked directory below them is not followed.
    this.presence = new PresenceChecker(this.resolve, {
      roots: [opts.tableLocation, ...(opts.mappings ?? []).map((r) => r.target)],
    });
    this.limit = pLimit(opts.concurrency ?? 8);
    this.root = opts.metadataRoot.replace(/\/+$/, '');
    this.report = {
      status: 'failed',
      metadataLocation: null,
      snapshotId: null,
      sourceMetadata: null,
      newestSourceMetadata: null,
      manifestsRewritten: 0,
      manifestListsRewritten: 0,
      deleteFilesRewritten: 0,
      manifestsReused: 0,
      missingFiles: 0,
      missing: [],
      copyPlan: null,
      listings: 0,
      stats: 0,
      skippedVersions: [],
      durationMs: 0,
      dryRun: opts.dryRun ?? false,
    };
  }

  progress(e: ProgressEvent): void {
    this.opts.onProgress?.(e);
    // Every step announces itself: the place to stop between steps (after the announcement, so
    // that a host reacting to it stops the step it names).
    throwIfAborted(this.opts.signal);
  }

  async read(path: string): Promise<Uint8Array> {
    return this.resolve(path).read(path);
  }

  /** Replicated metadata files, newest first. */
  async listMetadataFiles(): Promise<string[]> {
    if (this.opts.sourceMetadata) return [this.opts.sourceMetadata];
    const dir = this.opts.metadataDir ?? joinPath(this.opts.tableLocation, 'metadata');
    const linked = await this.presence.linkedDirectory(dir);
    if (linked) {
      throw new StorageError(
        `${dir}: ${linked === dir ? 'is a symlink' : `lies below the symlink ${linked}`} (not followed): the replica's metadata must be replicated files`,
      );
    }
    const listedFiles: FileInfo[] = [];
    for await (const f of this.resolve(dir).list(dir, { symlinks: true })) {
      // Listed so that the run says why it passes over it (and is behind), never read.
      if (f.symlink && isMetadataFileName(f.path)) this.symlinks.add(f.path);
      listedFiles.push(f);
    }
    const files = newestMetadataFirst(listedFiles);
    if (files.length === 0) {
      throw new NotFoundError(`${dir}/*.metadata.json`);
    }
    return files.map((f) => f.path);
  }

  async loadCandidate(path: string): Promise<Candidate> {
    if (this.symlinks.has(path)) return { path, error: 'is a symlink (not followed)' };
    try {
      const doc = decodeMetadata(await this.read(path), path);
      // Metadata Iceberg readers would refuse is no candidate, as a corrupt file is not.
      validateTableMetadata(doc.json, path);
      return { path, doc };
    } catch (err) {
      if (err instanceof UnsupportedError) throw err;
      if (err instanceof IcebergSyncError) return { path, error: err.message };
      throw err;
    }
  }

  mapperFor(doc: MetadataDocument, file: string): PathMapper {
    const location = doc.metadata.location;
    if (
      !this.opts.mappings?.length &&
      normalizePath(location).segments.some((s) => s === '.' || s === '..')
    ) {
      throw new InvalidPathError(location, "path contains '.' or '..' segments", { file, field: 'location' });
    }
    const rules =
      this.opts.mappings && this.opts.mappings.length > 0
        ? this.opts.mappings
        : [{ source: doc.metadata.location, target: this.opts.tableLocation }];
    return new PathMapper(rules, { allowUnmapped: this.opts.allowUnmapped ?? false });
  }

  missing(
    source: string,
    kind: string,
    reason: MissingFile['reason'],
    expected?: bigint,
    actual?: number,
    symlink?: string,
  ): MissingFile {
    return {
      source,
      target: this.mapper.map(source),
      reason,
      kind,
      ...(expected !== undefined ? { expectedSize: expected.toString() } : {}),
      ...(actual !== undefined ? { actualSize: actual } : {}),
      ...(symlink !== undefined ? { symlink } : {}),
    };
  }

  async present(source: string, kind: string, size?: bigint): Promise<MissingFile[]> {
    const target = this.mapper.map(source);
    const r = await this.presence.check(target, size);
    return r.ok ? [] : [this.missing(source, kind, r.reason!, size, r.actualSize, r.symlink)];
  }

  /**
   * Checks one manifest and every live file it names, writing its rewritten copy in the same pass
   * (see manifest-pass.ts). A manifest whose files are all there is recorded as rewritten.
   */
  checkManifest(ref: ManifestRef): Promise<MissingFile[]> {
    const done = this.state.manifests[ref.path];
    if (
      done &&
      (ref.length === undefined || done.sourceSize === undefined || BigInt(done.sourceSize) === ref.length)
    ) {
      return Promise.resolve([]);
    }
    let p = this.manifestChecks.get(ref.path);
    if (!p) {
      p = this.limit(async () => {
        const own = await this.present(ref.path, 'manifest', ref.length);
        if (own.length > 0) return own;
        const target = this.mapper.map(ref.path, { file: ref.path, field: 'manifest_path' });
        // A copy a killed run wrote is reused (its files are still checked); a plan writes nothing.
        const found = this.opts.dryRun ? undefined : await this.existingOutput(ref.path);
        const outputPath = this.opts.dryRun || found ? undefined : this.outputPathFor(ref.path);
        let result: ManifestPassResult;
        try {
          result = await manifestPass(this.passContext(), target, {
            check: true,
            ...(outputPath !== undefined ? { outputPath } : {}),
            rewriteDeletes: false,
          });
        } catch (err) {
          if (err instanceof CorruptFileError) return [this.missing(ref.path, 'manifest', 'unreadable')];
          throw err;
        }
        if (result.written) this.report.manifestsRewritten++;
        if (result.missing.length === 0 && !this.opts.dryRun) {
          const output =
            result.written && outputPath !== undefined ? { outputPath, ...result.written } : undefined;
          if (output) this.rewrittenNow.add(ref.path);
          if (output || found) {
            this.state.manifests[ref.path] = output ?? {
              ...(ref.length !== undefined ? { sourceSize: Number(ref.length) } : {}),
              ...found!,
            };
            await this.checkpoint();
          }
        }
        return result.missing;
      });
      this.manifestChecks.set(ref.path, p);
    }
    return p;
  }

  /** What {@link manifestPass} needs of this run. */
  passContext(): ManifestPassContext {
    return {
      mapper: this.mapper,
      presence: this.presence,
      readStream: (path) => this.resolve(path).readStream(path),
      write: (path, chunks) => this.resolve(path).write(path, chunks),
      missing: (...args) => this.missing(...args),
      rewriteEntry: (entry, manifest) => this.rewriteManifestEntry(entry, manifest),
    };
  }

  /** Checks one manifest list and the manifests it names. */
  checkManifestList(path: string): Promise<MissingFile[]> {
    if (this.state.manifestLists[path]) return Promise.resolve([]);
    let p = this.listChecks.get(path);
    if (!p) {
      p = (async () => {
        const own = await this.present(path, 'manifest-list');
        if (own.length > 0) return own;
        const target = this.mapper.map(path);
        let records: AvroRecordValue[];
        try {
          records = readAvroFile(await this.read(target), target).records as AvroRecordValue[];
        } catch (err) {
          if (err instanceof CorruptFileError) return [this.missing(path, 'manifest-list', 'unreadable')];
          throw err;
        }
        const refs = records.map((r) => ({
          path: String(r.manifest_path),
          length: longOf(r.manifest_length),
        }));
        for (const r of refs) this.mapper.map(r.path, { file: target, field: 'manifest_path' });
        this.listManifests.set(path, refs);
        const results = await Promise.all(refs.map((r) => this.checkManifest(r)));
        return results.flat();
      })();
      this.listChecks.set(path, p);
    }
    return p;
  }

  /**
   * Maps every path-bearing field of a candidate's metadata.json up front, so that a path no rule
   * maps, or one with `..`, is refused naming the file and the field (JSON path).
   */
  checkMetadataPaths(c: Candidate): void {
    const fields = metadataPaths(c.doc!.json, { keepPathProperties: this.opts.keepPathProperties ?? false });
    for (const f of fields) this.mapper.map(f.path, { file: c.path, field: f.field });
  }

  /** Every file the version needs that is not at the DR site with the recorded size. */
  async checkClosure(doc: MetadataDocument): Promise<MissingFile[]> {
    const md = doc.metadata;
    const jobs: Promise<MissingFile[]>[] = [];
    for (const s of md.snapshots) {
      if (s.manifestList) jobs.push(this.checkManifestList(s.manifestList));
      else for (const m of s.manifests ?? []) jobs.push(this.checkManifest({ path: m }));
    }
    for (const st of [...md.statistics, ...md.partitionStatistics]) {
      jobs.push(this.present(st.statisticsPath, 'statistics', st.fileSizeInBytes));
    }
    const all = (await Promise.all(jobs)).flat();
    const unique = new Map<string, MissingFile>();
    for (const m of all) unique.set(m.target, m);
    return [...unique.values()];
  }

  /** An output path for a source file, unique within the metadata root. */
  outputPathFor(source: string, subdir?: string): string {
    let name = baseName(source);
    const key = subdir ? `${subdir}/${name}` : name;
    const owner = this.state.names[key];
    if (owner !== undefined && owner !== source) {
      name = `${createHash('sha256').update(source).digest('hex').slice(0, 8)}-${name}`;
    }
    const finalKey = subdir ? `${subdir}/${name}` : name;
    this.state.names[finalKey] = source;
    return joinPath(subdir ? joinPath(this.root, subdir) : this.root, name);
  }

  async writeOutput(path: string, bytes: Uint8Array): Promise<void> {
    await this.resolve(path).write(path, bytes);
  }

  /** Rewrites a position-delete or deletion-vector file once per run and state. */
  rewriteDeleteFile(
    source: string,
    format: 'PARQUET' | 'PUFFIN',
    manifest: string,
  ): Promise<RewrittenDeleteFile> {
    const cached = this.state.deleteFiles[source];
    if (cached) return Promise.resolve(cached);
    let p = this.deleteRewrites.get(source);
    if (!p) {
      p = (async () => {
        const found = await this.existingOutput(source, 'deletes');
        if (found) {
          this.state.deleteFiles[source] = found;
          return found;
        }
        const target = this.mapper.map(source, { file: manifest, field: 'data_file.file_path' });
        const bytes = await this.read(target);
        const field = format === 'PARQUET' ? 'file_path column' : 'referenced-data-file property';
        const r = await rewriteDeleteFileBytes(
          bytes,
          format,
          (x) => this.mapper.map(x, { file: target, field }),
          target,
        );
        const outputPath = this.outputPathFor(source, 'deletes');
        await this.writeOutput(outputPath, r.bytes);
        const rec: RewrittenFile = { sourceSize: bytes.length, outputPath, outputSize: r.bytes.length };
        this.state.deleteFiles[source] = rec;
        this.report.deleteFilesRewritten++;
        const { bytes: _written, ...bounds } = r;
        return { ...rec, ...bounds };
      })();
      this.deleteRewrites.set(source, p);
    }
    return p;
  }

  /** Row-group offsets (Iceberg's `split_offsets`) of a Parquet file this tool wrote. */
  async splitOffsetsOf(path: string): Promise<readonly number[]> {
    const reader = await openRangeReader(this.resolve(path), path);
    return (await readParquetFooter(reader, path)).splitOffsets;
  }

  /**
   * Rewrites a manifest the check did not (one with live delete entries, whose files are rewritten
   * now that the version is known to be complete) or finds its copy.
   */
  async rewriteManifest(ref: ManifestRef): Promise<void> {
    const done = this.state.manifests[ref.path];
    if (done) {
      if (!this.rewrittenNow.has(ref.path)) this.report.manifestsReused++;
      return;
    }
    const found = await this.existingOutput(ref.path);
    if (found) {
      this.state.manifests[ref.path] = {
        ...(ref.length !== undefined ? { sourceSize: Number(ref.length) } : {}),
        ...found,
      };
      this.report.manifestsReused++;
      return;
    }
    const target = this.mapper.map(ref.path);
    const outputPath = this.outputPathFor(ref.path);
    const { written } = await manifestPass(this.passContext(), target, {
      check: false,
      outputPath,
      rewriteDeletes: true,
    });
    this.state.manifests[ref.path] = { ...written!, outputPath };
    this.report.manifestsRewritten++;
    await this.checkpoint();
  }

  /** Maps the paths of one manifest entry in place, rewriting the delete file it names if any. */
  rewriteManifestEntry(entry: AvroRecordValue, target: string): Promise<void> {
    return rewriteEntryPaths(entry, target, {
      mapper: this.mapper,
      deleteFile: (path, format) => this.rewriteDeleteFile(path, format, target),
      splitOffsetsOf: (path) => this.splitOffsetsOf(path),
    });
  }

  async rewriteManifestList(path: string): Promise<void> {
    if (this.state.manifestLists[path]) return;
    const found = await this.existingOutput(path);
    if (found) {
      this.state.manifestLists[path] = found;
      return;
    }
    const target = this.mapper.map(path);
    const bytes = await this.read(target);
    const { header, records } = readAvroFile(bytes, target);
    for (const r of records as AvroRecordValue[]) {
      const src = String(r.manifest_path);
      const m = this.state.manifests[src];
      if (!m) throw new IcebergSyncError('STORAGE', `${target}: manifest ${src} was not rewritten`);
      r.manifest_path = m.outputPath;
      r.manifest_length = BigInt(m.outputSize);
    }
    const out = encodeAvroFile(header, records, REWRITE_AVRO);
    const outputPath = this.outputPathFor(path);
    await this.writeOutput(outputPath, out);
    this.state.manifestLists[path] = { sourceSize: bytes.length, outputPath, outputSize: out.length };
    this.report.manifestListsRewritten++;
    await this.checkpoint();
  }

  /**
   * An output a killed run wrote but did not checkpoint. Outputs are written atomically and are a
   * function of the immutable source file (and the mapping, whose fingerprint the state guards),
   * so one found at its path is complete and right.
   */
  async existingOutput(
    source: string,
    subdir?: string,
  ): Promise<{ outputPath: string; outputSize: number } | undefined> {
    const name = baseName(source);
    if (this.state.names[subdir ? `${subdir}/${name}` : name] !== undefined) return undefined;
    const outputPath = joinPath(subdir ? joinPath(this.root, subdir) : this.root, name);
    const info = await this.resolve(outputPath).stat(outputPath);
    if (!info) return undefined;
    this.state.names[subdir ? `${subdir}/${name}` : name] = source;
    return { outputPath, outputSize: info.size };
  }

  /** Saves the checkpoint at most every few seconds (it grows with the table), and when forced. */
  async checkpoint(force = false): Promise<void> {
    if (force || Date.now() - this.lastSave >= 5000) {
      this.lastSave = Date.now();
      this.savedState = await saveState(this.bookkeeping, this.root, this.state, this.savedState);
    }
  }

  /** Rewrites everything the chosen version needs and writes its metadata.json. */
  async rewriteVersion(c: Candidate): Promise<{ location: string; bytes: Uint8Array }> {
    const doc = c.doc!;
    const lists = doc.metadata.snapshots.map((s) => s.manifestList).filter((l): l is string => !!l);
    const manifests = new Map<string, ManifestRef>();
    for (const l of lists) for (const m of this.listManifests.get(l) ?? []) manifests.set(m.path, m);
    for (const s of doc.metadata.snapshots) for (const m of s.manifests ?? []) manifests.set(m, { path: m });
    const todo = [...manifests.values()];
    let done = 0;
    await Promise.all(
      todo.map((m) =>
        this.limit(async () => {
          await this.rewriteManifest(m);
          this.progress({ phase: 'rewrite', message: 'manifests', done: ++done, total: todo.length });
        }),
      ),
    );
    let listsDone = 0;
    await Promise.all(
      lists.map((l) =>
        this.limit(async () => {
          await this.rewriteManifestList(l);
          this.progress({
            phase: 'rewrite',
            message: 'manifest lists',
            done: ++listsDone,
            total: lists.length,
          });
        }),
      ),
    );
    const json = rewriteMetadataJson(doc.json, {
      mapper: this.mapper,
      file: c.path,
      keepPathProperties: this.opts.keepPathProperties ?? false,
      manifestListOutput: (src) => this.state.manifestLists[src]!.outputPath,
      manifestOutput: (src) => this.state.manifests[src]!.outputPath,
      metadataOutput: (mapped) => this.state.metadata[mapped],
    });
    // Named for its content: readers pick the codec from the name, whatever the source was called.
    const location = joinPath(this.root, metadataNameFor(baseName(c.path), doc.gzip));
    validateTableMetadata(json, location);
    const bytes = encodeMetadata(json, { gzip: doc.gzip, pretty: doc.pretty });
    return { location, bytes };
  }

  /**
   * Writes the copy plan, or removes the one at the default place when nothing is missing. The
   * checkpoint remembers that it is gone, so that a table with nothing missing (every cycle of a
   * watch) costs no delete request per run; it forgets that, saved, before a plan is written, so
   * that a run killed after writing one leaves it to be removed later.
   */
  async writeCopyPlan(missing: MissingFile[]): Promise<void> {
    const tracked = this.opts.copyPlanPath === undefined && !this.report.dryRun;
    if (tracked && this.state.copyPlan === 'none') {
      if (missing.length === 0) return;
      delete this.state.copyPlan;
      await this.checkpoint(true);
    }
    const written = await writeCopyPlan(this.resolve, missing, {
      path: this.opts.copyPlanPath ?? `${stateDir(this.root)}/copy-plan.csv`,
      explicit: this.opts.copyPlanPath !== undefined,
      dryRun: this.report.dryRun,
    });
    if (written) this.report.copyPlan = written;
    if (tracked && missing.length === 0) this.state.copyPlan = 'none';
  }

  async run(): Promise<SyncReport> {
    const start = Date.now();
    const { opts, report } = this;
    // Before anything is written (the lock included): no output inside the replica.
    await assertOutsideReplica(
      [
        { what: 'replicated table', path: opts.tableLocation },
        ...(opts.metadataDir ? [{ what: 'replicated metadata directory', path: opts.metadataDir }] : []),
        ...(opts.mappings ?? []).map((r) => ({ what: '--map target', path: r.target })),
      ],
      [
        ...metadataRootOutputs(this.root),
        ...(opts.copyPlanPath ? [{ what: 'copy plan', path: opts.copyPlanPath }] : []),
      ],
      opts.replicaGuard,
    );
    throwIfAborted(opts.signal);
    const lock = opts.dryRun ? undefined : await acquireLock(this.bookkeeping, this.root, opts.logger);
    try {
      await this.#run();
      const lag = this.newest && !opts.dryRun ? lagSeconds(this.newest, report.snapshotId) : undefined;
      if (lag !== undefined) report.lagSeconds = lag;
    } finally {
      report.listings = this.presence.listings;
      report.stats = this.presence.stats;
      report.durationMs = Date.now() - start;
      if (lock) {
        if (this.state)
          await saveState(this.bookkeeping, this.root, this.state, this.savedState).catch(() => {});
        await lock.release();
      }
    }
    return report;
  }

  async #run(): Promise<void> {
    const { opts, report } = this;
    this.progress({ phase: 'discover', message: 'listing replicated metadata' });
    const listed = await this.listMetadataFiles();
    this.outputNames = new Set(
      listed.flatMap((p) => [metadataNameFor(baseName(p), false), metadataNameFor(baseName(p), true)]),
    );
    // The newest readable metadata file defines the lineage (its metadata-log).
    let top: Candidate | undefined;
    for (const path of listed) {
      const c = await this.loadCandidate(path);
      if (c.doc) {
        top = c;
        break;
      }
      report.skippedVersions.push({ metadata: path, reason: c.error ?? 'unreadable' });
    }
    if (!top?.doc) {
      const why = report.skippedVersions[0]?.reason;
      throw new CorruptFileError(
        listed[0]!,
        `no readable, valid metadata.json among the replicated metadata files${why ? ` (newest: ${why})` : ''}`,
      );
    }
    report.newestSourceMetadata = top.path;
    this.newest = top.doc.metadata;
    this.mapper = this.mapperFor(top.doc, top.path);
    const loaded = await loadState(this.resolve, this.root, opts.logger);
    this.savedState = loaded?.text;
    const current = await opts.catalog.loadTable(opts.table);
    const picked = await stateForMapping(loaded?.state, this.mapper.rules, {
      resolve: this.resolve,
      root: this.root,
      committedUnderRoot: current !== undefined && isUnderDir(current.metadataLocation, this.root),
      logger: opts.logger ?? defaultLogger,
    });
    this.state = picked.state;
    // Saved before anything is written with the new rules, so a kill keeps the reserved names.
    if (picked.changed && !opts.dryRun) await this.checkpoint(true);
    // A checkpoint the catalog contradicts is no guide to what is committed (see reconcile).
    const last = (await reconcileCatalog(this.reconcileContext(), current))
      ? this.state.lastCommit
      : undefined;
    const upToDate = (source: string) =>
      last !== undefined &&
      last.sourceMetadata === source &&
      current?.metadataLocation === last.outputMetadata;
    const finish = (status: SyncReport['status'], c: Candidate | undefined, location: string | null) => {
      report.status = status;
      report.metadataLocation = location;
      report.sourceMetadata = c?.path ?? null;
      const sid = c?.doc?.metadata.currentSnapshotId;
      report.snapshotId = sid === undefined ? null : sid.toString();
    };
    if (upToDate(top.path)) {
      finish(listed[0] !== top.path ? 'behind' : 'up-to-date', top, current!.metadataLocation);
      await this.writeCopyPlan([]);
      return;
    }
    // Walk the lineage newest first until a version is complete.
    // The newest file's metadata-log comes first. Entries that the listed directory does not hold
    // (expired, or renamed as in Hadoop-layout copies) are passed over, and listed files that the
    // log does not name follow, newest first: older versions that another layout named otherwise.
    const listedSet = new Set(listed);
    const listedDir = top.path.slice(0, top.path.lastIndexOf('/'));
    this.checkMetadataPaths(top);
    const lineage = [top.path];
    for (const e of [...top.doc.metadata.metadataLog].reverse()) {
      const mapped = this.mapper.map(e.metadataFile, { file: top.path, field: 'metadata-log.metadata-file' });
      const sameDir = mapped.slice(0, mapped.lastIndexOf('/')) === listedDir;
      if (!lineage.includes(mapped) && (listedSet.has(mapped) || !sameDir)) lineage.push(mapped);
    }
    const skipped = new Set(report.skippedVersions.map((v) => v.metadata));
    for (const p of listed) if (!lineage.includes(p) && !skipped.has(p)) lineage.push(p);
    let chosen: Candidate | undefined;
    let newestMissing: MissingFile[] | undefined;
    for (const [i, path] of lineage.entries()) {
      if (last && path === last.sourceMetadata) {
        // Never go back past what is already committed.
        chosen = { path };
        break;
      }
      // A version outside the listed directory was not seen by the listing: check it is no symlink.
      if (i > 0 && !listedSet.has(path) && (await this.presence.check(path)).reason === 'symlink') {
        this.symlinks.add(path);
      }
      const c = i === 0 ? top : await this.loadCandidate(path);
      if (!c.doc) {
        report.skippedVersions.push({ metadata: path, reason: c.error ?? 'unreadable' });
        continue;
      }
      this.progress({ phase: 'check', message: `checking ${baseName(path)}` });
      this.checkMetadataPaths(c);
      const missing = await this.checkClosure(c.doc);
      if (newestMissing === undefined) newestMissing = missing;
      if (missing.length === 0) {
        chosen = c;
        break;
      }
      report.skippedVersions.push({
        metadata: path,
        reason: `${missing.length} file(s) missing or incomplete`,
      });
    }
    const missing = newestMissing ?? [];
    report.missingFiles = missing.length;
    report.missing = missing.slice(0, 1000);
    await this.writeCopyPlan(missing);
    // Behind when a newer file than the one chosen exists but is incomplete or unreadable.
    const behind = chosen?.path !== top.path || listed[0] !== top.path;
    if (!chosen?.doc) {
      // Nothing newer than the last commit is complete.
      finish('behind', chosen ?? undefined, current?.metadataLocation ?? null);
      if (last && chosen) report.snapshotId = last.snapshotId ?? null;
      return;
    }
    if (upToDate(chosen.path)) {
      finish(behind ? 'behind' : 'up-to-date', chosen, current!.metadataLocation);
      return;
    }
    if (opts.dryRun) {
      assertCommittable(this.reconcileContext(), current);
      finish(behind ? 'behind' : 'planned', chosen, current?.metadataLocation ?? null);
      report.manifestListsRewritten = chosen.doc.metadata.snapshots.filter(
        (s) => s.manifestList && !this.state.manifestLists[s.manifestList],
      ).length;
      const newManifests = new Set<string>();
      for (const refs of this.listManifests.values()) {
        for (const r of refs) if (!this.state.manifests[r.path]) newManifests.add(r.path);
      }
      report.manifestsRewritten = newManifests.size;
      return;
    }
    const { location, bytes } = await this.rewriteVersion(chosen);
    if (current && (await this.sameBytes(current.metadataLocation, bytes))) {
      // State was lost (or never saved) after a commit: the catalog already holds exactly this
      // output, so record it instead of committing the same version again.
      this.recordCommit(chosen, current.metadataLocation);
      await this.checkpoint(true);
      finish(behind ? 'behind' : 'up-to-date', chosen, current.metadataLocation);
      return;
    }
    assertCommittable(this.reconcileContext(), current);
    // The last point to stop at (progress checks the signal): the commit runs whole.
    this.progress({ phase: 'commit', message: `committing ${baseName(location)}` });
    if (!current) await opts.catalog.ensureNamespace(opts.table.namespace);
    // The catalog writes the file (never over an existing one) and swaps the pointer.
    const committed = await opts.catalog.commitTable(opts.table, current?.metadataLocation, location, bytes);
    this.recordCommit(chosen, committed);
    await this.checkpoint(true);
    finish(behind ? 'behind' : 'committed', chosen, committed);
  }

  /** What the catalog checks of {@link reconcileCatalog} need of this run. */
  reconcileContext(): ReconcileContext {
    const { opts } = this;
    return {
      catalogName: opts.catalog.name,
      table: opts.table,
      root: this.root,
      state: this.state,
      resolve: this.resolve,
      report: this.report,
      logger: opts.logger ?? defaultLogger,
      dryRun: opts.dryRun ?? false,
      overwriteCatalog: opts.overwriteCatalog ?? false,
      outputNames: this.outputNames,
    };
  }

  recordCommit(chosen: Candidate, committed: string): void {
    this.state.metadata[chosen.path] = committed;
    const sid = chosen.doc?.metadata.currentSnapshotId;
    this.state.lastCommit = {
      sourceMetadata: chosen.path,
      outputMetadata: committed,
      ...(sid !== undefined ? { snapshotId: sid.toString() } : {}),
      committedAt: new Date().toISOString(),
    };
  }

  async sameBytes(path: string, bytes: Uint8Array): Promise<boolean> {
    const storage = this.resolve(path);
    const info = await storage.stat(path);
    if (!info || info.size !== bytes.length) return false;
    return Buffer.compare(await storage.read(path), bytes) === 0;
  }
}

/**
 * Syncs one replicated table into the DR catalog (rewrite mode). Safe to repeat: a run with
 * nothing new changes nothing; an interrupted run resumes from its checkpoint.
 */
export async function syncTable(options: SyncTableOptions): Promise<SyncReport> {
  return new SyncRun(options).run();
}

/** Like {@link syncTable} but writes nothing: what would be rewritten, the consistency point, missing files. */
export async function planSync(options: SyncTableOptions): Promise<SyncReport> {
  return new SyncRun({ ...options, dryRun: true }).run();
}
