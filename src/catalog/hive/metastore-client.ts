/**
 * A Hive Metastore client: Thrift's binary protocol over a buffered TCP socket (`TSocket` with
 * `TBufferedTransport`, what the metastore serves without SASL), one call at a time per
 * connection, as Hive's own client does.
 *
 * Why not the library's `createConnection`/`createClient`: they want generated service classes,
 * and their reconnect loop re-sends queued calls on a new socket — for `create_table` or
 * `alter_table` that hides whether a write happened. Here the socket is ours; the library's
 * `TBufferedTransport` and `TBinaryProtocol` frame and code every message, and a failed
 * connection surfaces as {@link MetastoreUnavailableError} so that the catalog decides what a
 * lost reply means.
 *
 * High availability: the URIs are tried in order (`thrift://a:9083,thrift://b:9083`), as Hive's
 * client does with `hive.metastore.uris`; a connection that breaks moves on to the next one.
 * Reads are retried on a fresh connection; writes never are (the caller checks their outcome).
 */
import * as net from 'node:net';
import thrift from 'thrift';
import { type MethodDef, resultStruct } from './metastore-api.ts';
import { readStruct, type StructValue, struct, writeStruct } from './thrift-codec.ts';

/** A metastore address. */
export interface MetastoreAddress {
  readonly host: string;
  readonly port: number;
}

/** No metastore of the list answered, or the connection broke before the reply. */
export class MetastoreUnavailableError extends Error {
  /** Whether the request may have reached the server (its outcome is unknown). */
  readonly sent: boolean;
  constructor(message: string, sent: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MetastoreUnavailableError';
    this.sent = sent;
  }
}

/** An exception the method declares (`NoSuchObjectException`, `MetaException`, ...). */
export class MetastoreException extends Error {
  /** The IDL's exception name. */
  readonly kind: string;
  constructor(kind: string, message: string) {
    super(`${kind}: ${message}`);
    this.name = 'MetastoreException';
    this.kind = kind;
  }
}

/** The server could not run the call at all (TApplicationException: unknown method, ...). */
export class MetastoreApplicationError extends Error {
  /** TApplicationExceptionType (1 = unknown method). */
  readonly type: number;
  constructor(type: number, message: string) {
    super(message);
    this.name = 'MetastoreApplicationError';
    this.type = type;
  }
}

const APPLICATION_EXCEPTION = struct('TApplicationException', [
  [1, 'message', 'string'],
  [2, 'type', 'i32'],
]);
const MESSAGE_CALL = 1;
const MESSAGE_EXCEPTION = 3;

/** Options of {@link MetastoreClient}. */
export interface MetastoreClientOptions {
  /** Connection attempt timeout per address (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Reply timeout per call (default 60 s): a server that stops answering breaks the connection. */
  readonly callTimeoutMs?: number;
  /** Rounds over the address list before giving up (default 3, as Hive's `connect.retries`). */
  readonly connectRetries?: number;
  /** Pause between rounds (default 1 s, growing). */
  readonly retryDelayMs?: number;
}

