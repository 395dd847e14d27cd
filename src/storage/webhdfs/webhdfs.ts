/**
 * HDFS storage over WebHDFS, the NameNode's REST API (`/webhdfs/v1/<path>?op=...`). Paths are
 * `hdfs://nameservice/path` (the NameNode addresses of a nameservice come from the configuration),
 * `webhdfs://host:port/path` (the NameNode's HTTP address itself, as Hadoop's WebHdfsFileSystem
 * takes it) and `swebhdfs://host:port/path` (the same over HTTPS). Paths are taken literally (no
 * percent-decoding), as Hadoop's `Path.toString()` writes them into Iceberg metadata.
 *
 * This is our own small client on Node's `fetch`: there is no maintained WebHDFS library for Node
 * (the `webhdfs` npm package has had no release since 2019 and sits on the deprecated `request`),
 * and the part of the API this tool needs is a dozen calls.
 *
 * - Reads: GETFILESTATUS, OPEN with `offset`/`length` (the NameNode redirects to a DataNode),
 *   LISTSTATUS_BATCH (paged by the NameNode's `dfs.ls.limit`), falling back to LISTSTATUS where a
 *   server does not know it.
 * - Writes are CREATE's two steps (the NameNode answers 307 with a DataNode `Location`, the bytes go
 *   there) into a hidden temporary file beside the target, then a RENAME into place, so that readers
 *   never see a half-written file. With {@link WriteOptions.ifNotExists} that RENAME uses
 *   `renameoptions=NONE` (HDFS's `rename2`), which fails atomically when the target exists: two
 *   concurrent writers cannot both win. (A plain WebHDFS RENAME answers `false` instead of an error
 *   when the target exists, and moves the source into the target when that is a directory.)
 * - NameNode HA: a nameservice has several NameNode addresses; requests go to the one that last
 *   answered, and move to the next on a `StandbyException` or when it cannot be reached.
 * - Auth: simple (`user.name=`) or a delegation token (`delegation=`). Kerberos (SPNEGO) is planned,
 *   not built: a NameNode that demands it answers 401, reported as such.
 * - Retries with exponential backoff on connection errors, 5xx answers, `RetriableException` and
 *   `SafeModeException`; every request has an inactivity timeout, so a silent server never hangs.
 */
import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, IcebergSyncError, NotFoundError, StorageError } from '../../errors.ts';
import { abortedError, throwIfAborted } from '../../util/abort.ts';
import { concatBytes } from '../../util/bytes.ts';
import { defaultLogger } from '../../util/logger.ts';
import type {
  ByteRange,
  CallOptions,
  FileInfo,
  ListOptions,
  StatOptions,
  Storage,
  WriteOptions,
} from '../storage.ts';
import {
  bodyChunks,
  type HdfsFileStatus,
  isUnknownOp,
  isUnknownParam,
  toFailure,
  translateFailure,
} from './http.ts';
import { type HdfsLocation, parseHdfsPath } from './location.ts';
import { WebHdfsTransport } from './transport.ts';

/** Options of {@link WebHdfsStorage}. */
export interface WebHdfsStorageOptions {
  /**
   * The NameNode HTTP(S) addresses of the nameservice (`http://nn1.example.com:9870`; a bare
   * `host:port` means `http://`). Several for an HA pair (or more): tried in order at first, then
   * the one that last answered as active first. Unset: taken from each path's authority
   * (`webhdfs://host:port` → `http://host:port`, `swebhdfs://` → `https://`, `hdfs://host[:rpc]`
   * → `http://host:9870`).
   */
  readonly namenodes?: readonly string[];
  /** The user for simple authentication (`user.name=`); ignored with a delegation token. */
  readonly user?: string;
  /** A delegation token (`delegation=`), as `hdfs fetchdt` or a job's credentials give it. */
  readonly delegationToken?: string;
  /**
   * Rounds of attempts per request, the first included (default 4). A round tries every NameNode
   * once; rounds are separated by exponential backoff.
   */
  readonly maxAttempts?: number;
  /** Inactivity timeout of a request in milliseconds (default 60 000): no answer, or no body bytes, for this long fails the attempt. */
  readonly requestTimeoutMs?: number;
  /** First backoff delay in milliseconds (default 200; doubled each round, with jitter). */
  readonly retryDelayMs?: number;
  /** Receives warnings (default: the default logger's, text on stderr). */
  readonly onWarning?: (message: string) => void;
}

/** Storage on HDFS through WebHDFS. */
export class WebHdfsStorage implements Storage {
  readonly #options: WebHdfsStorageOptions;
  readonly #t: WebHdfsTransport;
  /** False once a server rejected LISTSTATUS_BATCH; LISTSTATUS from then on. */
  #batchListing = true;
  /** False once a server rejected `renameoptions`; RENAME checks the target first from then on. */
  #rename2 = true;
  #warnedRename = false;

