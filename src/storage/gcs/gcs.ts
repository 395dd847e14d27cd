/**
 * Google Cloud Storage: `gs://bucket/object`, on @google-cloud/storage (the JSON API). Object
 * names are taken literally, as Iceberg's GCSFileIO and PyIceberg do.
 *
 * Writes up to the resumable threshold go up in one request; larger ones, and streams that
 * outgrow it, as a resumable upload in chunks; either way the object appears whole or not at all.
 * If-not-exists is the `ifGenerationMatch: 0` precondition (412 when the object exists), atomic on
 * the service. There is no `rename` (GCS has none). Names ending in `/` (folder placeholders
 * that consoles create) are never listed or stat'ed as files.
 *
 * The SDK is imported on first use, so that commands on other storage do not load it.
 */
import type * as Gcs from '@google-cloud/storage';
import {
  AlreadyExistsError,
  ConfigError,
  IcebergSyncError,
  NotFoundError,
  PermissionDeniedError,
  StorageError,
} from '../../errors.ts';
import { abortableSleep, abortedError, raceAbort, throwIfAborted } from '../../util/abort.ts';
import { redactUrl } from '../../util/redact.ts';
import type { ByteRange, CallOptions, FileInfo, ListOptions, Storage, WriteOptions } from '../storage.ts';
import { Watchdog, watched } from '../watchdog.ts';

/** The URI scheme served by {@link GcsStorage}. */
export const GCS_SCHEMES: readonly string[] = ['gs'];

/** Options of {@link GcsStorage}. Unset credentials: Application Default Credentials. */
export interface GcsStorageOptions {
  /** `gcs.project-id`: the project (for requester-pays buckets, and ADC without one). */
  readonly projectId?: string;
  /** `gcs.oauth2.token`: a static OAuth2 access token (as REST catalogs vend them). */
  readonly oauth2Token?: string;
  /** `gcs.oauth2.token-expires-at`: when that token expires, milliseconds since the epoch. */
  readonly oauth2TokenExpiresAtMs?: number;
  /** `gcs.credentials-file`: a service-account (or other ADC) JSON key file. */
  readonly credentialsFile?: string;
  /**
   * `gcs.service.host`: the JSON API endpoint (`http://127.0.0.1:4443` for an emulator, a Private
   * Service Connect host). Unset: `STORAGE_EMULATOR_HOST`, else Google's.
   */
  readonly endpoint?: string;
  /** `gcs.requester-pays`: bill requests to {@link projectId}. */
  readonly requesterPays?: boolean;
  /** Attempts per request, the first included (default 5); 408, 429, 5xx and network errors are retried. */
  readonly maxAttempts?: number;
  /** A request, or a body, that makes no progress for this long fails (default 60 000 ms). */
  readonly requestTimeoutMs?: number;
  /**
   * Writes up to this size go up in one request; larger ones resumable in chunks of it (default
   * 8 MiB; a multiple of 256 KiB).
   */
  readonly resumableThresholdBytes?: number;
  /** Objects per listing page (1..5000; default 1000, the service's maximum). */
  readonly listPageSize?: number;
  /** The first retry delay is about one second; tests may shorten the multiplier (default 2). */
  readonly retryDelayMultiplier?: number;
}

/** The parts of a `gs://bucket/object` path. */
export interface GcsLocation {
  readonly bucket: string;
  /** The object name or name prefix; empty for the bucket itself. */
  readonly object: string;
}

