/**
 * Routes a path to the storage backend that serves it, by scheme and authority.
 * Local paths and `file:` URIs go to {@link LocalStorage}; other schemes are registered by
 * prefix (`s3://` for a whole scheme, `s3://bucket`, `hdfs://nameservice`), the longest
 * registered prefix winning. `createStorageRouter` in `registry.ts` registers every backend the
 * registry lists.
 */
import { ConfigError } from '../errors.ts';
import { LocalStorage } from './local/local.ts';
import type { Storage } from './storage.ts';

/** Resolves the backend for a path. */
export type StorageResolver = (path: string) => Storage;

const WHOLE_SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/$/;

/** A prefix → backend registry. */
export class StorageRouter {
  /** Longest prefix first; `under` is what a path below the prefix starts with. */
  readonly #routes: { prefix: string; under: string; storage: Storage }[] = [];
  readonly #local: Storage;

  constructor(local: Storage = new LocalStorage()) {
    this.#local = local;
  }

  /**
   * Serves every path under `prefix` with `storage`: a whole scheme (`s3://`), or a location
   * (`s3://bucket`, `s3://bucket/prefix`, `hdfs://ns1`), matched at path segment boundaries.
   */
  register(prefix: string, storage: Storage): this {
    // `scheme://` keeps its slashes (it is a whole scheme); a location loses trailing ones.
    const p = WHOLE_SCHEME.test(prefix) ? prefix : prefix.replace(/\/+$/, '');
    this.#routes.push({ prefix: p, under: p.endsWith('/') ? p : `${p}/`, storage });
    this.#routes.sort((a, b) => b.prefix.length - a.prefix.length);
    return this;
  }

  /** The schemes this router serves: `file` and every scheme with a registered prefix. */
  get schemes(): string[] {
    const out = new Set(['file']);
    for (const r of this.#routes) {
      const s = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(r.prefix)?.[1];
      if (s) out.add(s.toLowerCase());
    }
    return [...out];
  }

  /** The backend for `path`; a clear error when none serves its scheme. */
  resolve(path: string): Storage {
    // Called for every file a run checks: no string is built here.
    for (const r of this.#routes) {
      if (path.startsWith(r.under) || path === r.prefix) return r.storage;
    }
    // A plain absolute path has no scheme (the usual case, answered without the regexp).
    if (path.charCodeAt(0) === 47 /* '/' */) return this.#local;
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(path)?.[1];
    if (!scheme || scheme.length === 1 || scheme.toLowerCase() === 'file') return this.#local;
    throw new ConfigError(
      `no storage backend for scheme '${scheme}' (known: ${this.schemes.join(', ')}): '${path}'; ` +
        'map it to a local path with --map',
    );
  }

  /** This router as a {@link StorageResolver}. */
  get resolver(): StorageResolver {
    return (path) => this.resolve(path);
  }

  /**
   * Closes every backend it routes to (each once, the local one included), at the end of a run.
   * Every backend is closed even when one fails; the first failure is then thrown.
   */
  async close(): Promise<void> {
    const all = new Set<Storage>([this.#local, ...this.#routes.map((r) => r.storage)]);
    const results = await Promise.allSettled([...all].map((s) => s.close()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