  constructor(options: WebHdfsStorageOptions = {}) {
    this.#options = options;
    this.#t = new WebHdfsTransport(options);
  }

  /** The NameNode addresses of this storage (empty when they come from each path). */
  get namenodes(): readonly string[] {
    return this.#t.namenodes;
  }

  /** The NameNode that answered last (the active one of an HA pair), if addresses are configured. */
  get activeNamenode(): string | undefined {
    return this.#t.activeNamenode;
  }

  async stat(path: string, options?: StatOptions): Promise<FileInfo | undefined> {
    const loc = parseHdfsPath(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    let st: HdfsFileStatus | undefined;
    try {
      const json = (await this.#t.json(loc, path, 'GET', 'GETFILESTATUS', {}, { signal })) as {
        FileStatus?: HdfsFileStatus;
      };
      st = json.FileStatus;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
    if (!st || st.type === 'DIRECTORY') return undefined; // a directory is never a file
    if (st.type === 'SYMLINK') {
      // As in listings: not a replicated file, reported when asked for, never followed.
      return options?.symlinks ? { path, size: st.length ?? 0, symlink: 'other' } : undefined;
    }
    return {
      path,
      size: st.length ?? 0,
      ...(st.modificationTime !== undefined ? { mtimeMs: st.modificationTime } : {}),
    };
  }

  async read(path: string, range?: ByteRange, options?: CallOptions): Promise<Uint8Array> {
    const signal = options?.signal;
    throwIfAborted(signal, path);
    if (range && range.length <= 0) return new Uint8Array(0);
    const loc = parseHdfsPath(path);
    const params: Record<string, string> = range
      ? { offset: String(range.offset), length: String(range.length) }
      : {};
    try {
      return await this.#t.read(
        loc,
        path,
        params,
        async (res, timer) => {
          const parts: Uint8Array[] = [];
          let total = 0;
          for await (const chunk of bodyChunks(res, timer)) {
            parts.push(chunk);
            total += chunk.length;
          }
          return parts.length === 1 && parts[0]?.length === total
            ? (parts[0] as Uint8Array)
            : concatBytes(parts, total);
        },
        signal,
      );
    } catch (err) {
      // An offset at or past the end: no bytes, as a local read gives. (The DataNode refuses it with
      // "Offset=N out of the range [0, size)".)
      if (range && err instanceof StorageError && /Offset=\d+ out of the range/.test(err.message)) {
        return new Uint8Array(0);
      }
      throw err;
    }
  }

  async *readStream(path: string, options?: CallOptions): AsyncIterable<Uint8Array> {
    const loc = parseHdfsPath(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    const { res, timer, url } = await this.#t.open(loc, path, {}, signal);
    const onAbort = () => void res.body?.cancel().catch(() => {});
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of bodyChunks(res, timer)) {
        throwIfAborted(signal, path);
        yield chunk;
      }
    } catch (err) {
      if (signal?.aborted) throw abortedError(signal, path);
      throw translateFailure(toFailure(err, url), path, 'OPEN (reading the body)');
    } finally {
      signal?.removeEventListener('abort', onAbort);
      timer.stop();
    }
  }

  async write(
    path: string,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    options?: WriteOptions,
  ): Promise<void> {
    const loc = parseHdfsPath(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    const slash = loc.path.lastIndexOf('/');
    const name = loc.path.slice(slash + 1);
    if (name === '') throw new IcebergSyncError('INVALID_PATH', `'${path}': not a file path (ends in '/')`);
    const tmpLoc: HdfsLocation = {
      ...loc,
      path: `${loc.path.slice(0, slash)}/.${name}.${randomUUID().slice(0, 8)}.tmp`,
    };
    const tmpPath = `${path.slice(0, path.length - name.length)}${tmpLoc.path.slice(slash + 1)}`;
    if (options?.ifNotExists && (await this.stat(path, options))) {
      // Not the guarantee (the RENAME below is): only saves uploading bytes that cannot win.
      throw new AlreadyExistsError(path);
    }
    // The parent first: a metadata call, which also finds the active NameNode of an HA pair before
    // a streamed body (which cannot be sent twice) goes out.
    await this.#t.json(loc, path, 'PUT', 'MKDIRS', {}, { hdfsPath: loc.path.slice(0, slash) || '/', signal });
    try {
      // Errors name the target, which is what the caller knows.
      await this.#t.create(tmpLoc, path, data, signal);
      // The last point to stop at: the RENAME below is the write's commit, run whole.
      throwIfAborted(signal, path);
    } catch (err) {
      // A body that failed (or was aborted) half way may have left a partial temporary file.
      await this.#removeLateTemporary(tmpPath);
      throw err;
    }
    try {
      await this.#renameInto(tmpLoc, loc, path, options?.ifNotExists ? 'NONE' : 'OVERWRITE', path, false);
    } catch (err) {
      // A RENAME whose answer was lost (a timeout, a reset) and was retried finds its source gone:
      // the temporary name is ours alone, so when it is gone and the target is there, it was moved.
      if (err instanceof NotFoundError && !(await this.stat(tmpPath)) && (await this.stat(path))) return;
      await this.delete(tmpPath).catch(() => {});
      throw err;
    }
  }

  /**
   * Removes the temporary file of a failed upload. The DataNode opens the file when the request
   * reaches it, which can be after the client gave up (an abort, a reset): a DELETE sent at once
   * can come first, and the file appears behind it. So the name is watched for a short, bounded
   * while (the temporary name is ours alone) and removed whenever it shows up.
   */
  async #removeLateTemporary(tmpPath: string): Promise<void> {
    for (let round = 0; round < 8; round++) {
      await this.delete(tmpPath).catch(() => {});
      await new Promise((r) => setTimeout(r, 125));
      const st = await this.stat(tmpPath).catch(() => undefined);
      if (!st && round >= 2) return;
    }
  }

