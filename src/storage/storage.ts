/**
 * The storage interface. Every backend (local/POSIX, in-memory, S3, WebHDFS; see
 * `registry.ts`) implements this one small contract; nothing above it knows which backend it
 * talks to. test/contract/storage.contract.ts is its executable form: a new backend runs it.
 *
 * Paths are the backend's own absolute URIs or paths (`/ifs/dr/x`, `s3://bucket/key`,
 * `hdfs://nn/x`). Sizes are numbers: byte counts stay far below 2^53.
 *
 * Every call takes an optional `signal`: once it aborts, a call in flight fails with
 * `AbortedError` as soon as the backend can stop it (a request cancelled, a stream closed, at
 * the latest before its next request), and calls made afterwards fail at once.
 */

import { NotFoundError } from '../errors.ts';
import { concatBytes } from '../util/bytes.ts';

/** What a listing or stat returns for one file. */
export interface FileInfo {
  /** Full path, in the same form the caller used for the listed prefix. */
  readonly path: string;
  /** Size in bytes. */
  readonly size: number;
  /** Last modification time, milliseconds since the epoch, where the backend knows it. */
  readonly mtimeMs?: number;
  /**
   * Set only for a symbolic link listed with {@link ListOptions.symlinks}: what it points at
   * (`other` for a dangling link or one to a special file). Size and mtime are the link's own.
   */
  readonly symlink?: 'file' | 'directory' | 'other';
}

/** A byte range. */
export interface ByteRange {
  readonly offset: number;
  readonly length: number;
}

/** Options every storage call takes. */
export interface CallOptions {
  /** Stops the call with `AbortedError` when aborted. */
  readonly signal?: AbortSignal;
}

/** Options of {@link Storage.stat}. */
export interface StatOptions extends CallOptions {
  /**
   * Report a symbolic link, marked with {@link FileInfo.symlink}, instead of following it (as
   * {@link ListOptions.symlinks} does for listings). Backends without links ignore it.
   */
  readonly symlinks?: boolean;
}

/**
 * What listing a directory costs on a backend, next to one {@link Storage.stat} per file: how a
 * caller that needs a few files of a directory (a presence check) chooses between the two.
 * Backends that do not say are taken for object stores ({@link DEFAULT_LISTING_COST}).
 */
export interface ListingCost {
  /** Entries one listing request returns: a listing of n entries costs ceil(n / pageSize) requests. */
  readonly pageSize: number;
  /**
   * True where a listing pays per entry about what a stat costs (local disks: a stat per listed
   * file to learn its size; the in-memory store: a scan of every file), so that listing never
   * beats stats of just the files asked about.
   */
  readonly perEntry?: boolean;
}

/** The listing cost of a backend that names none: pages of 1,000 entries, as S3 and HDFS return. */
export const DEFAULT_LISTING_COST: ListingCost = { pageSize: 1000 };

/** Options of {@link Storage.write}. */
export interface WriteOptions extends CallOptions {
  /**
   * Fail with `AlreadyExistsError` if the path exists. Backends that cannot do this atomically
   * document their fallback.
   */
  readonly ifNotExists?: boolean;
}

/** Options of {@link Storage.list}. */
export interface ListOptions extends CallOptions {
  /** Descend into sub-directories (default false). */
  readonly recursive?: boolean;
  /**
   * Only the files whose path passes are needed with their size and mtime. A backend whose listing
   * pays for each file's size (a stat per file on local disks) does not yield the others but hands
   * their paths to {@link ListOptions.onSkipped}, without that cost; a backend that gets sizes with
   * the names yields them all as usual. Directories and symbolic links are never left out.
   */
  readonly only?: (path: string) => boolean;
  /** Receives each file left out by {@link ListOptions.only} (its path, in the listing's form). */
  readonly onSkipped?: (path: string) => void;
  /**
   * Also list symbolic links, marked with {@link FileInfo.symlink}, so that callers can report
   * them; without it they are left out. A listing never descends into a linked directory.
   */
  readonly symlinks?: boolean;
}

/**
 * Many paths as one buffer, as they travel between threads: their UTF-8 bytes, separated by NUL
 * (which no path holds).
 */
export interface PathList {
  readonly utf8: Uint8Array;
  readonly count: number;
}

/** A file {@link Storage.findUnlike} found not as recorded: its position in the list, and its path. */
export interface UnlikeFile {
  readonly index: number;
  readonly path: string;
}

