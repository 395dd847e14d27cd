/**
 * An Iceberg REST catalog (the REST OpenAPI spec: Polaris, Nessie, Lakekeeper, Gravitino, Unity,
 * S3 Tables' endpoint, Iceberg's own reference server).
 *
 * How a DR table moves (docs/architecture.md says why):
 * - The first sync registers the rewritten metadata file (`POST .../register`). The file lies in
 *   the metadata root, outside the replica.
 * - Later syncs commit server-side: the table is loaded (the engine's own load is reused once,
 *   so a commit costs no second GET), checked to be where this tool left it (its metadata
 *   location is the `expected` one), and moved to the next rewritten version by a
 *   `CommitTableRequest` whose updates are the difference between the two
 *   (`metadataUpdates`) and whose requirements pin the table as loaded (uuid, every ref touched,
 *   schema, spec, sort order, last ids). A concurrent writer makes the server answer 409; nothing
 *   is overwritten blindly. Register with `overwrite` would be blind (it carries no requirement),
 *   and servers before Iceberg 1.11 refuse it.
 * - The server writes its own metadata file for each commit. `write.metadata.path` is set, in the
 *   same commit, to the directory of this tool's metadata files, so the catalog never writes
 *   inside the replicated tree.
 * - A commit answered 500/502/503/504, or lost in flight, may have landed: the table is loaded
 *   again; if it holds the target state the commit counts as done, if it is still at `expected`
 *   the same commit is sent again, otherwise it is a conflict. A 409 after such a retry is
 *   decided the same way, never reported as a conflict that did not happen.
 */
import { CatalogError, CommitConflictError, ConfigError } from '../../errors.ts';
import { metadataUpdates, tableStateDifference } from '../../iceberg/metadata-updates.ts';
import type { StorageResolver } from '../../storage/router.ts';
import { abortableSleep } from '../../util/abort.ts';
import { isJsonObject, type JsonObject, parseJson } from '../../util/json.ts';
import { redactSecrets } from '../../util/redact.ts';
import {
  type Catalog,
  formatIdentifier,
  type LoadedTable,
  type TableIdentifier,
  validateIdentifier,
  validateNamespace,
} from '../catalog.ts';
import { writeMetadataOnce } from '../metadata-file.ts';
import { anonymous, bearerToken, clientCredentials, type RestAuth } from './auth.ts';
import {
  type HttpAnswer,
  HttpClient,
  type HttpClientOptions,
  type HttpRequest,
  retryAfterMs,
  TransportError,
} from './http.ts';

/** Settings of {@link RestCatalog.open}. */
export interface RestCatalogOptions {
  /** The catalog's name (messages). */
  readonly name: string;
  /** The catalog's base URI (`https://host/api/catalog`), without `/v1`. */
  readonly uri: string;
  /** `warehouse`, sent to `GET /v1/config`. */
  readonly warehouse?: string;
  /** A `prefix` to use when the server's configuration gives none. */
  readonly prefix?: string;
  readonly token?: string;
  /** OAuth2 client credentials `client-id:secret`. */
  readonly credential?: string;
  readonly oauth2ServerUri?: string;
  readonly scope?: string;
  readonly audience?: string;
  readonly resource?: string;
  /** Extra headers on every request (`header.X-Name: value`). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly http?: HttpClientOptions;
  /** Attempts of a commit whose outcome was unknown, in all (default 4). */
  readonly commitAttempts?: number;
  readonly storageFor?: StorageResolver;
  readonly readOnly?: boolean;
}

/** The namespace separator of REST paths: the unit separator, percent-encoded. */
const NS_SEPARATOR = '\u001f';

/** Statuses after which a commit's outcome is unknown (it may have been applied). */
const COMMIT_UNKNOWN = new Set([500, 502, 503, 504]);

/** A table as the server returned it. */
interface RestTable {
  readonly metadataLocation: string;
  readonly metadata: JsonObject;
}

/** How many loaded tables a catalog keeps for the commit that follows (the oldest go first). */
const LOADED_KEPT = 64;

/** The REST catalog client. */
export class RestCatalog implements Catalog {
  readonly name: string;
  readonly #http: HttpClient;
  readonly #auth: RestAuth;
  readonly #base: string;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #commitAttempts: number;
  readonly #storageFor: StorageResolver | undefined;
  readonly #readOnly: boolean;
  /**
   * The last answer of {@link loadTable} per table (by its path), kept for one commit: the engine
   * loads the table, then commits against the location it read, so the commit can start from that
   * answer instead of loading the table again (see {@link #takeLoaded}).
   */
  readonly #loaded = new Map<string, RestTable>();

