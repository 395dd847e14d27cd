/**
 * S3 storage: Amazon S3 and S3-compatible servers (PowerScale OneFS S3, MinIO, Ceph RGW, ...), on
 * the AWS SDK for JavaScript v3. Paths are `s3://bucket/key`; `s3a://` and `s3n://` (Hadoop's
 * spellings) name the same objects. Keys are taken literally (no percent-decoding), as Iceberg's
 * S3FileIO and PyIceberg do.
 *
 * Directories are key prefixes ending in `/`. Zero-byte "directory marker" objects (keys ending in
 * `/`, as Hadoop S3A and consoles create them) are never listed as files.
 *
 * There is no `rename`: S3 has no atomic rename, and copy-then-delete would give readers a window
 * with both or a half-copied object. Nothing in this tool needs it: outputs are written with one
 * PUT, which S3 makes visible atomically, and the lock and catalog metadata files use
 * {@link WriteOptions.ifNotExists}.
 *
 * The SDK is imported on first use, so that commands on local paths do not pay for loading it.
 *
 * One concern at some 600 lines: the storage operations over one SDK client, and the translation
 * of that SDK's errors they all share. Settings and routing are in `config.ts`.
 */
import type * as S3 from '@aws-sdk/client-s3';
import {
  AlreadyExistsError,
  ConfigError,
  IcebergSyncError,
  NotFoundError,
  PermissionDeniedError,
  StorageError,
} from '../../errors.ts';
import { abortedError, throwIfAborted } from '../../util/abort.ts';
import { defaultLogger } from '../../util/logger.ts';
import { redactUrl } from '../../util/redact.ts';
import type {
  ByteRange,
  CallOptions,
  FileInfo,
  ListingCost,
  ListOptions,
  Storage,
  WriteOptions,
} from '../storage.ts';

/** The URI schemes served by {@link S3Storage}. */
export const S3_SCHEMES: readonly string[] = ['s3', 's3a', 's3n'];

/** Options of {@link S3Storage}. Everything unset comes from the standard AWS chain. */
export interface S3StorageOptions {
  /**
   * Endpoint URL of an S3-compatible server (`https://onefs-dr.example.com:9021`). Unset: the
   * SDK's own resolution (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the shared config's
   * `endpoint_url`, else AWS).
   */
  readonly endpoint?: string;
  /**
   * Region. Unset: `AWS_REGION` or the shared config; else `us-east-1`, which S3-compatible
   * servers ignore and from which the SDK follows AWS's redirects to a bucket's region.
   */
  readonly region?: string;
  /** Static credentials; unset: the standard AWS credential chain (env, profiles, SSO, IMDS, ...). */
  readonly accessKeyId?: string;
  /** The secret of {@link accessKeyId}; given together with it. */
  readonly secretAccessKey?: string;
  /** A session token for temporary credentials (with the static key pair). */
  readonly sessionToken?: string;
  /** Path-style requests (`https://host/bucket/key`), as OneFS and MinIO deployments often need. */
  readonly pathStyle?: boolean;
  /**
   * Use `If-None-Match: *` for if-not-exists writes (default true). `false` is for servers that
   * do not support it: the write then checks with HEAD and PUTs, which two concurrent writers can
   * race (both "win"); see docs/usage.md.
   */
  readonly conditionalWrites?: boolean;
  /** Attempts per request, first one included, with the SDK's standard retry mode (default 5). */
  readonly maxAttempts?: number;
  /** Connection timeout in milliseconds (default 10 000). */
  readonly connectTimeoutMs?: number;
  /** Socket inactivity timeout of a request in milliseconds (default 60 000). */
  readonly requestTimeoutMs?: number;
  /** Keys per ListObjectsV2 page (1..1000; default 1000, the server's maximum). */
  readonly listPageSize?: number;
  /**
   * Streamed writes up to this size go up in one PUT; larger ones as a multipart upload with
   * parts of this size (default 16 MiB; at least 5 MiB, S3's smallest part).
   */
  readonly partSizeBytes?: number;
  /** Receives warnings (default: the default logger's, text on stderr). */
  readonly onWarning?: (message: string) => void;
}

