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
import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import {
  AlreadyExistsError,
  ConfigError,
  IcebergSyncError,
  NotFoundError,
  PermissionDeniedError,
  StorageError,
} from '../../errors.ts';
import { concatBytes } from '../../util/bytes.ts';
import { definedOnly, propertyReader } from '../properties.ts';
import type { StorageRouter } from '../router.ts';
import type { ByteRange, FileInfo, ListOptions, Storage, WriteOptions } from '../storage.ts';

/** The URI schemes served by {@link WebHdfsStorage}. */
export const HDFS_SCHEMES: readonly string[] = ['hdfs', 'webhdfs', 'swebhdfs'];

/** The NameNode HTTP port Hadoop 3 listens on by default, for `hdfs://host` without configuration. */
export const DEFAULT_NAMENODE_HTTP_PORT = 9870;

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
  /** Receives warnings (default `process.emitWarning`). */
  readonly onWarning?: (message: string) => void;
}

/** The parts of an `hdfs://authority/path` location. */
export interface HdfsLocation {
  /** `hdfs`, `webhdfs` or `swebhdfs` (lower case). */
  readonly scheme: string;
  /** The nameservice or `host[:port]`; empty for `hdfs:///path`. */
  readonly authority: string;
  /** The absolute path inside the file system (`/` for the root). */
  readonly path: string;
}

/** Splits `hdfs://authority/path` (also `webhdfs://`, `swebhdfs://`); fails for anything else. */
export function parseHdfsPath(path: string): HdfsLocation {
  const m = /^(hdfs|webhdfs|swebhdfs):\/\/([^/]*)(\/.*)?$/i.exec(path);
  if (!m) {
    throw new IcebergSyncError(
      'INVALID_PATH',
      `'${path}': not an HDFS location (hdfs://nameservice/path or webhdfs://host:port/path)`,
    );
  }
  const p = (m[3] ?? '/').replace(/\/{2,}/g, '/');
  return { scheme: m[1]!.toLowerCase(), authority: m[2]!, path: p };
}

/** `http://host:port` for a NameNode address given as a URL or as `host:port`. */
export function normalizeNamenode(address: string, where = 'hdfs.namenodes'): string {
  const a = address.trim();
  const withScheme = /^[a-z]+:\/\//i.test(a) ? a : `http://${a}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigError(`${where}: '${address}' is not a NameNode HTTP address (http://host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${where}: '${address}' must be an http:// or https:// address`);
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new ConfigError(`${where}: '${address}' must be a bare address, without a path`);
  }
  return `${url.protocol}//${url.host}`;
}

/** The JSON of a WebHDFS error answer. */
interface RemoteException {
  readonly exception?: string;
  readonly javaClassName?: string;
  readonly message?: string;
}

/** One entry of LISTSTATUS / GETFILESTATUS. */
interface HdfsFileStatus {
  readonly pathSuffix?: string;
  readonly type?: 'FILE' | 'DIRECTORY' | 'SYMLINK';
  readonly length?: number;
  readonly modificationTime?: number;
}

/** An HTTP answer that was not a success, with its RemoteException when it carried one. */
class HttpFailure extends Error {
  readonly status: number;
  readonly remote: RemoteException | undefined;
  constructor(status: number, remote: RemoteException | undefined, text: string) {
    super(
      remote?.exception
        ? // The first line only: DataNodes append the server's stack trace.
          `${remote.exception}: ${(remote.message ?? '').split('\n')[0]}`.trim()
        : `HTTP ${status}${text ? `: ${text}` : ''}`,
    );
    this.status = status;
    this.remote = remote;
  }
}

/** No connection, a reset, or no answer within the timeout. */
class ConnectionFailure extends Error {
  readonly url: string;
  constructor(url: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.url = url;
  }
}

/** Exceptions after which the same request is tried again (after a backoff). */
const RETRIABLE_EXCEPTIONS: ReadonlySet<string> = new Set([
  'RetriableException',
  'SafeModeException',
  'ConnectException',
  'SocketTimeoutException',
]);

