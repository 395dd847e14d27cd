/**
 * Routes a path to the storage backend that serves it, by scheme and authority.
 * Local paths and `file:` URIs go to {@link LocalStorage}; other schemes are registered by
 * prefix (`s3://` for a whole scheme, `s3://bucket`, `hdfs://nameservice`), the longest
 * registered prefix winning. (`registerS3Storage` in `s3.ts` registers the S3 schemes.)
 */
import { ConfigError } from '../errors.ts';
import { LocalStorage } from './local/local.ts';
import type { Storage } from './storage.ts';

/** Resolves the backend for a path. */
export type StorageResolver = (path: string) => Storage;

/** A prefix → backend registry. */
export class StorageRouter {
  readonly #routes: { prefix: string; storage: Storage }[] = [];
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
    const p = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/$/.test(prefix) ? prefix : prefix.replace(/\/+$/, '');
    this.#routes.push({ prefix: p, storage });
    this.#routes.sort((a, b) => b.prefix.length - a.prefix.length);
    return this;
  }

  /** The backend for `path`; a clear error when none serves its scheme. */
  resolve(path: string): Storage {
    for (const r of this.#routes) {
      if (path === r.prefix || path.startsWith(r.prefix.endsWith('/') ? r.prefix : `${r.prefix}/`)) {
        return r.storage;
      }
    }
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(path)?.[1];
    if (!scheme || scheme.length === 1 || scheme.toLowerCase() === 'file') return this.#local;
    throw new ConfigError(
      `no storage backend configured for '${path}' (scheme '${scheme}'); map it to a local path with --map`,
    );
  }

  /** This router as a {@link StorageResolver}. */
  get resolver(): StorageResolver {
    return (path) => this.resolve(path);
  }
}