/** The parts of an `s3://bucket/key` path. */
export interface S3Location {
  readonly scheme: string;
  readonly bucket: string;
  /** The object key or key prefix; empty for the bucket itself. */
  readonly key: string;
}

/** Splits `s3://bucket/key` (also `s3a://`, `s3n://`); fails for anything else. */
export function parseS3Path(path: string): S3Location {
  const m = /^(s3|s3a|s3n):\/\/([^/]+)(?:\/(.*))?$/i.exec(path);
  if (!m) {
    throw new IcebergSyncError('INVALID_PATH', `'${path}': not an S3 location (s3://bucket/key)`);
  }
  return { scheme: m[1]!.toLowerCase(), bucket: m[2]!, key: m[3] ?? '' };
}

const MiB = 1024 * 1024;
const DEFAULT_PART_SIZE = 16 * MiB;
const MIN_PART_SIZE = 5 * MiB;

type Sdk = typeof S3;
let sdkModule: Promise<Sdk> | undefined;
function loadSdk(): Promise<Sdk> {
  sdkModule ??= import('@aws-sdk/client-s3');
  return sdkModule;
}

/** The fields of SDK errors we look at. */
interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly Code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number; readonly attempts?: number };
}

/** Storage on S3 or an S3-compatible server. */
export class S3Storage implements Storage {
  readonly #options: S3StorageOptions;
  #client: Promise<S3.S3Client> | undefined;
  #warned = false;
  /** HeadBucket outcomes by bucket: `undefined` when it exists, else the error. */
  readonly #bucketChecks = new Map<string, Promise<unknown>>();

  constructor(options: S3StorageOptions = {}) {
    this.#options = options;
    const o = options;
    if ((o.accessKeyId === undefined) !== (o.secretAccessKey === undefined)) {
      throw new ConfigError('s3: give both s3.access-key-id and s3.secret-access-key, or neither');
    }
    if (o.partSizeBytes !== undefined && o.partSizeBytes < MIN_PART_SIZE) {
      throw new ConfigError(`s3: the multipart part size must be at least ${MIN_PART_SIZE} bytes`);
    }
    if (o.listPageSize !== undefined && !(o.listPageSize >= 1 && o.listPageSize <= 1000)) {
      throw new ConfigError('s3: the list page size must be between 1 and 1000');
    }
  }

  /** ListObjectsV2 pages (1,000 keys unless configured smaller) against one HeadObject per file. */
  get listingCost(): ListingCost {
    return { pageSize: this.#options.listPageSize ?? 1000 };
  }

  /** The endpoint requests go to, for messages (`AWS` when the SDK picks it). */
  get endpointLabel(): string {
    return redactUrl(this.#options.endpoint ?? customEndpointFromEnv() ?? 'AWS S3');
  }

  async stat(path: string, options?: CallOptions): Promise<FileInfo | undefined> {
    const { bucket, key } = parseS3Path(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    if (key === '' || key.endsWith('/')) return undefined; // a directory, never a file
    const sdk = await loadSdk();
    try {
      const r = await (await this.#s3()).send(
        new sdk.HeadObjectCommand({ Bucket: bucket, Key: key }),
        sendOptions(signal),
      );
      return {
        path,
        size: r.ContentLength ?? 0,
        ...(r.LastModified ? { mtimeMs: r.LastModified.getTime() } : {}),
      };
    } catch (err) {
      if (signal?.aborted) throw abortedError(signal, path);
      if (statusOf(err) !== 404) throw this.#translate(err, path, 'HeadObject');
      // HEAD errors have no body, so a missing bucket looks like a missing key: ask once per
      // bucket, lest a misspelt bucket read as "not replicated yet".
      await this.#checkBucket(bucket, path);
      return undefined;
    }
  }

  async read(path: string, range?: ByteRange, options?: CallOptions): Promise<Uint8Array> {
    const { bucket, key } = parseS3Path(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    if (range && range.length <= 0) return new Uint8Array(0);
    const sdk = await loadSdk();
    try {
      const r = await (await this.#s3()).send(
        new sdk.GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}),
        }),
        sendOptions(signal),
      );
      const bytes = r.Body ? await r.Body.transformToByteArray() : new Uint8Array(0);
      // A server that ignores Range answers 200 with the whole object: cut the range out.
      if (range && r.$metadata.httpStatusCode === 200 && r.ContentRange === undefined) {
        return bytes.subarray(range.offset, range.offset + range.length);
      }
      return bytes;
    } catch (err) {
      if (signal?.aborted) throw abortedError(signal, path);
      // A range that starts at or past the end: no bytes, as a local read gives.
      if (range && statusOf(err) === 416) return new Uint8Array(0);
      throw this.#translate(err, path, 'GetObject');
    }
  }

