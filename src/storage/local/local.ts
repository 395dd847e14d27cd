/**
 * Local/POSIX storage: local disks and NFS/SMB mounts (OneFS among them).
 * Accepts plain absolute paths and `file:` URIs (`file:/x`, `file:///x`).
 */
import { randomBytes } from 'node:crypto';
import {
  close as closeCallback,
  createReadStream,
  lstat as lstatCallback,
  open as openCallback,
  read as readCallback,
  type Stats,
  stat as statCallback,
} from 'node:fs';
import * as fs from 'node:fs/promises';
import * as nodePath from 'node:path';
import {
  AlreadyExistsError,
  IcebergSyncError,
  NotFoundError,
  PermissionDeniedError,
  StorageError,
} from '../../errors.ts';
import { abortedError, throwIfAborted } from '../../util/abort.ts';
import type {
  ByteRange,
  CallOptions,
  FileInfo,
  ListingCost,
  ListOptions,
  PathList,
  StatOptions,
  Storage,
  UnlikeFile,
  WriteOptions,
} from '../storage.ts';
import { pathsOf } from '../storage.ts';
import { FsPool, type StatAnswer } from './fs-pool.ts';

/** Converts `file:` URIs to a plain path; plain paths pass through. */
export function toLocalPath(path: string): string {
  if (path.startsWith('file://')) return decodeURIComponent(path.slice('file://'.length)) || '/';
  if (path.startsWith('file:')) return decodeURIComponent(path.slice('file:'.length));
  return path;
}