  async *listDirectories(dir: string, options?: CallOptions): AsyncIterable<string> {
    const loc = parseHdfsPath(dir);
    throwIfAborted(options?.signal, dir);
    const names: string[] = [];
    for await (const st of this.#listStatus(loc, dir, options?.signal)) {
      if (st.type === 'DIRECTORY' && st.pathSuffix) names.push(st.pathSuffix);
    }
    yield* names.sort();
  }

  async *list(dir: string, options?: ListOptions): AsyncIterable<FileInfo> {
    const loc = parseHdfsPath(dir);
    throwIfAborted(options?.signal, dir);
    const base = dir.endsWith('/') ? dir : `${dir}/`;
    for await (const st of this.#listStatus(loc, dir, options?.signal)) {
      const name = st.pathSuffix ?? '';
      if (name === '') continue; // LISTSTATUS of a file lists the file itself: not a directory
      if (st.type === 'DIRECTORY') {
        if (options?.recursive) yield* this.list(`${base}${name}`, options);
        continue;
      }
      if (st.type === 'SYMLINK') {
        // Not a replicated file: reported when asked for, never followed.
        if (options?.symlinks) yield { path: `${base}${name}`, size: st.length ?? 0, symlink: 'other' };
        continue;
      }
      yield {
        path: `${base}${name}`,
        size: st.length ?? 0,
        ...(st.modificationTime !== undefined ? { mtimeMs: st.modificationTime } : {}),
      };
    }
  }

  async delete(path: string, options?: CallOptions): Promise<void> {
    const loc = parseHdfsPath(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    // {"boolean": false} for a missing path: deleting a missing file is not an error.
    await this.#t.json(loc, path, 'DELETE', 'DELETE', { recursive: 'false' }, { signal });
  }

  /**
   * Renames a file, failing with `AlreadyExistsError` if the target exists (HDFS's `rename2`
   * without OVERWRITE, atomic in the NameNode). Creates the target's parent directories.
   */
  async rename(from: string, to: string, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal, from);
    const src = parseHdfsPath(from);
    const dst = parseHdfsPath(to);
    if (src.authority !== dst.authority || src.scheme !== dst.scheme) {
      throw new StorageError(`${from}: cannot rename to ${to}: another file system`);
    }
    await this.#renameInto(src, dst, to, 'NONE', from);
  }

  /** Creates a directory and its parents (MKDIRS); an existing directory is fine. */
  async mkdirs(path: string): Promise<void> {
    const loc = parseHdfsPath(path);
    await this.#t.json(loc, path, 'PUT', 'MKDIRS');
  }

  /** Nothing to release: requests go through Node's shared `fetch` and `http` agents. */
  async close(): Promise<void> {}

  // --- Operations -------------------------------------------------------------------------------

