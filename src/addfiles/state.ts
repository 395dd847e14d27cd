/**
 * The add-files checkpoint (`<metadata-root>/.iceberg-sync/add-files-state.json`): the files the
 * table tracks as of the last commit this tool made (data files, and the delete files any
 * snapshot tracks), and files rejected before (with the size and mtime they had, so an unchanged
 * bad file is not read again). It only accelerates: when it is missing or the catalog moved on
 * without it, both sets are read from the table's own manifests, so a lost state can never add a
 * file twice, nor a delete file as data.
 */
import type { StorageResolver } from '../storage/router.ts';
import { stateDir } from '../table/checkpoint.ts';
import { defaultLogger, type Logger } from '../util/logger.ts';

/** A file rejected by an earlier run. */
export interface RejectedFile {
  readonly size: number;
  readonly mtimeMs?: number;
  readonly reason: string;
}

/** A file some snapshot of the table tracks as a delete file. */
export interface TrackedDeleteFile {
  /** 1 position deletes (or a deletion vector), 2 equality deletes. */
  readonly content: 1 | 2;
  /** The snapshot that added it (decimal). */
  readonly snapshotId: string;
}

/** The persisted state of one table's add-files runs. */
export interface AddFilesState {
  readonly version: 1;
  /** The metadata location the tracked set belongs to. */
  metadataLocation: string;
  /** Data file path → size, as the table tracks them. */
  tracked: Record<string, number>;
  /**
   * Path key → delete file, for every file any snapshot tracks as a delete; absent in states
   * written before it existed (then read from the manifests).
   */
  deleteFiles?: Record<string, TrackedDeleteFile>;
  rejected: Record<string, RejectedFile>;
}

function statePath(metadataRoot: string): string {
  return `${stateDir(metadataRoot)}/add-files-state.json`;
}

/**
 * The text each loaded or saved state had in its file: a save of the same text is skipped, so that
 * a run with nothing new (every cycle of a watch) does not rewrite the file.
 */
const savedText = new WeakMap<AddFilesState, string>();

/** Loads the state, or `undefined` when absent or unreadable (a warning says which). */
export async function loadAddFilesState(
  resolve: StorageResolver,
  metadataRoot: string,
  logger: Logger = defaultLogger,
): Promise<AddFilesState | undefined> {
  const path = statePath(metadataRoot);
  const storage = resolve(path);
  if (!(await storage.stat(path))) return undefined;
  try {
    const text = new TextDecoder().decode(await storage.read(path));
    const state = JSON.parse(text) as AddFilesState;
    if (state.version !== 1 || typeof state.tracked !== 'object') throw new Error('unknown layout');
    savedText.set(state, text);
    return state;
  } catch (err) {
    logger.warn(`ignoring unreadable add-files state ${path}: ${(err as Error).message}`);
    return undefined;
  }
}

/** Saves the state (replacing the file atomically), unless the file already holds exactly it. */
export async function saveAddFilesState(
  resolve: StorageResolver,
  metadataRoot: string,
  state: AddFilesState,
): Promise<void> {
  const path = statePath(metadataRoot);
  const text = `${JSON.stringify(state)}\n`;
  if (savedText.get(state) === text) return;
  await resolve(path).write(path, new TextEncoder().encode(text));
  savedText.set(state, text);
}
