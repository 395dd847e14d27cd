/**
 * Azure storage: ADLS Gen2 and Blob Storage accounts through the Blob API (which accounts with a
 * hierarchical namespace serve as well), on @azure/storage-blob. Paths are
 * `abfs[s]://container@account.dfs.core.windows.net/path` or
 * `wasb[s]://container@account.blob.core.windows.net/path` (see `location.ts`).
 *
 * Writes are block blobs: one Put Blob up to the block size, else staged blocks committed with one
 * Put Block List, so that a blob appears whole or not at all (staged blocks are invisible and
 * expire). If-not-exists is `If-None-Match: *`, atomic on the service. There is no `rename`: the
 * Blob API has none (the DFS endpoint's rename is not used; see docs/architecture.md).
 *
 * On accounts with a hierarchical namespace the Blob API lists directories as zero-byte blobs
 * marked `hdi_isfolder`; they are never listed or stat'ed as files, nor are names ending in `/`.
 *
 * The SDK is imported on first use, so that commands on other storage do not load it.
 */
import type * as Blob from '@azure/storage-blob';
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
import { type AzureAccountAccess, type AzureCredentialOptions, resolveAccountAccess } from './credentials.ts';
import { type AzureLocation, parseAzurePath } from './location.ts';

/** Options of {@link AzureStorage}. */
export interface AzureStorageOptions extends AzureCredentialOptions {
  /** Attempts per request, the first included (default 5): 500, 503 and network errors (by the SDK), 429. */
  readonly maxAttempts?: number;
  /** First retry delay in milliseconds, doubled per attempt (default 800). */
  readonly retryDelayMs?: number;
  /** A call that makes no progress (no answer, no body bytes) for this long fails (default 60 000 ms). */
  readonly requestTimeoutMs?: number;
  /** Writes up to this size go up in one Put Blob; larger ones in blocks of it (default 8 MiB). */
  readonly blockSizeBytes?: number;
  /** Blobs per listing page (1..5000; default 5000, the service's maximum). */
  readonly listPageSize?: number;
  /** Names the settings in errors (`catalog.dr`, `storage.abfss://c@a...`). */
  readonly where?: string;
}

const MiB = 1024 * 1024;
const DEFAULT_BLOCK_SIZE = 8 * MiB;
const MAX_BLOCK_SIZE = 4000 * MiB;

type Sdk = typeof Blob;
let sdkModule: Promise<Sdk> | undefined;
function loadSdk(): Promise<Sdk> {
  sdkModule ??= import('@azure/storage-blob');
  return sdkModule;
}

/** The fields of SDK errors we look at. */
interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly code?: string;
  readonly statusCode?: number;
  readonly details?: { readonly errorCode?: string };
}

/** Storage on Azure Blob / ADLS Gen2 accounts. */
export class AzureStorage implements Storage {
  readonly #o: AzureStorageOptions;
  /** Clients by account service URL. */
  readonly #clients = new Map<string, Promise<Blob.BlobServiceClient>>();

  constructor(options: AzureStorageOptions = {}) {
    this.#o = options;
    const b = options.blockSizeBytes;
    if (b !== undefined && !(b >= 1 && b <= MAX_BLOCK_SIZE)) {
      throw new ConfigError(`adls: the block size must be between 1 byte and ${MAX_BLOCK_SIZE} bytes`);
    }
    const l = options.listPageSize;
    if (l !== undefined && !(l >= 1 && l <= 5000)) {
      throw new ConfigError('adls: the list page size must be between 1 and 5000');
    }
  }