  async *readStream(path: string, options?: CallOptions): AsyncIterable<Uint8Array> {
    const { bucket, key } = parseS3Path(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    const sdk = await loadSdk();
    let body: AsyncIterable<Uint8Array> | undefined;
    try {
      const r = await (await this.#s3()).send(
        new sdk.GetObjectCommand({ Bucket: bucket, Key: key }),
        sendOptions(signal),
      );
      body = r.Body as AsyncIterable<Uint8Array> | undefined;
    } catch (err) {
      if (signal?.aborted) throw abortedError(signal, path);
      throw this.#translate(err, path, 'GetObject');
    }
    if (!body) return;
    try {
      for await (const chunk of body) {
        throwIfAborted(signal, path);
        yield chunk;
      }
    } catch (err) {
      if (signal?.aborted) throw abortedError(signal, path);
      throw this.#translate(err, path, 'GetObject (reading the body)');
    }
  }

  async write(
    path: string,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    options?: WriteOptions,
  ): Promise<void> {
    const { bucket, key } = parseS3Path(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    if (key === '' || key.endsWith('/')) {
      throw new IcebergSyncError('INVALID_PATH', `'${path}': not an object key (empty, or ends in '/')`);
    }
    let conditional = false;
    if (options?.ifNotExists) {
      if (this.#options.conditionalWrites === false) {
        this.#warnRacy();
        // Racy by nature (see conditionalWrites): another writer may PUT between HEAD and PUT.
        if (await this.stat(path, options)) throw new AlreadyExistsError(path);
      } else {
        conditional = true;
      }
    }
    if (data instanceof Uint8Array) {
      await this.#put(bucket, key, path, data, conditional, signal);
      return;
    }
    await this.#writeStream(bucket, key, path, data, conditional, signal);
  }

  async *listDirectories(dir: string, options?: CallOptions): AsyncIterable<string> {
    const { bucket, key } = parseS3Path(dir);
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    const signal = options?.signal;
    const sdk = await loadSdk();
    const s3 = await this.#s3();
    const names: string[] = [];
    let token: string | undefined;
    do {
      throwIfAborted(signal, dir);
      let page: S3.ListObjectsV2CommandOutput;
      try {
        page = await s3.send(
          new sdk.ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            Delimiter: '/',
            ...(token ? { ContinuationToken: token } : {}),
          }),
          sendOptions(signal),
        );
      } catch (err) {
        if (signal?.aborted) throw abortedError(signal, dir);
        throw this.#translate(err, dir, 'ListObjectsV2');
      }
      // "Directories" of an object store: the common prefixes below this one.
      for (const p of page.CommonPrefixes ?? []) {
        const name = p.Prefix?.slice(prefix.length).replace(/\/$/, '');
        if (name) names.push(name);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    yield* names.sort();
  }

  async *list(dir: string, options?: ListOptions): AsyncIterable<FileInfo> {
    const { bucket, key } = parseS3Path(dir);
    const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    const base = dir.endsWith('/') ? dir : `${dir}/`;
    const signal = options?.signal;
    const sdk = await loadSdk();
    const s3 = await this.#s3();
    let token: string | undefined;
    do {
      throwIfAborted(signal, dir);
      let page: S3.ListObjectsV2CommandOutput;
      try {
        page = await s3.send(
          new sdk.ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix,
            // Without a delimiter S3 lists every key below the prefix: that is the recursive listing.
            ...(options?.recursive ? {} : { Delimiter: '/' }),
            ...(this.#options.listPageSize ? { MaxKeys: this.#options.listPageSize } : {}),
            ...(token ? { ContinuationToken: token } : {}),
          }),
          sendOptions(signal),
        );
      } catch (err) {
        if (signal?.aborted) throw abortedError(signal, dir);
        throw this.#translate(err, dir, 'ListObjectsV2');
      }
      for (const o of page.Contents ?? []) {
        if (!o.Key || o.Key.endsWith('/') || !o.Key.startsWith(prefix)) continue;
        yield {
          path: `${base}${o.Key.slice(prefix.length)}`,
          size: o.Size ?? 0,
          ...(o.LastModified ? { mtimeMs: o.LastModified.getTime() } : {}),
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(path: string, options?: CallOptions): Promise<void> {
    const { bucket, key } = parseS3Path(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    if (key === '' || key.endsWith('/')) return;
    const sdk = await loadSdk();
    try {
      // S3 answers 204 for a missing key too: deleting a missing file is not an error.
      await (await this.#s3()).send(
        new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key }),
        sendOptions(signal),
      );
    } catch (err) {
      if (signal?.aborted) throw abortedError(signal, path);
      if (statusOf(err) === 404 && codeOf(err) !== 'NoSuchBucket') return;
      throw this.#translate(err, path, 'DeleteObject');
    }
  }

  /** Closes the client and its connections. The storage may still be used afterwards (it reconnects). */
  async close(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    if (c) (await c.catch(() => undefined))?.destroy();
  }

  async #put(
    bucket: string,
    key: string,
    path: string,
    body: Uint8Array,
    conditional: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const sdk = await loadSdk();
    try {
      await (await this.#s3()).send(
        new sdk.PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ...(conditional ? { IfNoneMatch: '*' } : {}),
        }),
        sendOptions(signal),
      );
    } catch (err) {
      if (signal?.aborted) throw abortedError(signal, path);
      throw this.#translate(err, path, 'PutObject', conditional);
    }
  }

  /** One PUT when the stream fits in a part, else a multipart upload (aborted on failure). */
  async #writeStream(
    bucket: string,
    key: string,
    path: string,
    data: AsyncIterable<Uint8Array>,
    conditional: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const partSize = this.#options.partSizeBytes ?? DEFAULT_PART_SIZE;
    const sdk = await loadSdk();
    const s3 = await this.#s3();
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let uploadId: string | undefined;
    const parts: { ETag: string; PartNumber: number }[] = [];
    let op = 'CreateMultipartUpload';
    const uploadPart = async (body: Uint8Array) => {
      if (uploadId === undefined) {
        op = 'CreateMultipartUpload';
        const r = await s3.send(
          new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
          sendOptions(signal),
        );
        if (!r.UploadId) throw new StorageError(`${path}: S3 CreateMultipartUpload returned no upload id`);
        uploadId = r.UploadId;
      }
      op = 'UploadPart';
      const PartNumber = parts.length + 1;
      const r = await s3.send(
        new sdk.UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber,
          Body: body,
          ContentLength: body.length,
        }),
        sendOptions(signal),
      );
      if (!r.ETag) throw new StorageError(`${path}: S3 UploadPart returned no ETag`);
      parts.push({ ETag: r.ETag, PartNumber });
    };
    try {
      for await (const chunk of data) {
        throwIfAborted(signal, path);
        pending.push(chunk);
        pendingBytes += chunk.length;
        while (pendingBytes >= partSize) {
          const all = concat(pending, pendingBytes);
          const rest = all.slice(partSize);
          pending = rest.length ? [rest] : [];
          pendingBytes = rest.length;
          await uploadPart(all.subarray(0, partSize));
        }
      }
      const last = concat(pending, pendingBytes);
      if (uploadId === undefined) {
        await this.#put(bucket, key, path, last, conditional, signal);
        return;
      }
      if (last.length > 0) await uploadPart(last);
      op = 'CompleteMultipartUpload';
      await s3.send(
        new sdk.CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          ...(conditional ? { IfNoneMatch: '*' } : {}),
        }),
        sendOptions(signal),
      );
    } catch (err) {
      if (uploadId !== undefined) {
        // Best effort, and never under the caller's signal, so that an aborted write cleans up too:
        // an upload left behind only costs storage until a lifecycle rule removes it.
        await s3
          .send(new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
          .catch(() => {});
      }
      if (signal?.aborted) throw abortedError(signal, path);
      throw this.#translate(err, path, op, conditional && op === 'CompleteMultipartUpload');
    }
  }

  /** Fails with a StorageError naming `path` when `bucket` does not exist (checked once per bucket). */
  async #checkBucket(bucket: string, path: string): Promise<void> {
    let check = this.#bucketChecks.get(bucket);
    if (!check) {
      check = (async () => {
        const sdk = await loadSdk();
        try {
          await (await this.#s3()).send(new sdk.HeadBucketCommand({ Bucket: bucket }));
          return undefined;
        } catch (err) {
          return err;
        }
      })();
      this.#bucketChecks.set(bucket, check);
    }
    const err = await check;
    if (err === undefined) return;
    // Only a definite answer is remembered; a transient failure is asked again next time.
    if (statusOf(err) !== 404) this.#bucketChecks.delete(bucket);
    if (statusOf(err) === 404) {
      throw new StorageError(
        `${path}: S3 HeadBucket failed: the bucket '${bucket}' does not exist (NoSuchBucket)`,
        {
          cause: err,
        },
      );
    }
    throw this.#translate(err, path, 'HeadBucket');
  }

  #s3(): Promise<S3.S3Client> {
    this.#client ??= this.#createClient();
    return this.#client;
  }

  async #createClient(): Promise<S3.S3Client> {
    const sdk = await loadSdk();
    const o = this.#options;
    let region = o.region;
    if (!region) {
      // The SDK's own region chain (AWS_REGION, profile); S3 works from any region, so fall back.
      const probe = new sdk.S3Client({});
      try {
        region = await probe.config.region();
      } catch {
        region = undefined;
      } finally {
        probe.destroy();
      }
    }
    const custom = o.endpoint ?? customEndpointFromEnv();
    return new sdk.S3Client({
      region: region || 'us-east-1',
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      ...(o.pathStyle !== undefined ? { forcePathStyle: o.pathStyle } : {}),
      ...(o.accessKeyId !== undefined && o.secretAccessKey !== undefined
        ? {
            credentials: {
              accessKeyId: o.accessKeyId,
              secretAccessKey: o.secretAccessKey,
              ...(o.sessionToken ? { sessionToken: o.sessionToken } : {}),
            },
          }
        : {}),
      followRegionRedirects: true,
      retryMode: 'standard',
      maxAttempts: o.maxAttempts ?? 5,
      requestHandler: {
        connectionTimeout: o.connectTimeoutMs ?? 10_000,
        // An inactivity limit, which a stalled server (sending, answering or streaming a body)
        // trips, and a slow but live transfer of a large part does not. (The SDK's requestTimeout
        // would bound the whole upload instead, and by default only logs a warning.)
        socketTimeout: o.requestTimeoutMs ?? 60_000,
      },
      // S3-compatible servers often reject the flexible checksums (CRC trailers, aws-chunked
      // bodies) the SDK adds by default for AWS; ask for them only where an operation needs them.
      ...(custom
        ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
        : {}),
    });
  }

  #warnRacy(): void {
    if (this.#warned) return;
    this.#warned = true;
    (this.#options.onWarning ?? defaultLogger.warn)(
      `s3.conditional-writes is false for ${this.endpointLabel}: if-not-exists writes (the run lock, ` +
        'catalog metadata files) check with HEAD and then PUT, which two concurrent runs can race',
    );
  }

  #translate(err: unknown, path: string, op: string, conditional = false): Error {
    if (err instanceof IcebergSyncError) return err;
    const e = (err ?? {}) as SdkError;
    const status = statusOf(err);
    const code = codeOf(err);
    // HEAD answers carry no body, so their errors have no S3 code: the HTTP status is all there is.
    const known = code !== undefined && code !== 'Unknown' && !/^\d+$/.test(code);
    const detail = !known
      ? `HTTP ${status ?? '?'}`
      : e.message && e.message !== code
        ? `${code}: ${e.message}`
        : code;
    if (conditional && (status === 412 || (status === 409 && code === 'ConditionalRequestConflict'))) {
      return new AlreadyExistsError(path, { cause: err });
    }
    if (e.name === 'CredentialsProviderError') {
      return new ConfigError(
        `${path}: no S3 credentials: set s3.access-key-id and s3.secret-access-key, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile (${e.message})`,
        { cause: err },
      );
    }
    // Checked before the status: servers differ in it (versitygw answers an unknown key with 404).
    if (code !== undefined && AUTH_ERROR_CODES.has(code)) {
      return new PermissionDeniedError(path, `S3 ${op}: ${detail}`, { cause: err });
    }
    if (status === 404) {
      if (code === 'NoSuchBucket') {
        return new StorageError(`${path}: S3 ${op} failed: the bucket does not exist (NoSuchBucket)`, {
          cause: err,
        });
      }
      return new NotFoundError(path, { cause: err });
    }
    if (status === 403) return new PermissionDeniedError(path, `S3 ${op}: ${detail}`, { cause: err });
    if (conditional && (status === 501 || code === 'NotImplemented')) {
      return new StorageError(
        `${path}: S3 ${op} with If-None-Match failed: ${detail} (HTTP ${status}); ` +
          'this server lacks conditional writes: set s3.conditional-writes: false (racy, see docs/usage.md)',
        { cause: err },
      );
    }
    const attempts = e.$metadata?.attempts;
    const tries = attempts && attempts > 1 ? ` after ${attempts} attempts` : '';
    if (status === undefined) {
      // No HTTP answer at all: connection refused or reset, DNS, TLS, timeout.
      return new StorageError(
        `${path}: S3 ${op} failed: cannot reach ${this.endpointLabel}${tries}: ${e.message ?? String(err)}`,
        { cause: err },
      );
    }
    const http = known ? ` (HTTP ${status})` : '';
    return new StorageError(`${path}: S3 ${op} failed: ${detail}${http}${tries}`, { cause: err });
  }
}

/** S3 error codes that mean the credentials are wrong or lack rights, whatever the HTTP status. */
const AUTH_ERROR_CODES: ReadonlySet<string> = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'ExpiredToken',
  'InvalidAccessKeyId',
  'InvalidToken',
  'SignatureDoesNotMatch',
  'TokenRefreshRequired',
  'XAdminUserNotFound',
]);

/** The SDK's per-request options carrying the caller's signal. */
function sendOptions(signal: AbortSignal | undefined): { abortSignal: AbortSignal } | undefined {
  return signal ? { abortSignal: signal } : undefined;
}

function statusOf(err: unknown): number | undefined {
  return (err as SdkError | undefined)?.$metadata?.httpStatusCode;
}

/** The S3 error code (`NoSuchKey`, `AccessDenied`, ...), or a Node error code for network failures. */
function codeOf(err: unknown): string | undefined {
  const e = err as SdkError | undefined;
  return e?.Code ?? (e?.$metadata ? e.name : undefined) ?? e?.code ?? e?.name;
}

function customEndpointFromEnv(): string | undefined {
  return process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined;
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.length === total) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
