/**
 * Storage in memory: a map from path to bytes, for tests and for library users who sync into
 * (or read from) something other than a file system. Paths are taken as opaque strings, with `/`
 * separating directories (`memory://bucket/a/b`, `/x/y`, anything absolute); directories exist
 * while a file lies below them. Every operation is atomic (JavaScript runs one at a time), so
 * if-not-exists writes and renames are exact. Nothing survives the process.
 */
import { AlreadyExistsError, IcebergSyncError, NotFoundError } from '../../errors.ts';
import { throwIfAborted } from '../../util/abort.ts';
import { concatBytes } from '../../util/bytes.ts';
import type {
  ByteRange,
  CallOptions,
  FileInfo,
  ListingCost,
  ListOptions,
  Storage,
  WriteOptions,
} from '../storage.ts';

interface Entry {
  readonly bytes: Uint8Array;
  readonly mtimeMs: number;
}

/** Options of {@link MemoryStorage}. */
export interface MemoryStorageOptions {
  /** Largest chunk {@link MemoryStorage.readStream} yields (default 64 KiB). */
  readonly chunkSize?: number;
}

/** Storage in a map. */
export class MemoryStorage implements Storage {
  readonly #files = new Map<string, Entry>();
  readonly #chunkSize: number;
  /** A listing scans every file held; a stat is one map lookup. */
  readonly listingCost: ListingCost = { pageSize: Number.POSITIVE_INFINITY, perEntry: true };

  constructor(options: MemoryStorageOptions = {}) {
    this.#chunkSize = options.chunkSize ?? 64 * 1024;
  }

  /** How many files it holds. */
  get size(): number {
    return this.#files.size;
  }

  async stat(path: string, options?: CallOptions): Promise<FileInfo | undefined> {
    throwIfAborted(options?.signal, path);
    const e = this.#files.get(path);
    return e ? { path, size: e.bytes.length, mtimeMs: e.mtimeMs } : undefined;
  }

  async read(path: string, range?: ByteRange, options?: CallOptions): Promise<Uint8Array> {
    throwIfAborted(options?.signal, path);
    const e = this.#files.get(path);
    if (!e) throw new NotFoundError(path);
    // Copies: a caller that changes what it got must not change the stored file.
    if (!range) return e.bytes.slice();
    if (range.length <= 0) return new Uint8Array(0);
    return e.bytes.slice(range.offset, range.offset + range.length);
  }

  async *readStream(path: string, options?: CallOptions): AsyncIterable<Uint8Array> {
    const bytes = await this.read(path, undefined, options);
    for (let at = 0; at < bytes.length; at += this.#chunkSize) {
      throwIfAborted(options?.signal, path);
      yield bytes.subarray(at, at + this.#chunkSize);
    }
  }

  async write(
    path: string,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    options?: WriteOptions,
  ): Promise<void> {
    const signal = options?.signal;
    throwIfAborted(signal, path);
    if (path.endsWith('/'))
      throw new IcebergSyncError('INVALID_PATH', `'${path}': not a file path (ends in '/')`);
    let bytes: Uint8Array;
    if (data instanceof Uint8Array) {
      bytes = data.slice();
    } else {
      const parts: Uint8Array[] = [];
      let total = 0;
      for await (const c of data) {
        throwIfAborted(signal, path);
        parts.push(c);
        total += c.length;
      }
      bytes = concatBytes(parts, total).slice();
    }
    // Checked after the bytes arrived, as a backend that writes then links would: the check and
    // the set below run without an await between them, so of two writers exactly one wins.
    throwIfAborted(signal, path);
    if (options?.ifNotExists && this.#files.has(path)) throw new AlreadyExistsError(path);
    this.#files.set(path, { bytes, mtimeMs: Date.now() });
  }

  async *listDirectories(dir: string, options?: CallOptions): AsyncIterable<string> {
    throwIfAborted(options?.signal, dir);
    const base = dir.endsWith('/') ? dir : `${dir}/`;
    const names = new Set<string>();
    for (const path of this.#files.keys()) {
      if (!path.startsWith(base)) continue;
      const rest = path.slice(base.length);
      const slash = rest.indexOf('/');
      if (slash > 0) names.add(rest.slice(0, slash));
    }
    yield* [...names].sort();
  }

  async *list(dir: string, options?: ListOptions): AsyncIterable<FileInfo> {
    throwIfAborted(options?.signal, dir);
    const base = dir.endsWith('/') ? dir : `${dir}/`;
    const found: FileInfo[] = [];
    for (const [path, e] of this.#files) {
      if (!path.startsWith(base)) continue;
      const rest = path.slice(base.length);
      if (rest === '' || (!options?.recursive && rest.includes('/'))) continue;
      found.push({ path, size: e.bytes.length, mtimeMs: e.mtimeMs });
    }
    found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    yield* found;
  }

  async delete(path: string, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal, path);
    this.#files.delete(path);
  }

  async rename(from: string, to: string, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal, from);
    const e = this.#files.get(from);
    if (!e) throw new NotFoundError(from);
    if (this.#files.has(to)) throw new AlreadyExistsError(to);
    this.#files.set(to, e);
    this.#files.delete(from);
  }

  /** Nothing to release; the files stay until the storage is garbage. */
  async close(): Promise<void> {}
}
