/**
 * The WebHDFS transport: one NameNode request with HA failover and retries, and the two-step
 * operations whose bytes go to a DataNode (OPEN, CREATE). Every loop here runs through
 * {@link retryRounds}; every request has an inactivity timeout, so a silent server never hangs.
 */
import { ConfigError, IcebergSyncError, StorageError } from '../../errors.ts';
import { abortedError } from '../../util/abort.ts';
import { concatBytes } from '../../util/bytes.ts';
import {
  bodyChunks,
  collect,
  encodePath,
  failureOf,
  type HttpFailure,
  httpFailure,
  Inactivity,
  isRetriable,
  isRetriableAtDataNode,
  putToDataNode,
  redirectTarget,
  toFailure,
  translateFailure,
} from './http.ts';
import { DEFAULT_NAMENODE_HTTP_PORT, type HdfsLocation, normalizeNamenode } from './location.ts';
import { type RetryPolicy, retryRounds } from './retry.ts';

/** What the transport needs to know: where the NameNodes are, who we are, how patient to be. */
export interface TransportOptions {
  /** NameNode HTTP(S) addresses; unset: taken from each path's authority. */
  readonly namenodes?: readonly string[];
  /** The user for simple authentication (`user.name=`); ignored with a delegation token. */
  readonly user?: string;
  /** A delegation token (`delegation=`). */
  readonly delegationToken?: string;
  /** Rounds of attempts per request, the first included (default 4). */
  readonly maxAttempts?: number;
  /** Inactivity timeout of a request in milliseconds (default 60 000). */
  readonly requestTimeoutMs?: number;
  /** First backoff delay in milliseconds (default 200). */
  readonly retryDelayMs?: number;
}

/** An open body being read: the answer, its inactivity timer, and the URL it came from. */
export interface OpenBody {
  readonly res: Response;
  readonly timer: Inactivity;
  readonly url: string;
}

/** Options of one request: the HDFS path it names, when not the location's, and the caller's signal. */
export interface RequestOptions {
  readonly hdfsPath?: string;
  readonly signal?: AbortSignal | undefined;
}

/** The inactivity timer's signal, joined with the caller's. */
function joined(timer: Inactivity, signal: AbortSignal | undefined): AbortSignal {
  return signal ? AbortSignal.any([timer.controller.signal, signal]) : timer.controller.signal;
}

/** Talks to the NameNodes of one file system (or, unconfigured, to the one each path names). */
export class WebHdfsTransport {
  readonly #options: TransportOptions;
  readonly #namenodes: readonly string[] | undefined;
  /** Index in {@link #namenodes} of the NameNode that last answered (the active one). */
  #active = 0;

  constructor(options: TransportOptions) {
    this.#options = options;
    if (options.namenodes !== undefined) {
      if (options.namenodes.length === 0) throw new ConfigError('hdfs: the NameNode list is empty');
      this.#namenodes = options.namenodes.map((a) => normalizeNamenode(a));
    }
    if (options.maxAttempts !== undefined && !(options.maxAttempts >= 1)) {
      throw new ConfigError('hdfs: max attempts must be at least 1');
    }
  }

  /** The configured NameNode addresses (empty when they come from each path). */
  get namenodes(): readonly string[] {
    return this.#namenodes ?? [];
  }

  /** The NameNode that answered last (the active one of an HA pair), if addresses are configured. */
  get activeNamenode(): string | undefined {
    return this.#namenodes?.[this.#active];
  }

  get maxAttempts(): number {
    return this.#options.maxAttempts ?? 4;
  }

  get timeoutMs(): number {
    return this.#options.requestTimeoutMs ?? 60_000;
  }

  #policy(signal: AbortSignal | undefined, rounds = this.maxAttempts): RetryPolicy {
    return { rounds, baseDelayMs: this.#options.retryDelayMs ?? 200, ...(signal ? { signal } : {}) };
  }

