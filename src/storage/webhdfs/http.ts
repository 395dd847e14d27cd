/**
 * WebHDFS over HTTP: the answers' shapes, how a failure is classified (retriable, a permission
 * problem, an unknown operation), bodies read under an inactivity timeout, the DataNode PUT, and
 * the translation of failures into this library's errors.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import {
  AlreadyExistsError,
  IcebergSyncError,
  NotFoundError,
  PermissionDeniedError,
  StorageError,
} from '../../errors.ts';
import { concatBytes } from '../../util/bytes.ts';

/** The JSON of a WebHDFS error answer. */
export interface RemoteException {
  readonly exception?: string;
  readonly javaClassName?: string;
  readonly message?: string;
}

/** One entry of LISTSTATUS / GETFILESTATUS. */
export interface HdfsFileStatus {
  readonly pathSuffix?: string;
  readonly type?: 'FILE' | 'DIRECTORY' | 'SYMLINK';
  readonly length?: number;
  readonly modificationTime?: number;
}

/** An HTTP answer that was not a success, with its RemoteException when it carried one. */
export class HttpFailure extends Error {
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
export class ConnectionFailure extends Error {
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
export class Inactivity {
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

/** Percent-encodes each segment of an HDFS path (the `/` stay). */
export function encodePath(p: string): string {
  return p
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

export function redirectTarget(res: Response, path: string, op: string): string {
  const location = res.headers.get('location');
  void res.body?.cancel().catch(() => {});
  if (!location) {
    throw new StorageError(
      `${path}: WebHDFS ${op}: the NameNode answered ${res.status} without a DataNode location`,
    );
  }
  return location;
}

export async function* bodyChunks(res: Response, timer: Inactivity): AsyncIterable<Uint8Array> {
  if (!res.body) return;
  timer.arm();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    timer.arm();
    yield chunk;
  }
}

export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of chunks) out.push(c);
  return out;
}

/** A failed answer's RemoteException (or the first words of a non-JSON body). */
export async function failureOf(res: Response, timer: Inactivity): Promise<HttpFailure> {
  let text = '';
  try {
    text = new TextDecoder().decode(concatBytes(await collect(bodyChunks(res, timer))));
  } catch {
    text = '';
  }
  return httpFailure(res.status, text);
}

/** An {@link HttpFailure} from a status and a body (RemoteException JSON, or anything else). */
export function httpFailure(status: number, text: string): HttpFailure {
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

export function toFailure(err: unknown, url: string): unknown {
  if (err instanceof IcebergSyncError || err instanceof HttpFailure) return err;
  const e = err as Error & { cause?: Error & { code?: string } };
  const reason = e?.cause?.code
    ? `${e.cause.code} ${e.cause.message ?? ''}`.trim()
    : (e?.message ?? String(err));
  // Without the query: a DataNode URL carries the user name or the delegation token.
  return new ConnectionFailure(url.replace(/\?.*$/s, ''), reason, { cause: err });
}

export function isRetriable(f: HttpFailure): boolean {
  const ex = f.remote?.exception;
  if (ex && RETRIABLE_EXCEPTIONS.has(ex)) return true;
  return f.status >= 500 && !ex;
}

/**
 * A DataNode's 5xx is worth another round through the NameNode (which may pick another DataNode
 * or replica), whatever exception it names: pipeline and replica failures are transient there.
 */
export function isRetriableAtDataNode(f: HttpFailure): boolean {
  return isRetriable(f) || f.status >= 500;
}

export function isUnknownOp(err: unknown, op: string): boolean {
  const f = (err as { cause?: unknown }).cause;
  return (
    f instanceof HttpFailure &&
    f.status === 400 &&
    (f.remote?.exception === 'IllegalArgumentException' || f.remote === undefined) &&
    f.message.includes(op)
  );
}

export function isUnknownParam(err: unknown, param: string): boolean {
  const f = (err as { cause?: unknown }).cause;
  return f instanceof HttpFailure && f.status === 400 && f.message.toLowerCase().includes(param);
}

/**
 * PUTs bytes to a DataNode with node:http rather than fetch: the DataNode answers every CREATE
 * with an unsolicited `100 Continue` before its final status, which fetch (undici) rejects as a
 * bad response, and node:http skips as informational. `timeoutMs` is a socket inactivity limit.
 */
export function putToDataNode(
  url: string,
  data: Uint8Array | AsyncIterable<Uint8Array>,
  timeoutMs: number,
  signal?: AbortSignal,
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
        ...(signal ? { signal } : {}),
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

/** Turns a failure into this library's error, naming the path. */
export function translateFailure(
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
    return new StorageError(`${path}: WebHDFS ${op} failed: cannot reach ${where}${tries}: ${err.message}`, {
      cause: err,
    });
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