/** Splits `gs://bucket/object`; fails for anything else. */
export function parseGcsPath(path: string): GcsLocation {
  const m = /^gs:\/\/([^/?#]+)(?:\/(.*))?$/i.exec(path);
  if (!m) throw new IcebergSyncError('INVALID_PATH', `'${path}': not a GCS location (gs://bucket/object)`);
  return { bucket: m[1]!, object: m[2] ?? '' };
}

const KiB = 1024;
const DEFAULT_THRESHOLD = 8 * 1024 * KiB;

type Sdk = typeof Gcs;
let sdkModule: Promise<Sdk> | undefined;
function loadSdk(): Promise<Sdk> {
  sdkModule ??= import('@google-cloud/storage');
  return sdkModule;
}

/** The fields of SDK errors we look at. */
interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly code?: number | string;
  readonly status?: number;
  readonly errors?: readonly { readonly reason?: string; readonly message?: string }[];
}

/** Storage on Google Cloud Storage (or a server speaking its JSON API). */
export class GcsStorage implements Storage {
  readonly #o: GcsStorageOptions;
  #client: Promise<Gcs.Storage> | undefined;
  readonly #bucketChecks = new Map<string, Promise<boolean | undefined>>();

  constructor(options: GcsStorageOptions = {}) {
    this.#o = options;
    const t = options.resumableThresholdBytes;
    if (t !== undefined && !(t >= 256 * KiB && t % (256 * KiB) === 0)) {
      throw new ConfigError('gcs: the resumable chunk size must be a multiple of 256 KiB');
    }
    const l = options.listPageSize;
    if (l !== undefined && !(l >= 1 && l <= 5000)) {
      throw new ConfigError('gcs: the list page size must be between 1 and 5000');
    }
    if (options.endpoint !== undefined && !/^https?:\/\/[^/]/.test(options.endpoint)) {
      throw new ConfigError('gcs.service.host: must be an http:// or https:// URL');
    }
  }

  /** The endpoint requests go to, for messages. */
  get endpointLabel(): string {
    return redactUrl(this.#o.endpoint ?? process.env.STORAGE_EMULATOR_HOST ?? 'Google Cloud Storage');
  }

  get #idleMs(): number {
    return this.#o.requestTimeoutMs ?? 60_000;
  }

  async stat(path: string, options?: CallOptions): Promise<FileInfo | undefined> {
    const { bucket, object } = parseGcsPath(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    if (object === '' || object.endsWith('/')) return undefined;
    const file = await this.#file(bucket, object);
    return watched(this.#idleMs, signal, async (w) => {
      try {
        const [m] = await raceAbort(file.getMetadata(), w.signal);
        return {
          path,
          size: Number(m.size ?? 0),
          ...(m.updated ? { mtimeMs: Date.parse(m.updated) } : {}),
        };
      } catch (err) {
        if (statusOf(err) === 404 && !w.signal.aborted) {
          await this.#checkBucket(bucket, path);
          return undefined;
        }
        throw this.#translate(err, path, 'objects.get', w, signal);
      }
    });
  }

  async read(path: string, range?: ByteRange, options?: CallOptions): Promise<Uint8Array> {
    const signal = options?.signal;
    throwIfAborted(signal, path);
    if (range && range.length <= 0) return new Uint8Array(0);
    const parts: Uint8Array[] = [];
    let total = 0;
    try {
      for await (const c of this.#download(path, range, signal)) {
        parts.push(c);
        total += c.length;
      }
    } catch (err) {
      // A range that starts at or past the end: no bytes, as a local read gives.
      if (range && err instanceof RangeNotSatisfiable) return new Uint8Array(0);
      throw err;
    }
    return concat(parts, total);
  }

  readStream(path: string, options?: CallOptions): AsyncIterable<Uint8Array> {
    return this.#download(path, undefined, options?.signal);
  }

  /**
   * Reads an object's media with `fetch` (the JSON API's `alt=media`), with this backend's own
   * retries (408, 429, 5xx, network errors): the SDK's read streams can throw outside any
   * promise when a throttled answer arrives, and cannot be cancelled by a signal.
   */
  async *#download(
    path: string,
    range: ByteRange | undefined,
    signal: AbortSignal | undefined,
  ): AsyncIterable<Uint8Array> {
    const { bucket, object } = parseGcsPath(path);
    throwIfAborted(signal, path);
    const w = new Watchdog(this.#idleMs, signal);
    try {
      let res: Response;
      try {
        res = await this.#media(bucket, object, range, w);
      } catch (err) {
        throw this.#translate(err, path, 'objects.get (media)', w, signal);
      }
      if (res.status === 416) throw new RangeNotSatisfiable();
      if (res.status === 404) {
        await res.body?.cancel().catch(() => {});
        await this.#checkBucket(bucket, path);
        throw new NotFoundError(path);
      }
      if (!res.ok) {
        const text = await res.text().catch(() => '');
        throw this.#translate(httpError(res.status, text), path, 'objects.get (media)', w, signal);
      }
      // A server that ignores Range answers 200 with the whole object: cut the range out.
      const cut = range && res.status === 200 ? range : undefined;
      let at = 0;
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          w.touch();
          if (!cut) {
            yield chunk;
            continue;
          }
          const from = Math.max(cut.offset - at, 0);
          const to = Math.min(cut.offset + cut.length - at, chunk.length);
          at += chunk.length;
          if (to > from) yield chunk.subarray(from, to);
        }
      } catch (err) {
        throw this.#translate(err, path, 'objects.get (reading the body)', w, signal);
      }
    } finally {
      w.dispose();
    }
  }

  /** The media request with retries; resolves with the final answer (any status). */
  async #media(bucket: string, object: string, range: ByteRange | undefined, w: Watchdog): Promise<Response> {
    const c = await this.#gcs();
    const base = String(
      (c as unknown as { apiEndpoint?: string }).apiEndpoint ?? 'https://storage.googleapis.com',
    );
    const userProject = this.#o.requesterPays ? this.#o.projectId : undefined;
    const url =
      `${base.replace(/\/+$/, '')}/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(object)}?alt=media` +
      (userProject ? `&userProject=${encodeURIComponent(userProject)}` : '');
    const attempts = this.#o.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      const headers = new Headers();
      if (range) headers.set('range', `bytes=${range.offset}-${range.offset + range.length - 1}`);
      if (this.#authenticated) {
        const auth = await c.authClient.getRequestHeaders(url);
        for (const [k, v] of new Headers(auth as unknown as Record<string, string>)) headers.set(k, v);
      }
      let res: Response | undefined;
      let failure: unknown;
      try {
        res = await fetch(url, { headers, signal: w.signal });
      } catch (err) {
        if (w.signal.aborted) throw err;
        failure = err;
      }
      const retriable = res === undefined || res.status === 408 || res.status === 429 || res.status >= 500;
      if (!retriable || attempt >= attempts) {
        if (res) return res;
        throw failure;
      }
      await res?.body?.cancel().catch(() => {});
      // Exponential backoff with jitter, as the SDK's own retries do (shorter first step).
      await abortableSleep(Math.min(250 * 2 ** (attempt - 1), 32_000) * (0.5 + Math.random()), w.signal);
      w.touch();
    }
  }

  /** Whether requests carry credentials: not to an emulator unless credentials were given. */
  get #authenticated(): boolean {
    const o = this.#o;
    const custom = o.endpoint !== undefined || !!process.env.STORAGE_EMULATOR_HOST;
    return !custom || o.oauth2Token !== undefined || o.credentialsFile !== undefined;
  }

  async write(
    path: string,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    options?: WriteOptions,
  ): Promise<void> {
    const { bucket, object } = parseGcsPath(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    if (object === '' || object.endsWith('/')) {
      throw new IcebergSyncError('INVALID_PATH', `'${path}': not an object name (empty, or ends in '/')`);
    }
    const file = await this.#file(bucket, object);
    const threshold = this.#o.resumableThresholdBytes ?? DEFAULT_THRESHOLD;
    const preconditionOpts = options?.ifNotExists ? { ifGenerationMatch: 0 } : undefined;
    const w = new Watchdog(this.#idleMs, signal);
    try {
      // The head of the data, up to the threshold: a write that fits goes up in one request.
      const head: Uint8Array[] = [];
      let headBytes = 0;
      let rest: AsyncIterator<Uint8Array> | undefined;
      if (data instanceof Uint8Array) {
        if (data.length <= threshold) head.push(data);
        else rest = single(data);
        headBytes = data.length <= threshold ? data.length : 0;
      } else {
        const it = data[Symbol.asyncIterator]();
        for (;;) {
          const r = await it.next();
          throwIfAborted(w.signal, path);
          w.touch();
          if (r.done) break;
          head.push(r.value);
          headBytes += r.value.length;
          if (headBytes > threshold) {
            rest = it;
            break;
          }
        }
      }
      if (!rest) {
        await raceAbort(
          file.save(Buffer.from(concat(head, headBytes)), {
            resumable: false,
            validation: 'crc32c',
            ...(preconditionOpts ? { preconditionOpts } : {}),
          }),
          w.signal,
        );
        throwIfAborted(w.signal, path);
        return;
      }
      await this.#resumable(file, head, rest, threshold, preconditionOpts, w, path);
    } catch (err) {
      if (preconditionOpts && statusOf(err) === 412) throw new AlreadyExistsError(path, { cause: err });
      throw this.#translate(err, path, 'objects.insert', w, signal);
    } finally {
      w.dispose();
    }
  }

  /** A resumable upload of `head` then `rest`, in chunks; destroyed (never finalised) on failure. */
  async #resumable(
    file: Gcs.File,
    head: readonly Uint8Array[],
    rest: AsyncIterator<Uint8Array>,
    chunkSize: number,
    preconditionOpts: { ifGenerationMatch: number } | undefined,
    w: Watchdog,
    path: string,
  ): Promise<void> {
    const stream = file.createWriteStream({
      resumable: true,
      chunkSize,
      validation: 'crc32c',
      ...(preconditionOpts ? { preconditionOpts } : {}),
    });
    const done = new Promise<void>((resolve, reject) => {
      stream.once('finish', () => resolve());
      stream.once('error', reject);
    });
    done.catch(() => {});
    const onAbort = () => stream.destroy(new Error('aborted'));
    w.signal.addEventListener('abort', onAbort, { once: true });
    const put = async (chunk: Uint8Array) => {
      w.touch();
      if (!stream.write(chunk)) {
        await Promise.race([new Promise((r) => stream.once('drain', r)), done]);
      }
    };
    try {
      for (const c of head) await put(c);
      for (;;) {
        const r = await rest.next();
        throwIfAborted(w.signal, path);
        if (r.done) break;
        await put(r.value);
      }
      stream.end();
      await done;
      throwIfAborted(w.signal, path);
    } catch (err) {
      // Destroyed before `end`, the upload is never finalised: no object appears.
      if (!stream.destroyed) stream.destroy(err instanceof Error ? err : new Error(String(err)));
      throw err;
    } finally {
      w.signal.removeEventListener('abort', onAbort);
    }
  }

  /** The pages of objects.list below `dir` (one level with a delimiter, else all), with their common prefixes. */
  async *#pages(
    dir: string,
    recursive: boolean,
    signal: AbortSignal | undefined,
  ): AsyncIterable<{ prefix: string; files: Gcs.File[]; prefixes: string[] }> {
    const { bucket, object } = parseGcsPath(dir);
    const prefix = object === '' || object.endsWith('/') ? object : `${object}/`;
    throwIfAborted(signal, dir);
    const b = await this.#bucket(bucket);
    let query: Gcs.GetFilesOptions | undefined = {
      prefix,
      autoPaginate: false,
      maxResults: this.#o.listPageSize ?? 1000,
      ...(recursive ? {} : { delimiter: '/' }),
    };
    while (query) {
      throwIfAborted(signal, dir);
      const q: Gcs.GetFilesOptions = query;
      const page = await watched(this.#idleMs, signal, async (w) => {
        try {
          return await raceAbort(b.getFiles(q), w.signal);
        } catch (err) {
          if (statusOf(err) === 404) {
            throw new StorageError(`${dir}: GCS objects.list failed: the bucket '${bucket}' does not exist`, {
              cause: err,
            });
          }
          throw this.#translate(err, dir, 'objects.list', w, signal);
        }
      });
      const response = page[2] as { prefixes?: string[] } | undefined;
      yield { prefix, files: page[0], prefixes: response?.prefixes ?? [] };
      const next = page[1] as Gcs.GetFilesOptions | null | undefined;
      query = next?.pageToken ? { ...q, pageToken: next.pageToken } : undefined;
    }
  }

  async *list(dir: string, options?: ListOptions): AsyncIterable<FileInfo> {
    const base = dir.endsWith('/') ? dir : `${dir}/`;
    for await (const { prefix, files } of this.#pages(dir, options?.recursive ?? false, options?.signal)) {
      for (const f of files) {
        if (!f.name.startsWith(prefix) || f.name.endsWith('/')) continue;
        yield {
          path: `${base}${f.name.slice(prefix.length)}`,
          size: Number(f.metadata.size ?? 0),
          ...(f.metadata.updated ? { mtimeMs: Date.parse(f.metadata.updated) } : {}),
        };
      }
    }
  }

  /** The "directories" directly below `dir`: the common prefixes of a delimited listing. */
  async *listDirectories(dir: string, options?: CallOptions): AsyncIterable<string> {
    const names: string[] = [];
    for await (const { prefix, prefixes } of this.#pages(dir, false, options?.signal)) {
      for (const p of prefixes) {
        const name = p.slice(prefix.length).replace(/\/$/, '');
        if (name) names.push(name);
      }
    }
    yield* names.sort();
  }

  async delete(path: string, options?: CallOptions): Promise<void> {
    const { bucket, object } = parseGcsPath(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    if (object === '' || object.endsWith('/')) return;
    const file = await this.#file(bucket, object);
    await watched(this.#idleMs, signal, async (w) => {
      try {
        await raceAbort(file.delete(), w.signal);
      } catch (err) {
        if (statusOf(err) === 404 && !w.signal.aborted) {
          await this.#checkBucket(bucket, path);
          return;
        }
        throw this.#translate(err, path, 'objects.delete', w, signal);
      }
    });
  }

  /** Forgets the client. Idempotent; a later call builds a new one. */
  async close(): Promise<void> {
    this.#client = undefined;
    this.#bucketChecks.clear();
  }

  async #bucket(name: string): Promise<Gcs.Bucket> {
    const c = await this.#gcs();
    const userProject = this.#o.requesterPays ? this.#o.projectId : undefined;
    return c.bucket(name, userProject ? { userProject } : {});
  }

  async #file(bucket: string, object: string): Promise<Gcs.File> {
    return (await this.#bucket(bucket)).file(object);
  }

  /** Fails with a StorageError naming `path` when `bucket` does not exist (checked once per bucket). */
  async #checkBucket(bucket: string, path: string): Promise<void> {
    let check = this.#bucketChecks.get(bucket);
    if (!check) {
      check = this.#bucket(bucket).then(
        (b) => b.exists().then(([e]) => e),
        () => undefined,
      );
      check = check.catch(() => undefined);
      this.#bucketChecks.set(bucket, check);
    }
    const exists = await check;
    if (exists === undefined) this.#bucketChecks.delete(bucket);
    if (exists === false) {
      throw new StorageError(`${path}: GCS objects.get failed: the bucket '${bucket}' does not exist`);
    }
  }

  #gcs(): Promise<Gcs.Storage> {
    this.#client ??= this.#createClient();
    return this.#client;
  }

  async #createClient(): Promise<Gcs.Storage> {
    const sdk = await loadSdk();
    const o = this.#o;
    const explicit = o.oauth2Token !== undefined || o.credentialsFile !== undefined;
    let authClient: Gcs.StorageOptions['authClient'];
    if (o.oauth2Token !== undefined) {
      // google-auth-library is the SDK's own dependency; an OAuth2 client with a fixed token.
      const { OAuth2Client } = await import('google-auth-library');
      const client = new OAuth2Client();
      client.setCredentials({
        access_token: o.oauth2Token,
        ...(o.oauth2TokenExpiresAtMs !== undefined ? { expiry_date: o.oauth2TokenExpiresAtMs } : {}),
      });
      authClient = client as unknown as Gcs.StorageOptions['authClient'];
    }
    return new sdk.Storage({
      ...(o.projectId ? { projectId: o.projectId } : {}),
      ...(o.endpoint ? { apiEndpoint: o.endpoint.replace(/\/+$/, '') } : {}),
      // A custom endpoint is an emulator unless credentials were given (Private Service Connect).
      ...(o.endpoint && explicit ? { useAuthWithCustomEndpoint: true } : {}),
      ...(o.credentialsFile ? { keyFilename: o.credentialsFile } : {}),
      ...(authClient ? { authClient } : {}),
      timeout: this.#idleMs,
      retryOptions: {
        autoRetry: true,
        maxRetries: Math.max(0, (o.maxAttempts ?? 5) - 1),
        retryDelayMultiplier: o.retryDelayMultiplier ?? 2,
        maxRetryDelay: 32,
        totalTimeout: 600,
        // Every call here is safe to repeat: whole-object writes, and creates guarded by a
        // generation precondition.
        idempotencyStrategy: sdk.IdempotencyStrategy.RetryAlways,
      },
    });
  }

  #translate(
    err: unknown,
    path: string,
    op: string,
    w: Watchdog | undefined,
    signal: AbortSignal | undefined,
  ): Error {
    if (signal?.aborted) return abortedError(signal, path);
    if (err instanceof IcebergSyncError) return err;
    if (w?.timedOut) {
      return new StorageError(
        `${path}: GCS ${op} failed: no progress from ${this.endpointLabel} for ${w.idleSeconds} s (gcs.request-timeout)`,
        { cause: err },
      );
    }
    const e = (err ?? {}) as SdkError;
    const status = statusOf(err);
    const reason = e.errors?.[0]?.reason;
    const detail = `${reason ? `${reason} ` : ''}(HTTP ${status ?? '?'})${e.message ? `: ${firstLine(e.message)}` : ''}`;
    if (/Could not load the default credentials|Unable to detect a Project Id/i.test(e.message ?? '')) {
      return new ConfigError(
        `${path}: no GCS credentials: set gcs.oauth2.token or gcs.credentials-file, or GOOGLE_APPLICATION_CREDENTIALS / gcloud application-default login (${firstLine(e.message ?? '')})`,
        { cause: err },
      );
    }
    if (status === 404) return new NotFoundError(path, { cause: err });
    if (status === 401 || status === 403)
      return new PermissionDeniedError(path, `GCS ${op}: ${detail}`, { cause: err });
    if (status === undefined) {
      return new StorageError(
        `${path}: GCS ${op} failed: cannot reach ${this.endpointLabel}: ${firstLine(e.message ?? String(err))}`,
        { cause: err },
      );
    }
    const retried = status === 408 || status === 429 || status >= 500;
    const tries = retried ? ` after ${this.#o.maxAttempts ?? 5} attempts` : '';
    return new StorageError(`${path}: GCS ${op} failed: ${detail}${tries}`, { cause: err });
  }
}