  get #idleMs(): number {
    return this.#o.requestTimeoutMs ?? 60_000;
  }

  async stat(path: string, options?: CallOptions): Promise<FileInfo | undefined> {
    const loc = parseAzurePath(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    if (loc.blob === '' || loc.blob.endsWith('/')) return undefined;
    const { client, access } = await this.#blob(loc, path);
    return watched(this.#idleMs, signal, async (w) => {
      try {
        const p = await this.#retry(w, () => client.getProperties({ abortSignal: w.signal }));
        if (isFolder(p.metadata)) return undefined;
        return {
          path,
          size: p.contentLength ?? 0,
          ...(p.lastModified ? { mtimeMs: p.lastModified.getTime() } : {}),
        };
      } catch (err) {
        if (statusOf(err) === 404 && codeOf(err) !== 'ContainerNotFound') {
          // HEAD answers have no body: a missing container looks like a missing blob. Ask.
          await this.#checkContainer(loc, path, access, w);
          return undefined;
        }
        throw this.#translate(err, path, 'Get Blob Properties', access, w, signal);
      }
    });
  }

  async read(path: string, range?: ByteRange, options?: CallOptions): Promise<Uint8Array> {
    const loc = parseAzurePath(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    if (range && range.length <= 0) return new Uint8Array(0);
    const { client, access } = await this.#blob(loc, path);
    return watched(this.#idleMs, signal, async (w) => {
      try {
        const r = await this.#retry(w, () =>
          client.download(range?.offset ?? 0, range?.length, {
            abortSignal: w.signal,
            maxRetryRequests: this.#o.maxAttempts ?? 5,
          }),
        );
        if (isFolder(r.metadata)) throw new NotFoundError(path);
        return await collect(r.readableStreamBody, w);
      } catch (err) {
        // A range that starts at or past the end: no bytes, as a local read gives.
        if (range && statusOf(err) === 416) return new Uint8Array(0);
        throw this.#translate(err, path, 'Get Blob', access, w, signal);
      }
    });
  }

  async *readStream(path: string, options?: CallOptions): AsyncIterable<Uint8Array> {
    const loc = parseAzurePath(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    const { client, access } = await this.#blob(loc, path);
    const w = new Watchdog(this.#idleMs, signal);
    try {
      let body: NodeJS.ReadableStream | undefined;
      try {
        const r = await this.#retry(w, () =>
          client.download(0, undefined, {
            abortSignal: w.signal,
            maxRetryRequests: this.#o.maxAttempts ?? 5,
          }),
        );
        if (isFolder(r.metadata)) throw new NotFoundError(path);
        body = r.readableStreamBody;
      } catch (err) {
        throw this.#translate(err, path, 'Get Blob', access, w, signal);
      }
      if (!body) return;
      try {
        for await (const chunk of body as AsyncIterable<Uint8Array>) {
          w.touch();
          throwIfAborted(w.signal, path);
          yield chunk;
        }
      } catch (err) {
        throw this.#translate(err, path, 'Get Blob (reading the body)', access, w, signal);
      }
    } finally {
      w.dispose();
    }
  }

  async write(
    path: string,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    options?: WriteOptions,
  ): Promise<void> {
    const loc = parseAzurePath(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    if (loc.blob === '' || loc.blob.endsWith('/')) {
      throw new IcebergSyncError('INVALID_PATH', `'${path}': not a blob name (empty, or ends in '/')`);
    }
    const { client, access } = await this.#blob(loc, path);
    const block = client.getBlockBlobClient();
    const conditions = options?.ifNotExists ? { ifNoneMatch: '*' } : undefined;
    const size = this.#o.blockSizeBytes ?? DEFAULT_BLOCK_SIZE;
    await watched(this.#idleMs, signal, async (w) => {
      let op = 'Put Blob';
      try {
        if (data instanceof Uint8Array && data.length <= size) {
          await this.#retry(w, () => block.upload(data, data.length, { abortSignal: w.signal, conditions }));
          return;
        }
        // Staged blocks: invisible until committed, discarded by the service if never committed.
        // The ids carry a per-write random part, so that concurrent writers of one name never
        // commit each other's blocks.
        const prefix = crypto.randomUUID().replaceAll('-', '');
        const ids: string[] = [];
        let first: Uint8Array | undefined;
        for await (const piece of blocks(data, size)) {
          throwIfAborted(w.signal, path);
          w.touch();
          if (ids.length === 0 && first === undefined) {
            // Hold the first block: a stream that fits in one goes up as one Put Blob.
            first = piece;
            continue;
          }
          if (first !== undefined) {
            op = 'Put Block';
            await this.#retry(w, () => stage(block, prefix, ids, first!, w));
            first = undefined;
          }
          op = 'Put Block';
          await this.#retry(w, () => stage(block, prefix, ids, piece, w));
        }
        throwIfAborted(w.signal, path);
        if (ids.length === 0) {
          const only = first ?? new Uint8Array(0);
          op = 'Put Blob';
          await this.#retry(w, () => block.upload(only, only.length, { abortSignal: w.signal, conditions }));
          return;
        }
        op = 'Put Block List';
        await this.#retry(w, () => block.commitBlockList(ids, { abortSignal: w.signal, conditions }));
      } catch (err) {
        if (conditions && (statusOf(err) === 409 || statusOf(err) === 412)) {
          throw new AlreadyExistsError(path, { cause: err });
        }
        throw this.#translate(err, path, op, access, w, signal);
      }
    });
  }

  /** The pages of List Blobs below `dir` (by hierarchy, else flat), with their blob prefixes. */
  async *#pages(
    dir: string,
    recursive: boolean,
    signal: AbortSignal | undefined,
  ): AsyncIterable<{ prefix: string; blobItems: Blob.BlobItem[]; blobPrefixes: string[] }> {
    const loc = parseAzurePath(dir);
    throwIfAborted(signal, dir);
    const prefix = loc.blob === '' || loc.blob.endsWith('/') ? loc.blob : `${loc.blob}/`;
    const { container, access } = await this.#container(loc, dir);
    const pageSize = this.#o.listPageSize ?? 5000;
    // One pager per page, from its continuation token, so that a throttled page is asked again.
    const pageFrom = (token: string | undefined) => {
      const settings = { maxPageSize: pageSize, ...(token ? { continuationToken: token } : {}) };
      const pages = recursive
        ? container.listBlobsFlat({ prefix, includeMetadata: true }).byPage(settings)
        : container.listBlobsByHierarchy('/', { prefix, includeMetadata: true }).byPage(settings);
      return pages[Symbol.asyncIterator]().next();
    };
    let token: string | undefined;
    for (;;) {
      throwIfAborted(signal, dir);
      let page: IteratorResult<{
        segment: { blobItems: Blob.BlobItem[]; blobPrefixes?: { name: string }[] };
        continuationToken?: string;
      }>;
      const w = new Watchdog(this.#idleMs, signal);
      try {
        // The pager takes no signal: the watchdog cuts the wait, the request is left to finish.
        const t = token;
        page = await this.#retry(w, () => raceAbort(pageFrom(t), w.signal));
      } catch (err) {
        if (statusOf(err) === 404 && codeOf(err) === 'ContainerNotFound') {
          throw new StorageError(
            `${dir}: Azure List Blobs failed: the container '${loc.container}' does not exist (ContainerNotFound)`,
            { cause: err },
          );
        }
        throw this.#translate(err, dir, 'List Blobs', access, w, signal);
      } finally {
        w.dispose();
      }
      if (page.done) return;
      yield {
        prefix,
        blobItems: page.value.segment.blobItems,
        blobPrefixes: (page.value.segment.blobPrefixes ?? []).map((p) => p.name),
      };
      token = page.value.continuationToken || undefined;
      if (!token) return;
    }
  }

  async *list(dir: string, options?: ListOptions): AsyncIterable<FileInfo> {
    const base = dir.endsWith('/') ? dir : `${dir}/`;
    for await (const { prefix, blobItems } of this.#pages(
      dir,
      options?.recursive ?? false,
      options?.signal,
    )) {
      for (const b of blobItems) {
        if (!b.name.startsWith(prefix) || b.name.endsWith('/') || isFolder(b.metadata)) continue;
        yield {
          path: `${base}${b.name.slice(prefix.length)}`,
          size: b.properties.contentLength ?? 0,
          mtimeMs: b.properties.lastModified.getTime(),
        };
      }
    }
  }

  /**
   * The "directories" directly below `dir`: the blob prefixes of a listing by hierarchy, and the
   * directory marker blobs a hierarchical-namespace account keeps for empty directories.
   */
  async *listDirectories(dir: string, options?: CallOptions): AsyncIterable<string> {
    const names = new Set<string>();
    for await (const { prefix, blobItems, blobPrefixes } of this.#pages(dir, false, options?.signal)) {
      for (const p of blobPrefixes) {
        const name = p.slice(prefix.length).replace(/\/$/, '');
        if (name) names.add(name);
      }
      for (const b of blobItems)
        if (isFolder(b.metadata)) names.add(b.name.slice(prefix.length).replace(/\/$/, ''));
    }
    yield* [...names].filter((n) => n !== '').sort();
  }

  async delete(path: string, options?: CallOptions): Promise<void> {
    const loc = parseAzurePath(path);
    const signal = options?.signal;
    throwIfAborted(signal, path);
    if (loc.blob === '' || loc.blob.endsWith('/')) return;
    const { client, access } = await this.#blob(loc, path);
    await watched(this.#idleMs, signal, async (w) => {
      try {
        await this.#retry(w, () => client.delete({ abortSignal: w.signal }));
      } catch (err) {
        if (statusOf(err) === 404 && codeOf(err) !== 'ContainerNotFound') return;
        throw this.#translate(err, path, 'Delete Blob', access, w, signal);
      }
    });
  }

  /** Forgets the clients (the SDK keeps no sockets of its own beyond Node's agent). Idempotent. */
  async close(): Promise<void> {
    this.#clients.clear();
  }

  /**
   * Retries a 429 answer, which the SDK does not (Azure Storage throttles with 503, which it does,
   * but a gateway in front of an account may answer 429), after its Retry-After or a back-off.
   */
  async #retry<T>(w: Watchdog, fn: () => Promise<T>): Promise<T> {
    const attempts = this.#o.maxAttempts ?? 5;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (statusOf(err) !== 429 || attempt >= attempts || w.signal.aborted) throw err;
        const base = this.#o.retryDelayMs ?? 800;
        const wait = retryAfterMs(err) ?? Math.min(base * 2 ** (attempt - 1), 30_000) * (0.5 + Math.random());
        await abortableSleep(wait, w.signal);
        w.touch();
      }
    }
  }

  async #container(
    loc: AzureLocation,
    path: string,
  ): Promise<{ container: Blob.ContainerClient; access: AzureAccountAccess }> {
    const access = resolveAccountAccess(loc, this.#o, this.#o.where ?? 'adls');
    let client = this.#clients.get(access.serviceUrl + access.source);
    if (!client) {
      client = createClient(access, this.#o);
      this.#clients.set(access.serviceUrl + access.source, client);
      client.catch(() => this.#clients.delete(access.serviceUrl + access.source));
    }
    try {
      return { container: (await client).getContainerClient(loc.container), access };
    } catch (err) {
      throw new ConfigError(
        `${path}: cannot set up the Azure client for ${redactUrl(access.serviceUrl)} (${access.source}): ${messageOf(err)}`,
        { cause: err },
      );
    }
  }

  async #blob(
    loc: AzureLocation,
    path: string,
  ): Promise<{ client: Blob.BlobClient; access: AzureAccountAccess }> {
    const { container, access } = await this.#container(loc, path);
    return { client: container.getBlobClient(loc.blob), access };
  }

  /** Fails naming the container when it does not exist; returns when it does (or cannot tell). */
  async #checkContainer(
    loc: AzureLocation,
    path: string,
    access: AzureAccountAccess,
    w: Watchdog,
  ): Promise<void> {
    const { container } = await this.#container(loc, path);
    let exists: boolean;
    try {
      exists = await container.exists({ abortSignal: w.signal });
    } catch {
      return; // A SAS scoped to blobs may not read the container: take the blob as missing.
    }
    if (!exists) {
      throw new StorageError(
        `${path}: Azure Get Blob Properties failed: the container '${loc.container}' does not exist in ${redactUrl(access.serviceUrl)} (ContainerNotFound)`,
      );
    }
  }

  #translate(
    err: unknown,
    path: string,
    op: string,
    access: AzureAccountAccess,
    w: Watchdog | undefined,
    signal: AbortSignal | undefined,
  ): Error {
    if (signal?.aborted) return abortedError(signal, path);
    const where = redactUrl(access.serviceUrl);
    if (w?.timedOut) {
      return new StorageError(
        `${path}: Azure ${op} failed: no progress from ${where} for ${w.idleSeconds} s (adls.request-timeout)`,
        { cause: err },
      );
    }
    if (err instanceof IcebergSyncError) return err;
    const e = (err ?? {}) as SdkError;
    const status = statusOf(err);
    const code = codeOf(err);
    if (
      e.name === 'CredentialUnavailableError' ||
      e.name === 'AuthenticationError' ||
      e.name === 'AggregateAuthenticationError'
    ) {
      return new ConfigError(
        `${path}: no usable Azure credential (${access.source}): ${messageOf(err)}; set adls.account-key, ` +
          'adls.sas-token, adls.connection-string or adls.tenant-id/client-id/client-secret, or sign in for DefaultAzureCredential',
        { cause: err },
      );
    }
    const detail = code ? `${code} (HTTP ${status ?? '?'})` : `HTTP ${status ?? '?'}`;
    if (status === 404) {
      if (code === 'ContainerNotFound') {
        const { container } = parseAzurePath(path);
        return new StorageError(
          `${path}: Azure ${op} failed: the container '${container}' does not exist in ${where} (ContainerNotFound)`,
          { cause: err },
        );
      }
      return new NotFoundError(path, { cause: err });
    }
    if (status === 401 || status === 403) {
      return new PermissionDeniedError(path, `Azure ${op} with ${access.source}: ${detail}`, { cause: err });
    }
    if (status === undefined) {
      return new StorageError(`${path}: Azure ${op} failed: cannot reach ${where}: ${messageOf(err)}`, {
        cause: err,
      });
    }
    const tries =
      status === 500 || status === 503 || status === 429 ? ` after ${this.#o.maxAttempts ?? 5} attempts` : '';
    return new StorageError(`${path}: Azure ${op} failed: ${detail}${tries}`, { cause: err });
  }
}

