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
   * Also list symbolic links, marked with {@link FileInfo.symlink}, so that callers can report
   * them; without it they are left out. A listing never descends into a linked directory.
   */
  readonly symlinks?: boolean;
}

/** The contract every storage backend implements. */
export interface Storage {
  /** Size and mtime of a file, or `undefined` when it does not exist. */
  stat(path: string, options?: CallOptions): Promise<FileInfo | undefined>;
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