/** One socket and the reply it waits for. */
class Connection {
  readonly #socket: net.Socket;
  readonly #where: string;
  #pending:
    | { def: MethodDef; resolve: (v: StructValue) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
    | undefined;
  #broken: Error | undefined;
  #seq = 0;
  readonly #receive: (data: Buffer) => void;

  private constructor(socket: net.Socket, where: string) {
    this.#socket = socket;
    this.#where = where;
    this.#receive = thrift.TBufferedTransport.receiver((reader) => this.#onData(reader), 0) as (
      d: Buffer,
    ) => void;
    socket.on('data', (d: Buffer) => {
      try {
        this.#receive(d);
      } catch (err) {
        this.#fail(new MetastoreUnavailableError(`${where}: bad reply: ${(err as Error).message}`, true));
      }
    });
    socket.on('error', (err) => this.#fail(new MetastoreUnavailableError(`${where}: ${err.message}`, true)));
    socket.on('close', () => this.#fail(new MetastoreUnavailableError(`${where}: connection closed`, true)));
  }

  static open(address: MetastoreAddress, timeoutMs: number): Promise<Connection> {
    const where = `thrift://${address.host}:${address.port}`;
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: address.host, port: address.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new MetastoreUnavailableError(`${where}: no connection within ${timeoutMs} ms`, false));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        socket.setKeepAlive(true);
        resolve(new Connection(socket, where));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new MetastoreUnavailableError(`${where}: ${err.message}`, false, { cause: err }));
      });
    });
  }

  get broken(): boolean {
    return this.#broken !== undefined;
  }

  get where(): string {
    return this.#where;
  }

  call(def: MethodDef, args: StructValue, timeoutMs: number): Promise<StructValue> {
    if (this.#broken) return Promise.reject(this.#broken);
    if (this.#pending) return Promise.reject(new Error('metastore connection: one call at a time'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#fail(
          new MetastoreUnavailableError(
            `${this.#where}: no reply to ${def.name} within ${timeoutMs} ms`,
            true,
          ),
        );
        this.#socket.destroy();
      }, timeoutMs);
      this.#pending = { def, resolve, reject, timer };
      const out = new thrift.TBufferedTransport(undefined, (bytes?: Buffer) => {
        if (bytes) this.#socket.write(bytes);
      });
      const protocol = new thrift.TBinaryProtocol(out);
      this.#seq = (this.#seq + 1) | 0;
      protocol.writeMessageBegin(def.name, MESSAGE_CALL, this.#seq);
      writeStruct(protocol, def.args, args);
      protocol.writeMessageEnd();
      out.flush();
    });
  }

  #onData(reader: InstanceType<typeof thrift.TBufferedTransport>): void {
    const pending = this.#pending;
    if (!pending) return;
    const input = new thrift.TBinaryProtocol(reader);
    let value: StructValue;
    let mtype: number;
    try {
      const header = input.readMessageBegin();
      mtype = header.mtype;
      value = readStruct(
        input,
        mtype === MESSAGE_EXCEPTION ? APPLICATION_EXCEPTION : resultStruct(pending.def),
      );
      input.readMessageEnd();
    } catch (err) {
      if ((err as Error)?.name === 'InputBufferUnderrunError') {
        reader.rollbackPosition(); // the rest of the reply is still on its way
        return;
      }
      throw err;
    }
    reader.commitPosition();
    clearTimeout(pending.timer);
    this.#pending = undefined;
    if (mtype === MESSAGE_EXCEPTION) {
      pending.reject(
        new MetastoreApplicationError(Number(value.type ?? 0), String(value.message ?? 'unknown error')),
      );
    } else {
      pending.resolve(value);
    }
  }

  #fail(err: Error): void {
    this.#broken ??= err;
    const pending = this.#pending;
    if (pending) {
      clearTimeout(pending.timer);
      this.#pending = undefined;
      pending.reject(err);
    }
  }

  close(): void {
    this.#broken ??= new MetastoreUnavailableError(`${this.#where}: closed`, false);
    this.#socket.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Calls metastore methods, one at a time, over one connection to the first address of the list
 * that answers. Call {@link close} when done.
 */
export class MetastoreClient {
  readonly #addresses: readonly MetastoreAddress[];
  readonly #options: Required<MetastoreClientOptions>;
  #connection: Connection | undefined;
  /** Calls run in turn: a Thrift connection carries one at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(addresses: readonly MetastoreAddress[], options: MetastoreClientOptions = {}) {
    if (addresses.length === 0) throw new Error('metastore client: no address');
    this.#addresses = addresses;
    this.#options = {
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      callTimeoutMs: options.callTimeoutMs ?? 60_000,
      connectRetries: options.connectRetries ?? 3,
      retryDelayMs: options.retryDelayMs ?? 1000,
    };
  }

  /** The address of the current connection, if any. */
  get connectedTo(): string | undefined {
    return this.#connection && !this.#connection.broken ? this.#connection.where : undefined;
  }

  /**
   * Calls `def`; resolves its success value (undefined for void methods). A declared exception
   * rejects with {@link MetastoreException}; `retry` re-sends the call on a new connection when
   * the old one broke (only for calls that are safe to repeat); `timeoutMs` replaces the
   * client's reply timeout for this call.
   */
  call(
    def: MethodDef,
    args: StructValue,
    opts: { readonly retry: boolean; readonly timeoutMs?: number },
  ): Promise<unknown> {
    const timeoutMs = opts.timeoutMs ?? this.#options.callTimeoutMs;
    const run = this.#queue.then(
      () => this.#call(def, args, opts.retry, timeoutMs),
      () => this.#call(def, args, opts.retry, timeoutMs),
    );
    this.#queue = run.catch(() => {});
    return run;
  }

  async #call(def: MethodDef, args: StructValue, retry: boolean, timeoutMs: number): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const connection = await this.#connect();
      let result: StructValue;
      try {
        result = await connection.call(def, args, timeoutMs);
      } catch (err) {
        if (err instanceof MetastoreUnavailableError) {
          connection.close();
          this.#connection = undefined;
          if (retry && attempt < this.#options.connectRetries) continue;
        }
        throw err;
      }
      for (const [, name] of def.throws) {
        const e = result[name] as StructValue | undefined;
        if (e) throw new MetastoreException(name, String(e.message ?? ''));
      }
      if (def.returns !== undefined && result.success === undefined) {
        throw new MetastoreApplicationError(5, `${def.name}: the reply has no result`);
      }
      return result.success;
    }
  }

  async #connect(): Promise<Connection> {
    if (this.#closed) throw new MetastoreUnavailableError('metastore client is closed', false);
    if (this.#connection && !this.#connection.broken) return this.#connection;
    this.#connection = undefined;
    const failures: string[] = [];
    for (let round = 0; round <= this.#options.connectRetries; round++) {
      if (round > 0) await sleep(this.#options.retryDelayMs * round);
      for (const address of this.#addresses) {
        try {
          this.#connection = await Connection.open(address, this.#options.connectTimeoutMs);
          return this.#connection;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    }
    const last = [...new Set(failures)].join('; ');
    throw new MetastoreUnavailableError(
      `no Hive Metastore answered (${this.#options.connectRetries + 1} rounds over ${this.#addresses.length} address(es)): ${last}`,
      false,
    );
  }

  /** Closes the connection; later calls fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#queue;
    this.#connection?.close();
    this.#connection = undefined;
  }
}
