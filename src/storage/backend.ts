/**
 * What a storage backend tells the rest of the tool about itself: the URI schemes it serves, how
 * locations of those schemes are spelled and compared, the settings it reads, and how to build its
 * storages from them. Each backend folder exports one {@link StorageBackend}; `registry.ts` lists
 * them, and the CLI, the configuration loader, the path mapping and the error messages read that
 * list instead of naming backends themselves.
 */
import type { Storage } from './storage.ts';

/** One URI scheme a backend serves. */
export interface SchemeInfo {
  /** The scheme, lower case, without `:` (`s3a`). */
  readonly scheme: string;
  /**
   * The scheme whose locations this one names too, for comparing paths (`s3` for `s3a`: the same
   * objects); `''` for plain local paths (`file:/x` is `/x`). Unset: itself.
   */
  readonly sameAs?: string;
  /** The port an authority of this scheme means when it names none (`hdfs://nn` is `hdfs://nn:8020`). */
  readonly defaultPort?: number;
  /**
   * The one spelling of an authority that path comparison uses, where one location has several
   * (Azure: `c@acct.blob.core.windows.net` is `c@acct.dfs.core.windows.net`). Unset: lower case.
   */
  readonly normalizeAuthority?: (authority: string) => string;
}

/** A location split into its parts. */
export interface StorageLocation {
  /** The scheme as written, lower case; `''` for a plain path. */
  readonly scheme: string;
  /** Bucket, nameservice or `host:port`; `''` where there is none. */
  readonly authority: string;
  /** The path or key below the authority. */
  readonly path: string;
}

/** Settings for every path under one location: an entry of the configuration's `storage:` section. */
export interface StoragePrefixSettings {
  /** The location as written (`s3://bucket` or `s3://bucket/prefix`), without trailing slashes. */
  readonly prefix: string;
  /** Its settings, keys lower-cased (`s3.endpoint`, ...). */
  readonly properties: Readonly<Record<string, string>>;
}

/** What a backend builds its storages from. */
export interface BackendSettings {
  /**
   * The catalog's properties (all of them: a backend picks its own keys, as PyIceberg's FileIO
   * does), the defaults for every path of its schemes.
   */
  readonly properties: Readonly<Record<string, string>>;
  /** Names the catalog properties in errors (`catalog.dr`). */
  readonly where: string;
  /** The `storage:` entries whose location has one of this backend's schemes, in file order. */
  readonly prefixes: readonly StoragePrefixSettings[];
  /** Receives the backends' non-fatal warnings (default: each backend's own). */
  readonly onWarning?: (message: string) => void;
}

/** A storage and the location prefix it serves (`s3://` for a whole scheme, `s3://bucket/p`). */
export interface StorageRoute {
  readonly prefix: string;
  readonly storage: Storage;
}

/** The descriptor every backend folder exports. */
export interface StorageBackend {
  /** Short name, for messages and docs (`s3`). */
  readonly name: string;
  /** One line on what it serves. */
  readonly description: string;
  /** The schemes it serves; the first is its own name for them. */
  readonly schemes: readonly SchemeInfo[];
  /**
   * The property keys it reads, in catalog properties and `storage:` entries. A `storage:` entry
   * with another key is a typo and an error.
   */
  readonly propertyKeys: readonly string[];
  /** Splits a location of one of its schemes; fails (naming it) when it is not a valid one. */
  parseLocation(location: string): StorageLocation;
  /**
   * Builds the storages serving its schemes: the defaults from the catalog properties, and one per
   * `storage:` entry (its settings over the defaults). A backend without settings may return none
   * (local paths are the router's own fallback).
   */
  routes(settings: BackendSettings): readonly StorageRoute[];
}