  private constructor(
    name: string,
    http: HttpClient,
    auth: RestAuth,
    base: string,
    options: RestCatalogOptions,
  ) {
    this.name = name;
    this.#http = http;
    this.#auth = auth;
    this.#base = base;
    this.#headers = options.headers ?? {};
    this.#commitAttempts = options.commitAttempts ?? 4;
    this.#storageFor = options.storageFor;
    this.#readOnly = options.readOnly ?? false;
  }

  /**
   * Connects: reads the server's configuration (`GET /v1/config`), whose `defaults` and
   * `overrides` frame the client's own settings, as the spec says; `prefix` and `uri` may come
   * from there.
   */
  static async open(options: RestCatalogOptions): Promise<RestCatalog> {
    const http = new HttpClient(options.http);
    const root = options.uri.replace(/\/+$/, '');
    const auth = options.token
      ? bearerToken(options.token)
      : options.credential
        ? clientCredentials(http, {
            credential: options.credential,
            tokenUrl: options.oauth2ServerUri ?? `${root}/v1/oauth/tokens`,
            ...(options.scope ? { scope: options.scope } : {}),
            ...(options.audience ? { audience: options.audience } : {}),
            ...(options.resource ? { resource: options.resource } : {}),
          })
        : anonymous;
    const probe = new RestCatalog(options.name, http, auth, `${root}/v1`, options);
    try {
      const query = options.warehouse ? `?warehouse=${encodeURIComponent(options.warehouse)}` : '';
      const config = await probe.#call(
        { method: 'GET', url: `${root}/v1/config${query}` },
        'read the catalog configuration',
      );
      const pick = (key: string): string | undefined => {
        const layer = (name: string) => {
          const o = isJsonObject(config.body) ? config.body[name] : undefined;
          const v = isJsonObject(o) ? o[key] : undefined;
          return typeof v === 'string' ? v : undefined;
        };
        return layer('overrides') ?? (key === 'prefix' ? options.prefix : undefined) ?? layer('defaults');
      };
      const uri = (pick('uri') ?? root).replace(/\/+$/, '');
      const prefix = pick('prefix');
      const base = `${uri}/v1${prefix ? `/${prefix.replace(/^\/+|\/+$/g, '')}` : ''}`;
      return new RestCatalog(options.name, http, auth, base, options);
    } catch (err) {
      http.close();
      throw err;
    }
  }

  #namespacePath(namespace: readonly string[]): string {
    return `${this.#base}/namespaces/${encodeURIComponent(namespace.join(NS_SEPARATOR))}`;
  }

  #tablePath(id: TableIdentifier): string {
    return `${this.#namespacePath(id.namespace)}/tables/${encodeURIComponent(id.name)}`;
  }

  #assertWritable(): void {
    if (this.#readOnly) throw new ConfigError(`catalog '${this.name}' is open read-only (a dry run)`);
  }

  /**
   * One request with authentication: retried on "try again" answers when `retry` (reads), and
   * once more with a fresh token on 401.
   */
  async #send(req: HttpRequest, retry = true): Promise<HttpAnswer> {
    for (let refreshed = false; ; refreshed = true) {
      const headers = { ...this.#headers, ...(await this.#auth.headers(req.signal)), ...req.headers };
      const full = { ...req, headers };
      const answer = retry ? await this.#http.sendRetrying(full) : await this.#http.send(full);
      if (answer.status === 401 && !refreshed && (await this.#auth.refresh(req.signal))) continue;
      return answer;
    }
  }

  /** {@link #send}, failing on anything but 2xx with a message that names `what`. */
  async #call(req: HttpRequest, what: string): Promise<HttpAnswer> {
    const answer = await this.#send(req);
    if (answer.status >= 200 && answer.status < 300) return answer;
    throw this.#failure(answer, what);
  }

  #failure(answer: HttpAnswer, what: string): CatalogError {
    return new CatalogError(`REST catalog '${this.name}': could not ${what}: ${describe(answer)}`);
  }

  async #loadFull(id: TableIdentifier): Promise<RestTable | undefined> {
    const answer = await this.#send({ method: 'GET', url: `${this.#tablePath(id)}?snapshots=all` });
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw this.#failure(answer, `load ${formatIdentifier(id)}`);
    return tableOf(answer, `load ${formatIdentifier(id)}`);
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable | undefined> {
    validateIdentifier(id, NS_SEPARATOR);
    const t = await this.#loadFull(id);
    const key = this.#tablePath(id);
    this.#loaded.delete(key);
    if (!t) return undefined;
    this.#loaded.set(key, t);
    if (this.#loaded.size > LOADED_KEPT) this.#loaded.delete(this.#loaded.keys().next().value!);
    return { metadataLocation: t.metadataLocation };
  }

  /**
   * The table as {@link loadTable} last answered, if that answer was at `expected`; taken once.
   * Committing from it is as safe as from a fresh load: the commit's requirements pin the table
   * as that answer had it (uuid, refs, schema, spec, sort order, last ids), so if another writer
   * moved it since, the server refuses the commit with 409, a conflict as a fresh load would
   * have found. An answer at another location is not used: a fresh load decides then.
   */
  #takeLoaded(id: TableIdentifier, expected: string): RestTable | undefined {
    const key = this.#tablePath(id);
    const t = this.#loaded.get(key);
    this.#loaded.delete(key);
    return t?.metadataLocation === expected ? t : undefined;
  }

  /** Any location will do: the first commit registers it, later ones are written by the server. */
  nextMetadataLocation(): undefined {
    return undefined;
  }

  async commitTable(
    id: TableIdentifier,
    expected: string | undefined,
    newMetadataLocation: string,
    metadataJson?: Uint8Array,
  ): Promise<string> {
    validateIdentifier(id, NS_SEPARATOR);
    this.#assertWritable();
    const storage = this.#storageFor?.(newMetadataLocation);
    if (metadataJson) {
      if (!storage)
        throw new ConfigError(`catalog '${this.name}': no storage to write ${newMetadataLocation}`);
      await writeMetadataOnce(storage, newMetadataLocation, metadataJson);
    }
    if (expected === undefined) return this.#register(id, newMetadataLocation);
    const bytes = metadataJson ?? (await storage?.read(newMetadataLocation));
    if (!bytes) throw new ConfigError(`catalog '${this.name}': no storage to read ${newMetadataLocation}`);
    const target = parseJson(Buffer.from(bytes).toString('utf8'));
    if (!isJsonObject(target)) throw new CatalogError(`${newMetadataLocation}: not a metadata object`);
    return this.#update(id, expected, newMetadataLocation, target);
  }

  /** Registers a table at `location`; a lost answer is decided by loading the table. */
  async #register(id: TableIdentifier, location: string): Promise<string> {
    const fq = `${this.name}.${formatIdentifier(id)}`;
    const req: HttpRequest = {
      method: 'POST',
      url: `${this.#namespacePath(id.namespace)}/register`,
      json: { name: id.name, 'metadata-location': location },
    };
    let unknown = false;
    for (let attempt = 1; ; attempt++) {
      if (unknown) {
        const now = await this.#loadFull(id);
        if (now?.metadataLocation === location) return location;
        if (now) throw new CommitConflictError(`${fq}: already registered (at ${now.metadataLocation})`);
      }
      let answer: HttpAnswer | undefined;
      try {
        answer = await this.#send(req, false);
      } catch (err) {
        if (!(err instanceof TransportError) || attempt >= this.#commitAttempts) throw err;
      }
      if (answer && answer.status === 200) return tableOf(answer, `register ${fq}`).metadataLocation;
      if (answer && answer.status === 409 && !unknown) {
        throw new CommitConflictError(`${fq}: already registered (${describe(answer)})`);
      }
      if (answer && answer.status === 404) throw this.#failure(answer, `register ${fq} (no such namespace?)`);
      if (answer && answer.status !== 409 && answer.status !== 429 && !COMMIT_UNKNOWN.has(answer.status)) {
        throw this.#failure(answer, `register ${fq}`);
      }
      if (attempt >= this.#commitAttempts) {
        throw new CatalogError(
          `REST catalog '${this.name}': registering ${fq} failed ${attempt} times` +
            `${answer ? ` (last: ${describe(answer)})` : ''}; the next run finds out whether it landed`,
        );
      }
      if (answer?.status !== 429) unknown = true;
      await abortableSleep(waitFor(this.#http, attempt, answer));
    }
  }

  /** Moves the table from `expected` to `target` with a guarded server-side commit. */
  async #update(
    id: TableIdentifier,
    expected: string,
    location: string,
    target: JsonObject,
  ): Promise<string> {
    const fq = `${this.name}.${formatIdentifier(id)}`;
    // The catalog's own files go beside ours, outside the replica.
    const metadataDir = location.slice(0, location.lastIndexOf('/'));
    let unknown = false;
    // The first attempt starts from the engine's own load; a retry always loads the table again.
    let loaded = this.#takeLoaded(id, expected);
    for (let attempt = 1; ; attempt++) {
      const current = loaded ?? (await this.#loadFull(id));
      loaded = undefined;
      if (!current) {
        throw new CommitConflictError(`${fq}: not registered any more (expected at ${expected})`);
      }
      if (current.metadataLocation !== expected) {
        // After an attempt of unknown outcome, the table holding the target state is our commit.
        if (unknown && tableStateDifference(current.metadata, target) === undefined)
          return current.metadataLocation;
        throw new CommitConflictError(
          `${fq}: metadata location is ${current.metadataLocation}, expected ${expected}`,
        );
      }
      const changes = metadataUpdates(current.metadata, target, {
        forcedProperties: { 'write.metadata.path': metadataDir },
        targetName: location,
      });
      if (changes.updates.length === 0) return expected;
      let answer: HttpAnswer | undefined;
      try {
        answer = await this.#send(
          {
            method: 'POST',
            url: this.#tablePath(id),
            json: {
              identifier: { namespace: [...id.namespace], name: id.name },
              requirements: changes.requirements,
              updates: changes.updates,
            },
          },
          false,
        );
      } catch (err) {
        if (!(err instanceof TransportError)) throw err;
        if (!err.maybeSent && attempt < this.#commitAttempts) {
          await abortableSleep(waitFor(this.#http, attempt, undefined));
          continue;
        }
        unknown = true;
      }
      if (answer?.status === 200) {
        const committed = tableOf(answer, `commit ${fq}`);
        const difference = tableStateDifference(committed.metadata, target);
        if (difference) {
          throw new CatalogError(
            `${fq}: the catalog accepted the commit but its table does not match ${location} (${difference}); ` +
              `it is at ${committed.metadataLocation}`,
          );
        }
        return committed.metadataLocation;
      }
      if (answer?.status === 409 && !unknown) {
        throw new CommitConflictError(`${fq}: the table changed since it was loaded (${describe(answer)})`);
      }
      if (answer && answer.status !== 409 && answer.status !== 429 && !COMMIT_UNKNOWN.has(answer.status)) {
        throw this.#failure(answer, `commit ${fq}`);
      }
      if (answer && answer.status !== 429) unknown = true;
      if (attempt >= this.#commitAttempts) {
        throw new CatalogError(
          `REST catalog '${this.name}': the commit of ${fq} did not complete after ${attempt} attempts` +
            `${answer ? ` (last: ${describe(answer)})` : ''}; its outcome is unknown; the next run finds out`,
        );
      }
      await abortableSleep(waitFor(this.#http, attempt, answer));
    }
  }

  async ensureNamespace(namespace: readonly string[]): Promise<void> {
    validateNamespace(namespace, NS_SEPARATOR);
    this.#assertWritable();
    if (await this.#namespaceExists(namespace)) return;
    // Parents first: servers with nested namespaces require them.
    for (let depth = 1; depth <= namespace.length; depth++) {
      const level = namespace.slice(0, depth);
      const answer = await this.#send({
        method: 'POST',
        url: `${this.#base}/namespaces`,
        json: { namespace: [...level], properties: {} },
      });
      if (answer.status === 200 || answer.status === 409) continue;
      // A server may fail a create that raced another (the reference one answers 500 for the
      // duplicate key): what counts is that the namespace is there now.
      if (!(await this.#namespaceExists(level)))
        throw this.#failure(answer, `create namespace ${level.join('.')}`);
    }
  }

  async #namespaceExists(namespace: readonly string[]): Promise<boolean> {
    const answer = await this.#send({ method: 'HEAD', url: this.#namespacePath(namespace) });
    if (answer.status === 204 || answer.status === 200) return true;
    if (answer.status === 404) return false;
    throw this.#failure(answer, `check namespace ${namespace.join('.')}`);
  }

  async listNamespaces(parent: readonly string[] = []): Promise<string[][]> {
    if (parent.length > 0) validateNamespace(parent, NS_SEPARATOR);
    const query = parent.length > 0 ? `parent=${encodeURIComponent(parent.join(NS_SEPARATOR))}` : '';
    const out: string[][] = [];
    await this.#pages(`${this.#base}/namespaces`, query, 'list namespaces', (body) => {
      const list = Array.isArray(body.namespaces) ? body.namespaces : [];
      for (const ns of list) if (Array.isArray(ns)) out.push(ns.map(String));
    });
    return out
      .filter((ns) => ns.length === parent.length + 1)
      .sort((a, b) => (a.join('.') < b.join('.') ? -1 : a.join('.') > b.join('.') ? 1 : 0));
  }

  async listTables(namespace: readonly string[]): Promise<TableIdentifier[]> {
    validateNamespace(namespace, NS_SEPARATOR);
    const out: TableIdentifier[] = [];
    const found = await this.#pages(`${this.#namespacePath(namespace)}/tables`, '', 'list tables', (body) => {
      const list = Array.isArray(body.identifiers) ? body.identifiers : [];
      for (const t of list) {
        if (isJsonObject(t) && typeof t.name === 'string')
          out.push({ namespace: [...namespace], name: t.name });
      }
    });
    if (!found) return [];
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Follows `next-page-token`; resolves false when the resource is not there (404). */
  async #pages(url: string, query: string, what: string, take: (body: JsonObject) => void): Promise<boolean> {
    let token: string | undefined;
    for (;;) {
      const params = [query, token !== undefined ? `pageToken=${encodeURIComponent(token)}` : '']
        .filter((p) => p !== '')
        .join('&');
      const answer = await this.#send({ method: 'GET', url: params ? `${url}?${params}` : url });
      if (answer.status === 404) return false;
      if (answer.status !== 200 || !isJsonObject(answer.body)) throw this.#failure(answer, what);
      take(answer.body);
      const next = answer.body['next-page-token'];
      if (typeof next !== 'string' || next === '') return true;
      token = next;
    }
  }

  async dropTable(id: TableIdentifier): Promise<boolean> {
    validateIdentifier(id, NS_SEPARATOR);
    this.#assertWritable();
    this.#loaded.delete(this.#tablePath(id));
    // purgeRequested=false: the catalog forgets the table; no file is deleted.
    const answer = await this.#send({ method: 'DELETE', url: `${this.#tablePath(id)}?purgeRequested=false` });
    if (answer.status === 404) return false;
    if (answer.status >= 200 && answer.status < 300) return true;
    throw this.#failure(answer, `drop ${formatIdentifier(id)}`);
  }

  async close(): Promise<void> {
    this.#http.close();
  }
}