  /** The entries of a directory: LISTSTATUS_BATCH pages, or one LISTSTATUS. Missing: none. */
  async *#listStatus(
    loc: HdfsLocation,
    dir: string,
    signal: AbortSignal | undefined,
  ): AsyncIterable<HdfsFileStatus> {
    if (this.#batchListing) {
      let startAfter: string | undefined;
      for (;;) {
        throwIfAborted(signal, dir);
        let json: {
          DirectoryListing?: {
            partialListing?: { FileStatuses?: { FileStatus?: HdfsFileStatus[] } };
            remainingEntries?: number;
          };
        };
        try {
          json = (await this.#t.json(
            loc,
            dir,
            'GET',
            'LISTSTATUS_BATCH',
            startAfter !== undefined ? { startAfter } : {},
            { signal },
          )) as typeof json;
        } catch (err) {
          if (err instanceof NotFoundError) return;
          if (startAfter === undefined && isUnknownOp(err, 'LISTSTATUS_BATCH')) {
            this.#batchListing = false;
            break;
          }
          throw err;
        }
        const entries = json.DirectoryListing?.partialListing?.FileStatuses?.FileStatus ?? [];
        for (const e of entries) yield e;
        const remaining = json.DirectoryListing?.remainingEntries ?? 0;
        const last = entries.at(-1)?.pathSuffix;
        if (remaining <= 0 || !last) return;
        startAfter = last;
      }
    }
    let json: { FileStatuses?: { FileStatus?: HdfsFileStatus[] } };
    try {
      json = (await this.#t.json(loc, dir, 'GET', 'LISTSTATUS', {}, { signal })) as typeof json;
    } catch (err) {
      if (err instanceof NotFoundError) return;
      throw err;
    }
    yield* json.FileStatuses?.FileStatus ?? [];
  }

  /** RENAME `src` to `dst` (whose parent is created first), with rename2 options. */
  async #renameInto(
    src: HdfsLocation,
    dst: HdfsLocation,
    dstPath: string,
    mode: 'NONE' | 'OVERWRITE',
    srcPath = dstPath,
    makeParent = true,
  ): Promise<void> {
    const parent = dst.path.slice(0, dst.path.lastIndexOf('/')) || '/';
    if (makeParent && parent !== '/') {
      await this.#t.json(dst, dstPath, 'PUT', 'MKDIRS', {}, { hdfsPath: parent });
    }
    if (this.#rename2) {
      let answer: { boolean?: boolean };
      try {
        answer = (await this.#t.json(src, srcPath, 'PUT', 'RENAME', {
          destination: dst.path,
          renameoptions: mode,
        })) as typeof answer;
      } catch (err) {
        if (err instanceof AlreadyExistsError) throw new AlreadyExistsError(dstPath, { cause: err.cause });
        if (mode === 'NONE' && err instanceof StorageError && !(err instanceof NotFoundError)) {
          // rename2 onto an existing directory fails with a plain IOException ("must both be
          // directories"): that is "the target exists" too.
          const isThere = await this.#t.json(dst, dstPath, 'GET', 'GETFILESTATUS').then(
            () => true,
            () => false,
          );
          if (isThere) throw new AlreadyExistsError(dstPath, { cause: err });
        }
        if (!isUnknownParam(err, 'renameoptions')) throw err;
        answer = {};
        this.#rename2 = false;
        this.#warnRename();
      }
      // rename2 answers with an empty body. A JSON boolean is a plain RENAME's answer: a server that
      // ignored renameoptions. `true`: it moved the file (into the target when that is a
      // directory); `false`: it did not, and why is found out below.
      if (typeof answer.boolean !== 'boolean') {
        if (this.#rename2) return;
      } else {
        this.#rename2 = false;
        this.#warnRename();
        if (answer.boolean) return;
        if (mode === 'NONE') {
          if (await this.stat(dstPath)) throw new AlreadyExistsError(dstPath);
          if (!(await this.stat(srcPath))) throw new NotFoundError(srcPath);
          throw new StorageError(
            `${srcPath}: WebHDFS RENAME to ${dst.path} failed (the NameNode answered false)`,
          );
        }
        // OVERWRITE onto an existing file: the check-then-rename below deletes it first.
      }
    }
    // Without rename2: a plain RENAME answers false when the target exists, and moves the source
    // into the target when that is a directory; check first (racy, see the warning).
    const exists = await this.#t.json(dst, dstPath, 'GET', 'GETFILESTATUS').then(
      () => true,
      (e) => {
        if (e instanceof NotFoundError) return false;
        throw e;
      },
    );
    if (exists) {
      if (mode === 'NONE') throw new AlreadyExistsError(dstPath);
      await this.#t.json(dst, dstPath, 'DELETE', 'DELETE', { recursive: 'false' });
    }
    const r = (await this.#t.json(src, srcPath, 'PUT', 'RENAME', { destination: dst.path })) as {
      boolean?: boolean;
    };
    if (r.boolean === true) return;
    if (await this.stat(dstPath)) throw new AlreadyExistsError(dstPath);
    if (!(await this.stat(srcPath))) throw new NotFoundError(srcPath);
    throw new StorageError(`${srcPath}: WebHDFS RENAME to ${dst.path} failed (the NameNode answered false)`);
  }

  #warnRename(): void {
    if (this.#warnedRename) return;
    this.#warnedRename = true;
    (this.#options.onWarning ?? defaultLogger.warn)(
      'this WebHDFS server does not take renameoptions (HDFS rename2): if-not-exists writes check the ' +
        'target and then RENAME, which two concurrent runs can race',
    );
  }
}