async function createClient(
  access: AzureAccountAccess,
  o: AzureStorageOptions,
): Promise<Blob.BlobServiceClient> {
  const sdk = await loadSdk();
  const pipeline = {
    retryOptions: {
      maxTries: o.maxAttempts ?? 5,
      retryDelayInMs: o.retryDelayMs ?? 800,
      maxRetryDelayInMs: 30_000,
    },
    userAgentOptions: { userAgentPrefix: 'iceberg-metadata-sync' },
  };
  const a = access.auth;
  switch (a.kind) {
    case 'shared-key':
      return new sdk.BlobServiceClient(
        access.serviceUrl,
        new sdk.StorageSharedKeyCredential(a.account, a.key),
        pipeline,
      );
    case 'sas': {
      const sas = a.sas.replace(/^\?/, '');
      const url = `${access.serviceUrl}${access.serviceUrl.includes('?') ? '&' : '?'}${sas}`;
      return new sdk.BlobServiceClient(url, new sdk.AnonymousCredential(), pipeline);
    }
    case 'token': {
      const token = a.token;
      const credential = {
        getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3600_000 }),
      };
      return new sdk.BlobServiceClient(access.serviceUrl, credential, pipeline);
    }
    case 'client-secret': {
      const id = await import('@azure/identity');
      return new sdk.BlobServiceClient(
        access.serviceUrl,
        new id.ClientSecretCredential(a.tenantId, a.clientId, a.clientSecret),
        pipeline,
      );
    }
    case 'default': {
      const id = await import('@azure/identity');
      const credential = new id.DefaultAzureCredential(
        a.clientId ? { managedIdentityClientId: a.clientId, workloadIdentityClientId: a.clientId } : {},
      );
      return new sdk.BlobServiceClient(access.serviceUrl, credential, pipeline);
    }
  }
}