/** Exceptions that mean the credentials are wrong or lack rights. */
const PERMISSION_EXCEPTIONS: ReadonlySet<string> = new Set([
  'AccessControlException',
  'AuthorizationException',
  'SecurityException',
  'InvalidToken',
]);

/** An inactivity timer that aborts a request: armed while waiting, re-armed on every chunk. */
class Inactivity {
  readonly controller = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  readonly #ms: number;
  constructor(ms: number) {
    this.#ms = ms;
    this.arm();
  }
  arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => this.controller.abort(new Error(`no answer within ${this.#ms} ms`)),
      this.#ms,
    );
  }
  stop(): void {
    clearTimeout(this.#timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Storage on HDFS through WebHDFS. */
export class WebHdfsStorage implements Storage {
  readonly #options: WebHdfsStorageOptions;
  readonly #namenodes: readonly string[] | undefined;
  /** Index in {@link #namenodes} of the NameNode that last answered (the active one). */
  #active = 0;
  /** False once a server rejected LISTSTATUS_BATCH; LISTSTATUS from then on. */
  #batchListing = true;
  /** False once a server rejected `renameoptions`; RENAME checks the target first from then on. */
  #rename2 = true;
  #warnedRename = false;

  constructor(options: WebHdfsStorageOptions = {}) {
    this.#options = options;
    if (options.namenodes !== undefined) {
      if (options.namenodes.length === 0) throw new ConfigError('hdfs: the NameNode list is empty');
      this.#namenodes = options.namenodes.map((a) => normalizeNamenode(a));
    }
    if (options.maxAttempts !== undefined && !(options.maxAttempts >= 1)) {
      throw new ConfigError('hdfs: max attempts must be at least 1');
    }
  }

  /** The NameNode addresses of this storage (empty when they come from each path). */
  get namenodes(): readonly string[] {
    return this.#namenodes ?? [];
  }

  /** The NameNode that answered last (the active one of an HA pair), if addresses are configured. */
  get activeNamenode(): string | undefined {
    return this.#namenodes?.[this.#active];
  }

  async stat(path: string): Promise<FileInfo | undefined> {
    const loc = parseHdfsPath(path);
    let st: HdfsFileStatus | undefined;
    try {
      const json = (await this.#json(loc, path, 'GET', 'GETFILESTATUS')) as {
        FileStatus?: HdfsFileStatus;
      };
      st = json.FileStatus;
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
    if (!st || st.type === 'DIRECTORY') return undefined; // a directory is never a file
    return {
      path,
      size: st.length ?? 0,
      ...(st.modificationTime !== undefined ? { mtimeMs: st.modificationTime } : {}),
    };
  }

  async read(path: string, range?: ByteRange): Promise<Uint8Array> {
    if (range && range.length <= 0) return new Uint8Array(0);
    const loc = parseHdfsPath(path);
    const params: Record<string, string> = range
      ? { offset: String(range.offset), length: String(range.length) }
      : {};
    try {
      return await this.#twoStepRead(loc, path, params, async (res, timer) => {
        const parts: Uint8Array[] = [];
        let total = 0;
        for await (const chunk of bodyChunks(res, timer)) {
          parts.push(chunk);
          total += chunk.length;
        }
        return parts.length === 1 && parts[0]?.length === total
          ? (parts[0] as Uint8Array)
          : concatBytes(parts, total);
      });
    } catch (err) {
      // An offset at or past the end: no bytes, as a local read gives. (The DataNode refuses it with
      // "Offset=N out of the range [0, size)".)
      if (range && err instanceof StorageError && /Offset=\d+ out of the range/.test(err.message)) {
        return new Uint8Array(0);
      }
      throw err;
    }
  }

  async *readStream(path: string): AsyncIterable<Uint8Array> {
    const loc = parseHdfsPath(path);
    const { res, timer, url } = await this.#open(loc, path, {});
    try {
      for await (const chunk of bodyChunks(res, timer)) yield chunk;
    } catch (err) {
      throw this.#translate(toFailure(err, url), path, 'OPEN (reading the body)');
    } finally {
      timer.stop();
    }
  }

  async write(
    path: string,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    options?: WriteOptions,
  ): Promise<void> {
    const loc = parseHdfsPath(path);
    const slash = loc.path.lastIndexOf('/');
    const name = loc.path.slice(slash + 1);
    if (name === '') throw new IcebergSyncError('INVALID_PATH', `'${path}': not a file path (ends in '/')`);
    const tmpLoc: HdfsLocation = {
      ...loc,
      path: `${loc.path.slice(0, slash)}/.${name}.${randomUUID().slice(0, 8)}.tmp`,
    };
    const tmpPath = `${path.slice(0, path.length - name.length)}${tmpLoc.path.slice(slash + 1)}`;
    if (options?.ifNotExists && (await this.stat(path))) {
      // Not the guarantee (the RENAME below is): only saves uploading bytes that cannot win.
      throw new AlreadyExistsError(path);
    }
    // The parent first: a metadata call, which also finds the active NameNode of an HA pair before
    // a streamed body (which cannot be sent twice) goes out.
    await this.#json(loc, path, 'PUT', 'MKDIRS', {}, loc.path.slice(0, slash) || '/');
    try {
      // Errors name the target, which is what the caller knows.
      await this.#create(tmpLoc, path, data);
    } catch (err) {
      // A body that failed half way may have left a partial temporary file.
      await this.delete(tmpPath).catch(() => {});
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

  async *list(dir: string, options?: ListOptions): AsyncIterable<FileInfo> {
    const loc = parseHdfsPath(dir);
    const base = dir.endsWith('/') ? dir : `${dir}/`;
    for await (const st of this.#listStatus(loc, dir)) {
      const name = st.pathSuffix ?? '';
      if (name === '') continue; // LISTSTATUS of a file lists the file itself: not a directory
      if (st.type === 'DIRECTORY') {
        if (options?.recursive) yield* this.list(`${base}${name}`, options);
        continue;
      }
      yield {
        path: `${base}${name}`,
        size: st.length ?? 0,
        ...(st.modificationTime !== undefined ? { mtimeMs: st.modificationTime } : {}),
      };
    }
  }

  async delete(path: string): Promise<void> {
    const loc = parseHdfsPath(path);
    // {"boolean": false} for a missing path: deleting a missing file is not an error.
    await this.#json(loc, path, 'DELETE', 'DELETE', { recursive: 'false' });
  }

  /**
   * Renames a file, failing with `AlreadyExistsError` if the target exists (HDFS's `rename2`
   * without OVERWRITE, atomic in the NameNode). Creates the target's parent directories.
   */
  async rename(from: string, to: string): Promise<void> {
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
    await this.#json(loc, path, 'PUT', 'MKDIRS');
  }

  // --- Operations -------------------------------------------------------------------------------

  /** The entries of a directory: LISTSTATUS_BATCH pages, or one LISTSTATUS. Missing: none. */
  async *#listStatus(loc: HdfsLocation, dir: string): AsyncIterable<HdfsFileStatus> {
    if (this.#batchListing) {
      let startAfter: string | undefined;
      for (;;) {
        let json: {
          DirectoryListing?: {
            partialListing?: { FileStatuses?: { FileStatus?: HdfsFileStatus[] } };
            remainingEntries?: number;
          };
        };
        try {
          json = (await this.#json(
            loc,
            dir,
            'GET',
            'LISTSTATUS_BATCH',
            startAfter !== undefined ? { startAfter } : {},
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
      json = (await this.#json(loc, dir, 'GET', 'LISTSTATUS')) as typeof json;
    } catch (err) {
      if (err instanceof NotFoundError) return;
      throw err;
    }
    yield* json.FileStatuses?.FileStatus ?? [];
  }

  /** CREATE's two steps: the NameNode's 307, then the bytes to the DataNode it names. */
  async #create(
    loc: HdfsLocation,
    path: string,
    data: Uint8Array | AsyncIterable<Uint8Array>,
  ): Promise<void> {
    const retriable = data instanceof Uint8Array;
    const rounds = retriable ? this.#maxAttempts : 1;
    let last: unknown;
    for (let round = 0; round < rounds; round++) {
      if (round > 0) await sleep(this.#backoff(round));
      // overwrite=true: the name is our own random temporary one, and a retry after a DataNode
      // failure must replace what the failed attempt may have left there.
      const nn = await this.#namenodeCall(loc, path, 'PUT', 'CREATE', { overwrite: 'true' });
      const target = redirectTarget(nn, path, 'CREATE');
      try {
        const res = await putToDataNode(target, data, this.#timeoutMs);
        if (res.status === 201 || res.status === 200) return;
        const failure = httpFailure(res.status, res.text);
        last = failure;
        if (this.#standbyBehind(failure)) continue;
        if (!isRetriableAtDataNode(failure)) throw this.#translate(failure, path, 'CREATE (DataNode)');
      } catch (err) {
        if (err instanceof IcebergSyncError) throw err;
        last = toFailure(err, target);
        if (!retriable) break;
      }
    }
    throw this.#translate(last, path, 'CREATE (DataNode)', rounds);
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
    if (makeParent && parent !== '/') await this.#json(dst, dstPath, 'PUT', 'MKDIRS', {}, parent);
    if (this.#rename2) {
      let answer: { boolean?: boolean };
      try {
        answer = (await this.#json(src, srcPath, 'PUT', 'RENAME', {
          destination: dst.path,
          renameoptions: mode,
        })) as typeof answer;
      } catch (err) {
        if (err instanceof AlreadyExistsError) throw new AlreadyExistsError(dstPath, { cause: err.cause });
        if (mode === 'NONE' && err instanceof StorageError && !(err instanceof NotFoundError)) {
          // rename2 onto an existing directory fails with a plain IOException ("must both be
          // directories"): that is "the target exists" too.
          const isThere = await this.#json(dst, dstPath, 'GET', 'GETFILESTATUS').then(
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
    const exists = await this.#json(dst, dstPath, 'GET', 'GETFILESTATUS').then(
      () => true,
      (e) => {
        if (e instanceof NotFoundError) return false;
        throw e;
      },
    );
    if (exists) {
      if (mode === 'NONE') throw new AlreadyExistsError(dstPath);
      await this.#json(dst, dstPath, 'DELETE', 'DELETE', { recursive: 'false' });
    }
    const r = (await this.#json(src, srcPath, 'PUT', 'RENAME', { destination: dst.path })) as {
      boolean?: boolean;
    };
    if (r.boolean === true) return;
    if (await this.stat(dstPath)) throw new AlreadyExistsError(dstPath);
    if (!(await this.stat(srcPath))) throw new NotFoundError(srcPath);
    throw new StorageError(`${srcPath}: WebHDFS RENAME to ${dst.path} failed (the NameNode answered false)`);
  }

  /** OPEN through the NameNode's redirect, with retries of the DataNode step. */
  async #open(
    loc: HdfsLocation,
    path: string,
    params: Record<string, string>,
  ): Promise<{ res: Response; timer: Inactivity; url: string }> {
    let last: unknown;
    for (let round = 0; round < this.#maxAttempts; round++) {
      if (round > 0) await sleep(this.#backoff(round));
      const nn = await this.#namenodeCall(loc, path, 'GET', 'OPEN', params);
      if (nn.status === 200) return { res: nn, timer: new Inactivity(this.#timeoutMs), url: path };
      const target = redirectTarget(nn, path, 'OPEN');
      const timer = new Inactivity(this.#timeoutMs);
      try {
        const res = await fetch(target, { signal: timer.controller.signal, redirect: 'manual' });
        if (res.ok) {
          timer.arm();
          return { res, timer, url: target };
        }
        const failure = await failureOf(res, timer);
        timer.stop();
        last = failure;
        if (this.#standbyBehind(failure)) continue;
        if (!isRetriableAtDataNode(failure)) throw this.#translate(failure, path, 'OPEN (DataNode)');
      } catch (err) {
        timer.stop();
        if (err instanceof IcebergSyncError) throw err;
        last = toFailure(err, target);
      }
    }
    throw this.#translate(last, path, 'OPEN (DataNode)', this.#maxAttempts);
  }

  async #twoStepRead<T>(
    loc: HdfsLocation,
    path: string,
    params: Record<string, string>,
    consume: (res: Response, timer: Inactivity) => Promise<T>,
  ): Promise<T> {
    const { res, timer, url } = await this.#open(loc, path, params);
    try {
      return await consume(res, timer);
    } catch (err) {
      throw this.#translate(toFailure(err, url), path, 'OPEN (reading the body)');
    } finally {
      timer.stop();
    }
  }

  /** A NameNode operation whose answer is JSON. */
  async #json(
    loc: HdfsLocation,
    path: string,
    method: string,
    op: string,
    params: Record<string, string> = {},
    hdfsPath = loc.path,
  ): Promise<unknown> {
    const res = await this.#namenodeCall(loc, path, method, op, params, hdfsPath);
    const timer = new Inactivity(this.#timeoutMs);
    try {
      const text = new TextDecoder().decode(concatBytes(await collect(bodyChunks(res, timer))));
      return text === '' ? {} : JSON.parse(text);
    } catch (err) {
      throw new StorageError(`${path}: WebHDFS ${op}: unreadable answer: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      timer.stop();
    }
  }

  /**
   * One NameNode request, with failover and retries: a StandbyException or a connection failure
   * moves to the next NameNode; a round that reached none (or only busy ones) is retried after a
   * backoff. Answers 2xx and 307 (the redirect is the caller's); other answers become errors.
   */
  async #namenodeCall(
    loc: HdfsLocation,
    path: string,
    method: string,
    op: string,
    params: Record<string, string>,
    hdfsPath = loc.path,
  ): Promise<Response> {
    const namenodes = this.#namenodesFor(loc, path);
    const query = new URLSearchParams({ op, ...params });
    if (this.#options.delegationToken) query.set('delegation', this.#options.delegationToken);
    else if (this.#options.user) query.set('user.name', this.#options.user);
    const suffix = `/webhdfs/v1${encodePath(hdfsPath)}?${query.toString()}`;
    let last: unknown;
    for (let round = 0; round < this.#maxAttempts; round++) {
      if (round > 0) await sleep(this.#backoff(round));
      const first = this.#namenodes ? this.#active : 0;
      for (let k = 0; k < namenodes.length; k++) {
        const i = (first + k) % namenodes.length;
        const url = `${namenodes[i]}${suffix}`;
        const timer = new Inactivity(this.#timeoutMs);
        let res: Response;
        try {
          res = await fetch(url, { method, signal: timer.controller.signal, redirect: 'manual' });
        } catch (err) {
          timer.stop();
          last = toFailure(err, namenodes[i]!);
          continue; // the next NameNode
        }
        if (res.ok || res.status === 307) {
          timer.stop();
          if (this.#namenodes) this.#active = i;
          return res;
        }
        const failure = await failureOf(res, timer);
        timer.stop();
        last = failure;
        if (failure.remote?.exception === 'StandbyException') continue;
        if (this.#namenodes) this.#active = i;
        if (isRetriable(failure)) break; // back off, then the same NameNode first
        throw this.#translate(failure, path, op);
      }
    }
    throw this.#translate(last, path, op, this.#maxAttempts, namenodes);
  }

  #namenodesFor(loc: HdfsLocation, path: string): readonly string[] {
    if (this.#namenodes) return this.#namenodes;
    if (loc.authority === '') {
      throw new ConfigError(
        `${path}: no NameNode for an HDFS path without an authority: configure hdfs.namenodes (docs/usage.md)`,
      );
    }
    if (loc.scheme === 'hdfs') {
      const host = loc.authority.replace(/:\d+$/, '');
      return [`http://${host}:${DEFAULT_NAMENODE_HTTP_PORT}`];
    }
    return [`${loc.scheme === 'swebhdfs' ? 'https' : 'http'}://${loc.authority}`];
  }

  get #maxAttempts(): number {
    return this.#options.maxAttempts ?? 4;
  }

  get #timeoutMs(): number {
    return this.#options.requestTimeoutMs ?? 60_000;
  }

  #backoff(round: number): number {
    const base = (this.#options.retryDelayMs ?? 200) * 2 ** (round - 1);
    return Math.min(base, 10_000) * (0.5 + Math.random() / 2);
  }

  /**
   * True (and the next NameNode made the first to ask) when a DataNode step failed with a
   * StandbyException: a standby NameNode redirects CREATE to a DataNode without checking its own
   * state, and the DataNode's call back to that NameNode is what fails.
   */
  #standbyBehind(failure: HttpFailure): boolean {
    if (failure.remote?.exception !== 'StandbyException' || !this.#namenodes) return false;
    this.#active = (this.#active + 1) % this.#namenodes.length;
    return true;
  }

  #warnRename(): void {
    if (this.#warnedRename) return;
    this.#warnedRename = true;
    (this.#options.onWarning ?? ((m: string) => process.emitWarning(m)))(
      'this WebHDFS server does not take renameoptions (HDFS rename2): if-not-exists writes check the ' +
        'target and then RENAME, which two concurrent runs can race',
    );
  }

  /** Turns a failure into this library's error, naming the path. */
  #translate(
    err: unknown,
    path: string,
    op: string,
    attempts?: number,
    namenodes?: readonly string[],
  ): Error {
    if (err instanceof IcebergSyncError) return err;
    const tries = attempts && attempts > 1 ? ` after ${attempts} attempts` : '';
    if (err instanceof ConnectionFailure) {
      const where = namenodes && namenodes.length > 1 ? `any NameNode of ${namenodes.join(', ')}` : err.url;
      return new StorageError(
        `${path}: WebHDFS ${op} failed: cannot reach ${where}${tries}: ${err.message}`,
        {
          cause: err,
        },
      );
    }
    if (err instanceof HttpFailure) {
      const ex = err.remote?.exception;
      const detail = err.message;
      if (ex === 'FileNotFoundException') return new NotFoundError(path, { cause: err });
      if (ex === 'FileAlreadyExistsException') return new AlreadyExistsError(path, { cause: err });
      if ((ex && PERMISSION_EXCEPTIONS.has(ex)) || (err.status === 403 && !ex)) {
        return new PermissionDeniedError(path, `WebHDFS ${op}: ${detail}`, { cause: err });
      }
      if (err.status === 401) {
        return new PermissionDeniedError(
          path,
          `WebHDFS ${op}: HTTP 401: the NameNode wants Kerberos (SPNEGO), which this tool does not ` +
            'do yet; give a delegation token (hdfs.delegation-token)',
          { cause: err },
        );
      }
      if (ex === 'StandbyException') {
        return new StorageError(
          `${path}: WebHDFS ${op} failed: no active NameNode${namenodes ? ` among ${namenodes.join(', ')}` : ''}${tries} (${detail})`,
          { cause: err },
        );
      }
      return new StorageError(`${path}: WebHDFS ${op} failed: ${detail} (HTTP ${err.status})${tries}`, {
        cause: err,
      });
    }
    return new StorageError(`${path}: WebHDFS ${op} failed: ${(err as Error)?.message ?? String(err)}`, {
      cause: err,
    });
  }
}

// --- HTTP helpers -------------------------------------------------------------------------------

/** Percent-encodes each segment of an HDFS path (the `/` stay). */
function encodePath(p: string): string {
  return p
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

function redirectTarget(res: Response, path: string, op: string): string {
  const location = res.headers.get('location');
  void res.body?.cancel().catch(() => {});
  if (!location) {
    throw new StorageError(
      `${path}: WebHDFS ${op}: the NameNode answered ${res.status} without a DataNode location`,
    );
  }
  return location;
}

async function* bodyChunks(res: Response, timer: Inactivity): AsyncIterable<Uint8Array> {
  if (!res.body) return;
  timer.arm();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    timer.arm();
    yield chunk;
  }
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

/** A failed answer's RemoteException (or the first words of a non-JSON body). */
async function failureOf(res: Response, timer: Inactivity): Promise<HttpFailure> {
  let text = '';
  try {
    text = new TextDecoder().decode(concatBytes(await collect(bodyChunks(res, timer))));
  } catch {
    text = '';
  }
  return httpFailure(res.status, text);
}

/** An {@link HttpFailure} from a status and a body (RemoteException JSON, or anything else). */
function httpFailure(status: number, text: string): HttpFailure {
  let remote: RemoteException | undefined;
  try {
    remote = (JSON.parse(text) as { RemoteException?: RemoteException }).RemoteException;
  } catch {
    remote = undefined;
  }
  const brief = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);
  return new HttpFailure(status, remote, remote ? '' : brief);
}

function toFailure(err: unknown, url: string): unknown {
  if (err instanceof IcebergSyncError || err instanceof HttpFailure) return err;
  const e = err as Error & { cause?: Error & { code?: string } };
  const reason = e?.cause?.code
    ? `${e.cause.code} ${e.cause.message ?? ''}`.trim()
    : (e?.message ?? String(err));
  // Without the query: a DataNode URL carries the user name or the delegation token.
  return new ConnectionFailure(url.replace(/\?.*$/s, ''), reason, { cause: err });
}

function isRetriable(f: HttpFailure): boolean {
  const ex = f.remote?.exception;
  if (ex && RETRIABLE_EXCEPTIONS.has(ex)) return true;
  return f.status >= 500 && !ex;
}

/**
 * A DataNode's 5xx is worth another round through the NameNode (which may pick another DataNode
 * or replica), whatever exception it names: pipeline and replica failures are transient there.
 */
function isRetriableAtDataNode(f: HttpFailure): boolean {
  return isRetriable(f) || f.status >= 500;
}

function isUnknownOp(err: unknown, op: string): boolean {
  const f = (err as { cause?: unknown }).cause;
  return (
    f instanceof HttpFailure &&
    f.status === 400 &&
    (f.remote?.exception === 'IllegalArgumentException' || f.remote === undefined) &&
    f.message.includes(op)
  );
}

function isUnknownParam(err: unknown, param: string): boolean {
  const f = (err as { cause?: unknown }).cause;
  return f instanceof HttpFailure && f.status === 400 && f.message.toLowerCase().includes(param);
}

/**
 * PUTs bytes to a DataNode with node:http rather than fetch: the DataNode answers every CREATE
 * with an unsolicited `100 Continue` before its final status, which fetch (undici) rejects as a
 * bad response, and node:http skips as informational. `timeoutMs` is a socket inactivity limit.
 */
function putToDataNode(
  url: string,
  data: Uint8Array | AsyncIterable<Uint8Array>,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      {
        method: 'PUT',
        headers: {
          'content-type': 'application/octet-stream',
          ...(data instanceof Uint8Array ? { 'content-length': String(data.length) } : {}),
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (data instanceof Uint8Array) {
      req.end(data);
      return;
    }
    (async () => {
      for await (const chunk of data) {
        if (!req.write(chunk)) await once(req, 'drain');
      }
      req.end();
    })().catch((err: unknown) => req.destroy(err as Error));
  });
}

// --- Configuration ------------------------------------------------------------------------------

/** The `hdfs.*` keys {@link webHdfsOptionsFromProperties} reads. */
export const HDFS_PROPERTY_KEYS: readonly string[] = [
  'hdfs.namenodes',
  'hdfs.user',
  'hdfs.delegation-token',
  'hdfs.max-attempts',
  'hdfs.request-timeout',
];

/**
 * Reads {@link WebHdfsStorageOptions} from properties: `hdfs.namenodes` (comma-separated NameNode
 * HTTP addresses, `http://nn1:9870,http://nn2:9870` or `nn1:9870,nn2:9870`), `hdfs.user` (as
 * PyIceberg names it), `hdfs.delegation-token`, `hdfs.max-attempts`, and `hdfs.request-timeout` in
 * seconds. Other keys are ignored, unless `strict`, where an unknown `hdfs.*` key is an error.
 */
export function webHdfsOptionsFromProperties(
  properties: Readonly<Record<string, string>>,
  where = 'hdfs',
  strict = false,
): WebHdfsStorageOptions {
  const { get, positive, secondsAsMs } = propertyReader(properties, where, HDFS_PROPERTY_KEYS, strict);
  const nn = get('hdfs.namenodes');
  return definedOnly<WebHdfsStorageOptions>({
    namenodes: nn
      ?.split(',')
      .map((a) => a.trim())
      .filter((a) => a !== '')
      .map((a) => normalizeNamenode(a, `${where}.hdfs.namenodes`)),
    user: get('hdfs.user'),
    delegationToken: get('hdfs.delegation-token'),
    maxAttempts: positive('hdfs.max-attempts', true),
    requestTimeoutMs: secondsAsMs('hdfs.request-timeout'),
  });
}

/**
 * The nameservices defined the Hadoop way in catalog properties (as `hdfs-site.xml` has them):
 * `dfs.namenode.http-address.<ns>.<nn>` (or `dfs.namenode.https-address...` for HTTPS) = `host:port`,
 * in the order of `dfs.ha.namenodes.<ns>` when given, else by NameNode id; a single NameNode may be
 * `dfs.namenode.http-address.<ns>`. Returns NameNode URLs by nameservice.
 */
export function hadoopNameservices(
  properties: Readonly<Record<string, string>>,
): Map<string, readonly string[]> {
  const byNs = new Map<string, Map<string, string>>();
  for (const [k, v] of Object.entries(properties)) {
    const m = /^dfs\.namenode\.(http|https)-address\.([^.]+)(?:\.(.+))?$/.exec(k);
    if (!m || !v) continue;
    const scheme = m[1]!;
    const ns = m[2]!;
    const nn = m[3] ?? '';
    const urls = byNs.get(ns) ?? new Map<string, string>();
    // HTTPS wins where both are given for one NameNode.
    if (scheme === 'https' || !urls.has(nn)) {
      urls.set(nn, normalizeNamenode(`${scheme}://${v.replace(/^[a-z]+:\/\//i, '')}`, k));
    }
    byNs.set(ns, urls);
  }
  const out = new Map<string, readonly string[]>();
  for (const [ns, urls] of byNs) {
    const order = properties[`dfs.ha.namenodes.${ns}`]
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const ids = order ?? [...urls.keys()].sort();
    const list = ids.map((id) => urls.get(id)).filter((u): u is string => u !== undefined);
    if (list.length > 0) out.set(ns, list);
  }
  return out;
}

/** One location with its own HDFS settings (a nameservice, or a directory in one). */
export interface HdfsPrefixOptions {
  /** `hdfs://nameservice` or `hdfs://nameservice/dir` (or `webhdfs://host:port[/dir]`). */
  readonly prefix: string;
  readonly options: WebHdfsStorageOptions;
}

/**
 * Registers HDFS backends with a router: one with `defaults` for every `hdfs://`, `webhdfs://` and
 * `swebhdfs://` path (NameNode from the path's authority unless `defaults.namenodes` is set), and
 * one per entry of `prefixes` (its options over the defaults), the longest prefix winning as the
 * router does.
 */
export function registerHdfsStorage(
  router: StorageRouter,
  defaults: WebHdfsStorageOptions = {},
  prefixes: readonly HdfsPrefixOptions[] = [],
): StorageRouter {
  const fallback = new WebHdfsStorage(defaults);
  for (const scheme of HDFS_SCHEMES) router.register(`${scheme}://`, fallback);
  for (const p of prefixes) {
    parseHdfsPath(p.prefix);
    const merged = { ...defaults, ...p.options };
    // A token and a user name go together with the entry that gives either.
    if (p.options.user !== undefined && p.options.delegationToken === undefined)
      delete merged.delegationToken;
    router.register(p.prefix, new WebHdfsStorage(merged));
  }
  return router;
}