  /** A NameNode operation whose answer is JSON. */
  async json(
    loc: HdfsLocation,
    path: string,
    method: string,
    op: string,
    params: Record<string, string> = {},
    options: RequestOptions = {},
  ): Promise<unknown> {
    const res = await this.namenodeCall(loc, path, method, op, params, options);
    const timer = new Inactivity(this.timeoutMs);
    try {
      const text = new TextDecoder().decode(concatBytes(await collect(bodyChunks(res, timer))));
      return text === '' ? {} : JSON.parse(text);
    } catch (err) {
      if (options.signal?.aborted) throw abortedError(options.signal, path);
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
  async namenodeCall(
    loc: HdfsLocation,
    path: string,
    method: string,
    op: string,
    params: Record<string, string>,
    options: RequestOptions = {},
  ): Promise<Response> {
    const { hdfsPath = loc.path, signal } = options;
    const namenodes = this.#namenodesFor(loc, path);
    const query = new URLSearchParams({ op, ...params });
    if (this.#options.delegationToken) query.set('delegation', this.#options.delegationToken);
    else if (this.#options.user) query.set('user.name', this.#options.user);
    const suffix = `/webhdfs/v1${encodePath(hdfsPath)}?${query.toString()}`;
    return retryRounds(
      this.#policy(signal),
      async () => {
        let last: unknown;
        const first = this.#namenodes ? this.#active : 0;
        for (let k = 0; k < namenodes.length; k++) {
          const i = (first + k) % namenodes.length;
          const url = `${namenodes[i]}${suffix}`;
          const timer = new Inactivity(this.timeoutMs);
          let res: Response;
          try {
            res = await fetch(url, { method, signal: joined(timer, signal), redirect: 'manual' });
          } catch (err) {
            timer.stop();
            if (signal?.aborted) throw abortedError(signal, path);
            last = toFailure(err, namenodes[i]!);
            continue; // the next NameNode
          }
          if (res.ok || res.status === 307) {
            timer.stop();
            if (this.#namenodes) this.#active = i;
            return { ok: true, value: res };
          }
          const failure = await failureOf(res, timer);
          timer.stop();
          last = failure;
          if (failure.remote?.exception === 'StandbyException') continue;
          if (this.#namenodes) this.#active = i;
          if (isRetriable(failure)) break; // back off, then the same NameNode first
          throw translateFailure(failure, path, op);
        }
        return { ok: false, failure: last };
      },
      (last) => translateFailure(last, path, op, this.maxAttempts, namenodes),
    );
  }

  /** OPEN through the NameNode's redirect, with retries of the DataNode step. */
  async open(
    loc: HdfsLocation,
    path: string,
    params: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<OpenBody> {
    return retryRounds<OpenBody>(
      this.#policy(signal),
      async () => {
        const nn = await this.namenodeCall(loc, path, 'GET', 'OPEN', params, { signal });
        if (nn.status === 200) {
          return { ok: true, value: { res: nn, timer: new Inactivity(this.timeoutMs), url: path } };
        }
        const target = redirectTarget(nn, path, 'OPEN');
        const timer = new Inactivity(this.timeoutMs);
        try {
          const res = await fetch(target, { signal: joined(timer, signal), redirect: 'manual' });
          if (res.ok) {
            timer.arm();
            return { ok: true, value: { res, timer, url: target } };
          }
          const failure = await failureOf(res, timer);
          timer.stop();
          if (this.#standbyBehind(failure)) return { ok: false, failure };
          if (!isRetriableAtDataNode(failure)) throw translateFailure(failure, path, 'OPEN (DataNode)');
          return { ok: false, failure };
        } catch (err) {
          timer.stop();
          if (err instanceof IcebergSyncError) throw err;
          if (signal?.aborted) throw abortedError(signal, path);
          return { ok: false, failure: toFailure(err, target) };
        }
      },
      (last) => translateFailure(last, path, 'OPEN (DataNode)', this.maxAttempts),
    );
  }

  /** OPEN, then `consume` the body; a failure while reading it names the path. */
  async read<T>(
    loc: HdfsLocation,
    path: string,
    params: Record<string, string>,
    consume: (res: Response, timer: Inactivity) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const { res, timer, url } = await this.open(loc, path, params, signal);
    try {
      return await consume(res, timer);
    } catch (err) {
      if (signal?.aborted) throw abortedError(signal, path);
      throw translateFailure(toFailure(err, url), path, 'OPEN (reading the body)');
    } finally {
      timer.stop();
    }
  }

  /**
   * CREATE's two steps: the NameNode's 307, then the bytes to the DataNode it names. Bytes in
   * memory are retried; a stream, which cannot be sent twice, is tried once.
   */
  async create(
    loc: HdfsLocation,
    path: string,
    data: Uint8Array | AsyncIterable<Uint8Array>,
    signal?: AbortSignal,
  ): Promise<void> {
    const rounds = data instanceof Uint8Array ? this.maxAttempts : 1;
    return retryRounds<void>(
      this.#policy(signal, rounds),
      async () => {
        // overwrite=true: the name is our own random temporary one, and a retry after a DataNode
        // failure must replace what the failed attempt may have left there.
        const nn = await this.namenodeCall(loc, path, 'PUT', 'CREATE', { overwrite: 'true' }, { signal });
        const target = redirectTarget(nn, path, 'CREATE');
        try {
          const res = await putToDataNode(target, data, this.timeoutMs, signal);
          if (res.status === 201 || res.status === 200) return { ok: true, value: undefined };
          const failure = httpFailure(res.status, res.text);
          if (this.#standbyBehind(failure)) return { ok: false, failure };
          if (!isRetriableAtDataNode(failure)) throw translateFailure(failure, path, 'CREATE (DataNode)');
          return { ok: false, failure };
        } catch (err) {
          if (err instanceof IcebergSyncError) throw err;
          if (signal?.aborted) throw abortedError(signal, path);
          return { ok: false, failure: toFailure(err, target) };
        }
      },
      (last) => translateFailure(last, path, 'CREATE (DataNode)', rounds),
    );
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
}