/** The table of a LoadTableResult. */
function tableOf(answer: HttpAnswer, what: string): RestTable {
  const body = answer.body;
  const location = isJsonObject(body) ? body['metadata-location'] : undefined;
  const metadata = isJsonObject(body) ? body.metadata : undefined;
  if (typeof location !== 'string' || !isJsonObject(metadata)) {
    throw new CatalogError(`REST catalog answer to ${what} lacks metadata-location or metadata`);
  }
  return { metadataLocation: location, metadata };
}

/** `HTTP 409 CommitFailedException: message`, from the spec's ErrorModel (stack traces left out). */
export function describe(answer: HttpAnswer): string {
  const error = isJsonObject(answer.body) ? answer.body.error : undefined;
  if (isJsonObject(error)) {
    const type = typeof error.type === 'string' ? `${error.type}: ` : '';
    const message = typeof error.message === 'string' ? error.message : '';
    return redactSecrets(`HTTP ${answer.status} ${type}${message}`.trim());
  }
  const text = answer.text.trim().slice(0, 200);
  return redactSecrets(`HTTP ${answer.status}${text ? ` ${text}` : ''}`);
}

function waitFor(http: HttpClient, attempt: number, answer: HttpAnswer | undefined): number {
  const asked = retryAfterMs(answer?.headers['retry-after']) ?? 0;
  return Math.min(Math.max(http.backoff(attempt), asked), 30_000);
}