/** A ranged read that starts at or past the end of the object. */
class RangeNotSatisfiable extends Error {}

/** A non-OK media answer in the shape of the SDK's errors, for {@link GcsStorage}'s translation. */
function httpError(status: number, body: string): SdkError {
  let message = body.slice(0, 300);
  let reason: string | undefined;
  try {
    const j = JSON.parse(body) as { error?: { message?: string; errors?: { reason?: string }[] } };
    message = j.error?.message ?? message;
    reason = j.error?.errors?.[0]?.reason;
  } catch {
    // not JSON: keep the text
  }
  return { code: status, message, ...(reason ? { errors: [{ reason }] } : {}) };
}

async function* singleGen(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}
function single(data: Uint8Array): AsyncIterator<Uint8Array> {
  return singleGen(data);
}

function statusOf(err: unknown): number | undefined {
  const e = err as SdkError | undefined;
  if (typeof e?.code === 'number') return e.code;
  return typeof e?.status === 'number' ? e.status : undefined;
}

function firstLine(s: string): string {
  return redactUrl(s.split('\n')[0] ?? s);
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.length === total) {
    const c = chunks[0]!;
    return Object.getPrototypeOf(c) === Uint8Array.prototype
      ? c
      : new Uint8Array(c.buffer, c.byteOffset, c.length);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
