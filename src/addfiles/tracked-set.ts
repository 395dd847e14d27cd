/**
 * What the table tracks: its data files (path key → size) and every file any snapshot tracks as
 * a delete file. From the checkpoint when it belongs to the current metadata, else from the
 * table's manifests, so a lost checkpoint never adds a file twice, nor a delete file as data.
 */
import pLimit from 'p-limit';
import { UnsupportedError } from '../errors.ts';
import {
  type ManifestFileView,
  manifestEntryView,
  manifestFileView,
  readManifest,
  readManifestList,
} from '../iceberg/manifest-codec.ts';
import type { StorageResolver } from '../storage/router.ts';
import { pathKey } from '../table/path-mapping.ts';
import type { ProgressEvent } from '../table/progress.ts';
import { isJsonObject, type JsonObject } from '../util/json.ts';
import type { Logger } from '../util/logger.ts';
import { type LoadedTableState, readText } from './current-table.ts';
import { type AddFilesState, loadAddFilesState, type TrackedDeleteFile } from './state.ts';

/** How the manifests are read. */
export interface ManifestReadContext {
  readonly resolve: StorageResolver;
  /** Files read at once (default 16). */
  readonly concurrency?: number;
  /** Announces a step (and may stop the run there). */
  readonly progress: (e: ProgressEvent) => void;
}

/** The tracked sets, and the checkpoint they go back into. */
export interface TrackedSet {
  readonly state: AddFilesState;
  readonly tracked: Map<string, number>;
  readonly deletes: Map<string, TrackedDeleteFile>;
}

/**
 * Data files the table's current snapshot tracks, read from its manifests. Entries of its
 * data manifests that are delete files (a malformed table) go to `deletes`, not to the result.
 */
export async function trackedFromManifests(
  ctx: ManifestReadContext,
  table: LoadedTableState,
  deletes: Map<string, TrackedDeleteFile>,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const sid = table.json['current-snapshot-id'];
  if (typeof sid !== 'bigint' || sid === -1n) return out;
  const snap = (table.json.snapshots as JsonObject[]).find((s) => s['snapshot-id'] === sid);
  const listPath = snap?.['manifest-list'];
  if (typeof listPath !== 'string') {
    throw new UnsupportedError(
      table.location,
      'snapshots without a manifest list (inline v1 manifests) are not supported by add-files',
    );
  }
  ctx.progress({ phase: 'discover', message: 'reading the table manifests (no usable checkpoint)' });
  const list = await readManifestList(await readText(ctx.resolve, listPath), listPath);
  for (const rec of list.records) {
    const mf = manifestFileView(rec, listPath);
    if (mf.content !== 0) continue;
    const manifest = await readManifest(await readText(ctx.resolve, mf.manifestPath), mf.manifestPath);
    for (const r of manifest.records) {
      const e = manifestEntryView(r, mf.manifestPath);
      const content = e.dataFile.content;
      if (content !== 0) {
        const snapshotId = e.snapshotId ?? mf.addedSnapshotId ?? sid;
        deletes.set(pathKey(e.dataFile.filePath), { content, snapshotId: snapshotId.toString() });
      } else if (e.status !== 2) out.set(pathKey(e.dataFile.filePath), Number(e.dataFile.fileSizeInBytes));
    }
  }
  return out;
}

/**
 * Every file that some snapshot of the table tracks as a delete file (live or not: a delete
 * file that compaction dropped is still no data file), read from the delete manifests of the
 * snapshots. Skipped: snapshots whose summary says `total-delete-files` is 0 (every delete
 * file is live in the snapshot that added it, so none is missed; without this, a table of
 * n appends costs n manifest lists of up to n entries). Format v1 has no delete files.
 */
export async function deleteFilesFromManifests(
  ctx: ManifestReadContext,
  table: LoadedTableState,
): Promise<Map<string, TrackedDeleteFile>> {
  const out = new Map<string, TrackedDeleteFile>();
  if (table.formatVersion < 2 || !Array.isArray(table.json.snapshots)) return out;
  const lists = (table.json.snapshots as JsonObject[])
    .filter((s) => !isJsonObject(s.summary) || s.summary['total-delete-files'] !== '0')
    .map((s) => s['manifest-list'])
    .filter((p): p is string => typeof p === 'string');
  if (!lists.length) return out;
  ctx.progress({ phase: 'discover', message: "reading the table's delete manifests" });
  const limit = pLimit(ctx.concurrency ?? 16);
  const perList = await Promise.all(
    lists.map((listPath) =>
      limit(async () => {
        const list = await readManifestList(await readText(ctx.resolve, listPath), listPath);
        return list.records.map((rec) => manifestFileView(rec, listPath)).filter((mf) => mf.content === 1);
      }),
    ),
  );
  const manifests = new Map<string, ManifestFileView>();
  for (const mf of perList.flat()) if (!manifests.has(mf.manifestPath)) manifests.set(mf.manifestPath, mf);
  const entries = await Promise.all(
    [...manifests.values()].map((mf) =>
      limit(async () => {
        const manifest = await readManifest(await readText(ctx.resolve, mf.manifestPath), mf.manifestPath);
        return manifest.records.map((r) => ({ mf, e: manifestEntryView(r, mf.manifestPath) }));
      }),
    ),
  );
  // In snapshot order; the entry that added a file names the snapshot that added it.
  for (const { mf, e } of entries.flat()) {
    const content = e.dataFile.content;
    if (content === 0) continue;
    const key = pathKey(e.dataFile.filePath);
    const snapshotId = (e.snapshotId ?? mf.addedSnapshotId)?.toString() ?? 'unknown';
    if (!out.has(key) || e.status === 1) out.set(key, { content, snapshotId });
  }
  return out;
}

/**
 * The tracked sets of the table (none before it exists): the checkpoint's when it belongs to
 * the current metadata, else the manifests' (keeping the checkpoint's rejections). The
 * returned state carries the delete files.
 */
export async function loadTrackedSet(
  ctx: ManifestReadContext,
  table: LoadedTableState | undefined,
  metadataRoot: string,
  logger: Logger | undefined,
): Promise<TrackedSet> {
  let state = await loadAddFilesState(ctx.resolve, metadataRoot, logger);
  let tracked: Map<string, number>;
  let deletes = new Map<string, TrackedDeleteFile>();
  if (table && state && state.metadataLocation === table.location) {
    tracked = new Map(Object.entries(state.tracked));
    deletes = state.deleteFiles
      ? new Map(Object.entries(state.deleteFiles))
      : await deleteFilesFromManifests(ctx, table);
  } else {
    tracked = table ? await trackedFromManifests(ctx, table, deletes) : new Map();
    if (table) for (const [k, v] of await deleteFilesFromManifests(ctx, table)) deletes.set(k, v);
    state = {
      version: 1,
      metadataLocation: table?.location ?? '',
      tracked: {},
      rejected: state?.rejected ?? {},
    };
  }
  // This tool commits data files only, so the set holds until another writer commits.
  state.deleteFiles = Object.fromEntries(deletes);
  return { state, tracked, deletes };
}