/** The paths of a {@link PathList}, as strings. */
export function pathsOf(list: PathList): string[] {
  return list.count === 0 ? [] : new TextDecoder().decode(list.utf8).split('\0');
}

/** The contract every storage backend implements. */
export interface Storage {
  /**
   * What a listing costs next to per-file stats (unset: {@link DEFAULT_LISTING_COST}). Read by
   * callers choosing between the two; a hint, never a change of behaviour.
   */
  readonly listingCost?: ListingCost;
  /** Size and mtime of a file, or `undefined` when it does not exist. */
  stat(path: string, options?: StatOptions): Promise<FileInfo | undefined>;
  /**
   * {@link stat} of many files, answered in order, with the same results and errors. Optional:
   * a backend that can batch the calls (local disks: on worker threads) saves its callers one
   * request and promise per file; callers fall back to concurrent stats without it.
   */
  statMany?(paths: readonly string[], options?: StatOptions): Promise<(FileInfo | undefined)[]>;
  /**
   * Which of `paths` are not a regular file of the size `sizes` records for them (NaN: any size),
   * symbolic links not followed (a link is not one), in order: the bulk question of a presence
   * check, answered without a {@link FileInfo} per file. A path whose stat fails is among them;
   * the caller asks {@link stat} about those for the details. `paths.utf8` may be moved to another
   * thread, which leaves it empty: the caller keeps no use of it. Optional, for backends that
   * batch stats (local disks); callers fall back to {@link statMany} or stats without it.
   */
  findUnlike?(paths: PathList, sizes: Float64Array, options?: CallOptions): Promise<UnlikeFile[]>;
  /**
   * Reads a whole file, or one byte range of it (short at the end of the file, empty past it).
   * Throws `NotFoundError` when absent.
   */
  read(path: string, range?: ByteRange, options?: CallOptions): Promise<Uint8Array>;
  /** Streams a file in chunks, so that files of any size are never held whole. */
  readStream(path: string, options?: CallOptions): AsyncIterable<Uint8Array>;
  /** Writes a file (creating parent directories as needed). */
  write(path: string, data: Uint8Array | AsyncIterable<Uint8Array>, options?: WriteOptions): Promise<void>;
  /**
   * Lists the files directly under a directory (or, with `recursive`, all below it).
   * A missing directory lists as empty.
   */
  list(dir: string, options?: ListOptions): AsyncIterable<FileInfo>;
  /**
   * The names of the directories directly under `dir` (sorted; symbolic links and hidden names
   * included, for the caller to judge). A missing directory lists as empty. Optional: what
   * discovers tables of a warehouse needs it; object stores give their common prefixes.
   */
  listDirectories?(dir: string, options?: CallOptions): AsyncIterable<string>;
  /** Deletes a file; deleting a missing file is not an error. */
  delete(path: string, options?: CallOptions): Promise<void>;
  /**
   * Renames a file atomically, failing with `AlreadyExistsError` if the target exists.
   * Optional: object stores have no atomic rename.
   */
  rename?(from: string, to: string, options?: CallOptions): Promise<void>;
  /**
   * Releases what the backend holds (connections, clients). Idempotent. Called once at the end of
   * a run (`StorageRouter.close` closes every backend it routes to); a backend may reconnect if
   * used afterwards, but callers should not rely on it.
   */
  close(): Promise<void>;
}

/** A random-access view of one file, as codecs that read footers need it. */
export interface RangeReader {
  /** Total size in bytes. */
  readonly size: number;
  /** Reads `length` bytes at `offset`. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A {@link RangeReader} over one file of a {@link Storage}. */
export async function openRangeReader(
  storage: Storage,
  path: string,
  knownSize?: number,
): Promise<RangeReader> {
  let size = knownSize;
  if (size === undefined) {
    const info = await storage.stat(path);
    if (!info) throw new NotFoundError(path);
    size = info.size;
  }
  return { size, read: (offset, length) => storage.read(path, { offset, length }) };
}

/** A {@link RangeReader} over bytes in memory. */
export function bytesRangeReader(bytes: Uint8Array): RangeReader {
  return {
    size: bytes.length,
    read: async (offset, length) => bytes.subarray(offset, offset + length),
  };
}

/** Collects a stream of chunks into one buffer. */
export async function collectBytes(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const c of chunks) {
    parts.push(c);
    total += c.length;
  }
  return concatBytes(parts, total);
}