function translate(err: unknown, path: string, signal?: AbortSignal): Error {
  if (err instanceof IcebergSyncError) return err;
  if (signal?.aborted) return abortedError(signal, path);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return new NotFoundError(path, { cause: err });
  if (code === 'EEXIST') return new AlreadyExistsError(path, { cause: err });
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new PermissionDeniedError(path, code, { cause: err });
  }
  return new StorageError(`${path}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** {@link plainAnswer}: the pool's answer says nothing final (asked again through fs). */
const ASK_AGAIN = Symbol('ask again');

/**
 * What a pool answer says without another call: the file (or `undefined`: absent, or no regular
 * file), or {@link ASK_AGAIN} for a link or an error other than absence.
 */
function plainAnswer(path: string, a: StatAnswer): { info: FileInfo | undefined } | typeof ASK_AGAIN {
  if ('error' in a) return a.error === 'ENOENT' || a.error === 'ENOTDIR' ? { info: undefined } : ASK_AGAIN;
  if (a.type === 'symlink') return ASK_AGAIN;
  return { info: a.type === 'file' ? { path, size: a.size, mtimeMs: a.mtimeMs } : undefined };
}

/** Stats and small reads on worker threads, shared by every local storage (idle workers keep no process alive). */
const POOL = new FsPool();

/**
 * stat(2) or lstat(2) through the callback API: a presence check makes one per file of a table
 * (a million on a big one), and the promise API costs about a third more CPU per call.
 */
function statOf(path: string, link: boolean): Promise<Stats> {
  return new Promise((resolve, reject) =>
    (link ? lstatCallback : statCallback)(path, (err, st) => (err ? reject(err) : resolve(st))),
  );
}

/**
 * Reads `length` bytes at `offset` (fewer at the end of the file) through the callback API: add-files
 * reads one footer per data file (tens of thousands), and a `FileHandle` costs about a third more
 * of the main thread per read than open, read and close with callbacks.
 */
function readRange(path: string, offset: number, length: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    openCallback(path, 'r', (err, fd) => {
      if (err) return reject(err);
      const buf = new Uint8Array(length);
      const finish = (error: unknown, done: number) =>
        closeCallback(fd, (closeErr) => {
          if (error || closeErr) reject(error ?? closeErr);
          else resolve(done === length ? buf : buf.subarray(0, done));
        });
      const step = (done: number) => {
        if (done === length) return finish(undefined, done);
        readCallback(fd, buf, done, length - done, offset + done, (e, n) => {
          if (e) finish(e, done);
          else if (n === 0) finish(undefined, done);
          else step(done + n);
        });
      };
      step(0);
    });
  });
}

/**
 * Storage on the local file system (including network mounts). An abort stops whole-file reads,
 * streams and writes in flight (Node's fs takes a signal there) and is checked before every other
 * call and between the files of a listing.
 */
export class LocalStorage implements Storage {
  /** One readdir lists a directory, but each listed file's size costs a stat of its own. */
  readonly listingCost: ListingCost = { pageSize: Number.POSITIVE_INFINITY, perEntry: true };

  async stat(path: string, options?: StatOptions): Promise<FileInfo | undefined> {
    throwIfAborted(options?.signal, path);
    const local = toLocalPath(path);
    const a = await POOL.stat(local, options?.symlinks ?? false);
    return this.#answer(path, local, a, options);
  }

  async statMany(paths: readonly string[], options?: StatOptions): Promise<(FileInfo | undefined)[]> {
    throwIfAborted(options?.signal, paths[0]);
    return this.#statBatch(paths, paths.map(toLocalPath), options);
  }

  async findUnlike(paths: PathList, sizes: Float64Array, options?: CallOptions): Promise<UnlikeFile[]> {
    throwIfAborted(options?.signal);
    const answer = await POOL.findUnlike(paths, sizes);
    if (answer) return answer;
    // No worker up: the same question through stats.
    const all = pathsOf(paths);
    const infos = await this.statMany(all, { symlinks: true, ...options });
    const out: UnlikeFile[] = [];
    for (const [i, info] of infos.entries()) {
      const size = sizes[i]!;
      if (!info || info.symlink || (!Number.isNaN(size) && info.size !== size))
        out.push({ index: i, path: all[i]! });
    }
    return out;
  }

  /**
   * Stats of the local files `locals` through the pool, one message for the batch, answered as
   * `paths` (how the caller names them). Plain answers without a promise each (a presence check
   * asks for a million); any other asked again through fs.
   */
  async #statBatch(
    paths: readonly string[],
    locals: readonly string[],
    options: StatOptions | undefined,
  ): Promise<(FileInfo | undefined)[]> {
    const answers = await POOL.statMany(locals, options?.symlinks ?? false);
    const out: (FileInfo | undefined | Promise<FileInfo | undefined>)[] = new Array(paths.length);
    let slow = false;
    for (let i = 0; i < paths.length; i++) {
      const a = answers[i]!;
      const plain = plainAnswer(paths[i]!, a);
      if (plain !== ASK_AGAIN) out[i] = plain.info;
      else {
        out[i] = this.#answer(paths[i]!, locals[i]!, a, options);
        slow = true;
      }
    }
    return slow ? Promise.all(out) : (out as (FileInfo | undefined)[]);
  }

  /** A pool's answer as a {@link FileInfo}; any answer but a plain one asked again through fs. */
  async #answer(
    path: string,
    local: string,
    a: StatAnswer,
    options: StatOptions | undefined,
  ): Promise<FileInfo | undefined> {
    const plain = plainAnswer(path, a);
    if (plain !== ASK_AGAIN) return plain.info;
    if (!('error' in a) && a.type === 'symlink') return symlinkInfo(local, path);
    // Any other answer (permission, no worker up): asked again here, for the error as fs gives it.
    try {
      if (options?.symlinks) {
        const own = await statOf(local, true);
        if (own.isSymbolicLink()) return symlinkInfo(local, path);
        if (!own.isFile()) return undefined;
        return { path, size: own.size, mtimeMs: own.mtimeMs };
      }
      const st = await statOf(local, false);
      if (!st.isFile()) return undefined;
      return { path, size: st.size, mtimeMs: st.mtimeMs };
    } catch (err) {
      const e = translate(err, path);
      if (e instanceof NotFoundError || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw e;
    }
  }

  async read(path: string, range?: ByteRange, options?: CallOptions): Promise<Uint8Array> {
    const local = toLocalPath(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    try {
      if (!range) return new Uint8Array(await fs.readFile(local, signal ? { signal } : {}));
      // Small ranges (add-files reads a footer per file) in batches on the pool; a failed one,
      // or a large one, through fs.
      const pooled = await POOL.read(local, range.offset, range.length);
      return pooled ?? (await readRange(local, range.offset, range.length));
    } catch (err) {
      throw translate(err, path, signal);
    }
  }

  async *readStream(path: string, options?: CallOptions): AsyncIterable<Uint8Array> {
    const signal = options?.signal;
    throwIfAborted(signal, path);
    try {
      const stream = createReadStream(toLocalPath(path), {
        highWaterMark: 1 << 20,
        ...(signal ? { signal } : {}),
      });
      for await (const chunk of stream) yield chunk as Uint8Array;
    } catch (err) {
      throw translate(err, path, signal);
    }
  }

  async write(
    path: string,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    options?: WriteOptions,
  ): Promise<void> {
    const local = toLocalPath(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    try {
      await ensureDir(nodePath.dirname(local));
      if (options?.ifNotExists) {
        // Write to a private temporary name, then link() it into place: link fails with EEXIST
        // atomically, and readers never see a partly written file.
        const tmp = tempName(local);
        await writeAll(tmp, data, signal);
        try {
          await fs.link(tmp, local);
        } finally {
          await fs.rm(tmp, { force: true });
        }
        return;
      }
      const tmp = tempName(local);
      await writeAll(tmp, data, signal);
      await fs.rename(tmp, local);
    } catch (err) {
      throw translate(err, path, signal);
    }
  }

  async *listDirectories(dir: string, options?: CallOptions): AsyncIterable<string> {
    throwIfAborted(options?.signal, dir);
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(toLocalPath(dir), { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw translate(err, dir);
    }
    // Links are left out: a replica's tables are directories of their own, never followed links.
    yield* entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  }

  async *list(dir: string, options?: ListOptions): AsyncIterable<FileInfo> {
    const local = toLocalPath(dir);
    const signal = options?.signal;
    throwIfAborted(signal, dir);
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(local, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw translate(err, dir);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const base = dir.endsWith('/') ? dir : `${dir}/`;
    // Stat in parallel batches: directories of thousands of files are common, and sequential stats
    // on NFS/SMB mounts cost a round trip each.
    // Files the caller needs by name only are not stat'ed: named to onSkipped instead.
    const only = options?.only;
    if (only) {
      entries = entries.filter((e) => {
        if (!e.isFile() || only(`${base}${e.name}`)) return true;
        options?.onSkipped?.(`${base}${e.name}`);
        return false;
      });
    }
    // Files are stat'ed a batch at a time on the stat pool's threads (one message per batch).
    const BATCH = 1024;
    for (let i = 0; i < entries.length; i += BATCH) {
      throwIfAborted(signal, dir);
      const batch = entries.slice(i, i + BATCH);
      const files = batch.filter((e) => e.isFile());
      const stats = await this.#statBatch(
        files.map((e) => `${base}${e.name}`),
        files.map((e) => nodePath.join(local, e.name)),
        undefined,
      );
      const byName = new Map(files.map((e, k) => [e.name, stats[k]]));
      const infos = await Promise.all(
        batch.map(async (e) => {
          if (e.isSymbolicLink() && options?.symlinks)
            return symlinkInfo(nodePath.join(local, e.name), `${base}${e.name}`);
          return e.isFile() ? byName.get(e.name) : undefined;
        }),
      );
      for (const [j, e] of batch.entries()) {
        if (e.isDirectory()) {
          if (options?.recursive) yield* this.list(`${base}${e.name}`, options);
        } else if (infos[j]) yield infos[j];
      }
    }
  }

  async delete(path: string, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal, path);
    try {
      await fs.rm(toLocalPath(path), { force: true });
    } catch (err) {
      throw translate(err, path);
    }
  }

  async rename(from: string, to: string, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal, from);
    const src = toLocalPath(from);
    const dst = toLocalPath(to);
    try {
      await ensureDir(nodePath.dirname(dst));
      // link + unlink gives rename-without-replace on POSIX (rename(2) would overwrite).
      await fs.link(src, dst);
      await fs.rm(src, { force: true });
    } catch (err) {
      throw translate(err, (err as NodeJS.ErrnoException).code === 'EEXIST' ? to : from);
    }
  }

  /** Nothing to release: every call opens and closes its own files. */
  async close(): Promise<void> {}
}

/** A listed symbolic link: its own size and mtime, and what it points at (never followed further). */
async function symlinkInfo(local: string, path: string): Promise<FileInfo | undefined> {
  let own: import('node:fs').Stats;
  try {
    own = await fs.lstat(local);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw translate(err, path);
  }
  let symlink: FileInfo['symlink'] = 'other';
  try {
    const target = await fs.stat(local);
    symlink = target.isDirectory() ? 'directory' : target.isFile() ? 'file' : 'other';
  } catch {
    // dangling, a loop, or unreadable: still a link, and still not followed
  }
  return { path, size: own.size, mtimeMs: own.mtimeMs, symlink };
}

/**
 * mkdir -p without `fs.mkdir({ recursive: true })`, which spins forever on some virtual file
 * systems (a missing directory under /proc) instead of failing: create each missing level once.
 */
async function ensureDir(dir: string): Promise<void> {
  const missing: string[] = [];
  let d = nodePath.resolve(dir);
  for (;;) {
    try {
      if ((await fs.stat(d)).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${d}'`), { code: 'ENOTDIR' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    missing.push(d);
    const parent = nodePath.dirname(d);
    if (parent === d) break;
    d = parent;
  }
  for (const m of missing.reverse()) {
    try {
      await fs.mkdir(m);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** A private temporary name beside `path` (unique per process and call). */
function tempName(path: string): string {
  return `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
}

async function writeAll(
  path: string,
  data: Uint8Array | AsyncIterable<Uint8Array>,
  signal?: AbortSignal,
): Promise<void> {
  if (data instanceof Uint8Array) {
    try {
      await fs.writeFile(path, data, { flag: 'wx', ...(signal ? { signal } : {}) });
    } catch (err) {
      // An aborted write leaves what it had written under the temporary name.
      if (signal?.aborted) await fs.rm(path, { force: true });
      throw err;
    }
    return;
  }
  const fh = await fs.open(path, 'wx');
  try {
    for await (const chunk of data) {
      throwIfAborted(signal, path);
      await fh.write(chunk);
    }
    await fh.sync();
  } catch (err) {
    await fh.close();
    await fs.rm(path, { force: true });
    throw err;
  }
  await fh.close();
}
