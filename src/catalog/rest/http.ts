/**
 * The HTTP exchange with a REST catalog: JSON in and out (64-bit ids kept as bigint), TLS with
 * an extra CA bundle, a timeout per request, and retries with backoff for the answers that mean
 * "try again" (429, 503, a dropped connection), honouring `Retry-After`.
 *
 * Written on node:http(s) rather than `fetch`: Node's fetch takes no CA bundle without the
 * separately installed undici, and the catalog calls need nothing else a client library gives.
 * Commits do not retry here: whether a commit that failed in flight landed is for the caller
 * to find out (see rest.ts).
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { rootCertificates } from 'node:tls';
import { CatalogError, ConfigError } from '../../errors.ts';
import { abortableSleep } from '../../util/abort.ts';
import { type JsonValue, parseJson, stringifyJson } from '../../util/json.ts';
import { redactSecrets } from '../../util/redact.ts';

/** One answer of the server. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The parsed JSON body, or `undefined` for an empty or non-JSON one. */
  readonly body: JsonValue | undefined;
  /** The raw body text (for messages). */
  readonly text: string;
}

/** How one request is sent. */
export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'DELETE' | 'HEAD';
  /** The full URL. */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A JSON body, or a form (for the OAuth2 token endpoint). */
  readonly json?: JsonValue;
  readonly form?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/** Settings of {@link HttpClient}. */
export interface HttpClientOptions {
  /** A PEM file of CA certificates trusted beside the system's (`ssl.cabundle`). */
  readonly caFile?: string;
  /** Client certificate and key (PEM files) for mutual TLS. */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Per-request timeout, ms (default 60 s). */
  readonly timeoutMs?: number;
  /** Attempts of a retryable request in all (default 5). */
  readonly attempts?: number;
  /** The first backoff, ms (doubled per attempt with jitter; default 250). */
  readonly backoffMs?: number;
  /** The longest single wait, `Retry-After` included, ms (default 30 s). */
  readonly maxBackoffMs?: number;
}

/** A request that failed before an answer came: refused, reset, timed out. */
export class TransportError extends CatalogError {
  /** True when the request may have reached the server (it was sent, then the answer was lost). */
  readonly maybeSent: boolean;
  constructor(message: string, maybeSent: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.maybeSent = maybeSent;
  }
}

/** Statuses a read retries: too many requests, service unavailable, gateway errors of a proxy. */
const RETRY_STATUSES = new Set([429, 502, 503, 504]);

/** Node's codes for a certificate that cannot be trusted. */
const TLS_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/;

/** The JSON-over-HTTP(S) client of a REST catalog. */
export class HttpClient {
  readonly #agentHttps: https.Agent;
  readonly #agentHttp: http.Agent;
  readonly #timeoutMs: number;
  readonly #attempts: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;

  constructor(options: HttpClientOptions = {}) {
    const read = (file: string | undefined, what: string) => {
      if (file === undefined) return undefined;
      try {
        return readFileSync(file);
      } catch (err) {
        throw new ConfigError(`${what} ${file}: ${(err as Error).message}`, { cause: err });
      }
    };
    const ca = read(options.caFile, 'ssl.cabundle');
    this.#agentHttps = new https.Agent({
      keepAlive: true,
      // An extra bundle adds to the system's roots, as PyIceberg's requests session does.
      ...(ca ? { ca: [...rootCertificates, ca.toString('utf8')] } : {}),
      ...(options.certFile ? { cert: read(options.certFile, 'ssl.client.cert') } : {}),
      ...(options.keyFile ? { key: read(options.keyFile, 'ssl.client.key') } : {}),
    });
    this.#agentHttp = new http.Agent({ keepAlive: true });
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#attempts = options.attempts ?? 5;
    this.#backoffMs = options.backoffMs ?? 250;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
  }

  /** Sends once. Rejects with {@link TransportError} when no answer came. */
  send(req: HttpRequest): Promise<HttpAnswer> {
    const url = new URL(req.url);
    const isHttps = url.protocol === 'https:';
    let body: string | undefined;
    const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
    if (req.json !== undefined) {
      body = stringifyJson(req.json);
      headers['content-type'] = 'application/json';
    } else if (req.form !== undefined) {
      body = new URLSearchParams(req.form as Record<string, string>).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const shown = `${req.method} ${redactSecrets(`${url.origin}${url.pathname}`)}`;
    return new Promise<HttpAnswer>((resolve, reject) => {
      let sent = false;
      const r = (isHttps ? https : http).request(
        url,
        {
          method: req.method,
          headers,
          agent: isHttps ? this.#agentHttps : this.#agentHttp,
          signal: req.signal,
          timeout: this.#timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) =>
            reject(new TransportError(`${shown}: ${err.message}`, true, { cause: err })),
          );
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: JsonValue | undefined;
            if (text.trim() !== '') {
              try {
                parsed = parseJson(text);
              } catch {
                parsed = undefined;
              }
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed, text });
          });
        },
      );
      r.on('timeout', () => {
        r.destroy(new Error(`no answer within ${this.#timeoutMs} ms`));
      });
      r.on('error', (err) => {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (req.signal?.aborted) reject(req.signal.reason ?? err);
        else if (TLS_ERRORS.test(code)) {
          // Not transient: retrying cannot make the server's certificate trusted.
          reject(
            new CatalogError(`${shown}: TLS: ${err.message} (is its CA in ssl.cabundle?)`, { cause: err }),
          );
        } else reject(new TransportError(`${shown}: ${err.message}`, sent, { cause: err }));
      });
      r.on('finish', () => {
        sent = true;
      });
      r.end(body);
    });
  }

  /**
   * Sends, retrying answers that mean "try again" (429, 502, 503, 504) and requests that got no
   * answer, with exponential backoff and jitter, waiting at least what `Retry-After` asks.
   * Only for requests that are safe to repeat (reads, token requests, idempotent writes).
   */
  async sendRetrying(req: HttpRequest): Promise<HttpAnswer> {
    for (let attempt = 1; ; attempt++) {
      let wait: number;
      try {
        const answer = await this.send(req);
        if (!RETRY_STATUSES.has(answer.status) || attempt >= this.#attempts) return answer;
        wait = Math.max(this.backoff(attempt), retryAfterMs(answer.headers['retry-after']) ?? 0);
      } catch (err) {
        if (!(err instanceof TransportError) || attempt >= this.#attempts) throw err;
        wait = this.backoff(attempt);
      }
      await abortableSleep(Math.min(wait, this.#maxBackoffMs), req.signal);
    }
  }

  /** The wait before attempt `attempt + 1`: doubling, with full jitter over its upper half. */
  backoff(attempt: number): number {
    const base = Math.min(this.#backoffMs * 2 ** (attempt - 1), this.#maxBackoffMs);
    return base / 2 + Math.random() * (base / 2);
  }

  /** Closes kept-alive connections. */
  close(): void {
    this.#agentHttps.destroy();
    this.#agentHttp.destroy();
  }
}

/** `Retry-After` as ms: delta-seconds or an HTTP date; `undefined` when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