/** Pieces of exactly `size` bytes (the last one shorter) from bytes or a stream of chunks. */
async function* blocks(
  data: Uint8Array | AsyncIterable<Uint8Array>,
  size: number,
): AsyncIterable<Uint8Array> {
  if (data instanceof Uint8Array) {
    for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
    return;
  }
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for await (const chunk of data) {
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes >= size) {
      const all = concat(pending, pendingBytes);
      yield all.subarray(0, size);
      const rest = all.slice(size);
      pending = rest.length ? [rest] : [];
      pendingBytes = rest.length;
    }
  }
  if (pendingBytes > 0) yield concat(pending, pendingBytes);
}

async function stage(
  block: Blob.BlockBlobClient,
  prefix: string,
  ids: string[],
  body: Uint8Array,
  w: Watchdog,
): Promise<void> {
  // Block ids of one blob must all have the same length: a fixed-width counter.
  const id = Buffer.from(`${prefix}-${String(ids.length).padStart(6, '0')}`).toString('base64');
  await block.stageBlock(id, body, body.length, { abortSignal: w.signal });
  ids.push(id);
  w.touch();
}

/** Reads a response body whole, rewinding the watchdog on every chunk. */
async function collect(body: NodeJS.ReadableStream | undefined, w: Watchdog): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const c of body as AsyncIterable<Uint8Array>) {
    w.touch();
    parts.push(c);
    total += c.length;
  }
  const out = concat(parts, total);
  // A plain Uint8Array view, not the Node Buffer the SDK hands out.
  return Object.getPrototypeOf(out) === Uint8Array.prototype
    ? out
    : new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** A directory entry of an account with a hierarchical namespace, as the Blob API shows it. */
function isFolder(metadata: Readonly<Record<string, string>> | undefined): boolean {
  return metadata?.hdi_isfolder === 'true' || metadata?.Hdi_isfolder === 'true';
}

/** The Retry-After of an answer, in milliseconds (seconds form only, at most a minute). */
function retryAfterMs(err: unknown): number | undefined {
  const h = (err as { response?: { headers?: { get?(n: string): string | undefined } } })?.response?.headers;
  const v = h?.get?.('retry-after');
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Math.min(Number(v) * 1000, 60_000);
}

function statusOf(err: unknown): number | undefined {
  return (err as SdkError | undefined)?.statusCode;
}

function codeOf(err: unknown): string | undefined {
  const e = err as SdkError | undefined;
  return e?.details?.errorCode ?? e?.code;
}

function messageOf(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  // The SDK's messages may quote a request URL, SAS and all.
  return redactUrl(m.split('\n')[0] ?? m);
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
