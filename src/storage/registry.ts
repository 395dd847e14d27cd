/**
 * The storage backends this tool knows, in one list. Adding a backend is one folder exporting a
 * {@link StorageBackend} and one line below; the CLI, the configuration loader (`storage:`
 * entries), the path mapping (scheme aliases, default ports) and the error messages all read it.
 */
import { ConfigError } from '../errors.ts';
import { azureBackend } from './azure/index.ts';
import type { SchemeInfo, StorageBackend, StoragePrefixSettings } from './backend.ts';
import { gcsBackend } from './gcs/index.ts';
import { localBackend } from './local/index.ts';
import { memoryBackend } from './memory/index.ts';
import { StorageRouter } from './router.ts';
import { s3Backend } from './s3/index.ts';
import { webHdfsBackend } from './webhdfs/index.ts';

/** Every storage backend, in the order messages list their schemes. */
export const STORAGE_BACKENDS: readonly StorageBackend[] = [
  localBackend,
  s3Backend,
  webHdfsBackend,
  azureBackend,
  gcsBackend,
  memoryBackend,
];

/** The scheme of a location (lower case), or `undefined` for a plain path. */
export function schemeOf(location: string): string | undefined {
  const s = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(location)?.[1];
  // One letter is a Windows drive (C:\x), not a scheme.
  return s && s.length > 1 ? s.toLowerCase() : undefined;
}

/** Every scheme some backend serves. */
export function knownSchemes(): string[] {
  return STORAGE_BACKENDS.flatMap((b) => b.schemes.map((s) => s.scheme));
}

/** The backend serving `scheme`, if any. */
export function backendForScheme(scheme: string): StorageBackend | undefined {
  const s = scheme.toLowerCase();
  return STORAGE_BACKENDS.find((b) => b.schemes.some((x) => x.scheme === s));
}

/** The scheme's entry in its backend's descriptor, if any. */
export function schemeInfo(scheme: string): SchemeInfo | undefined {
  const s = scheme.toLowerCase();
  for (const b of STORAGE_BACKENDS) {
    const found = b.schemes.find((x) => x.scheme === s);
    if (found) return found;
  }
  return undefined;
}

/** `no storage backend for scheme 'x' (known: ...)`, the one wording of that error. */
export function unknownSchemeMessage(scheme: string): string {
  return `no storage backend for scheme '${scheme}' (known: ${knownSchemes().join(', ')})`;
}

/** The backend serving `location`'s scheme; a {@link ConfigError} naming `where` when none does. */
export function backendForLocation(location: string, where: string): StorageBackend {
  const scheme = schemeOf(location);
  const backend = scheme === undefined ? localBackend : backendForScheme(scheme);
  if (!backend) throw new ConfigError(`${where}: ${unknownSchemeMessage(scheme ?? '')}`);
  return backend;
}

/** What {@link createStorageRouter} builds from. */
export interface StorageRouterSettings {
  /** The catalog's properties: each backend's defaults (`s3.*`, `hdfs.*`, `dfs.*`). */
  readonly properties?: Readonly<Record<string, string>>;
  /** Names the catalog properties in errors (default `catalog`). */
  readonly where?: string;
  /** The `storage:` section: per-location settings, in file order. */
  readonly storage?: readonly StoragePrefixSettings[];
  /** Receives the backends' non-fatal warnings. */
  readonly onWarning?: (message: string) => void;
}

/**
 * A router serving every backend of the registry: each built from the catalog properties, with the
 * `storage:` entries of its schemes as per-location overrides. An entry whose scheme no backend
 * serves is an error naming it.
 */
export function createStorageRouter(settings: StorageRouterSettings = {}): StorageRouter {
  const properties = settings.properties ?? {};
  const where = settings.where ?? 'catalog';
  const byBackend = new Map<StorageBackend, StoragePrefixSettings[]>();
  for (const entry of settings.storage ?? []) {
    const backend = backendForLocation(entry.prefix, `storage.${entry.prefix}`);
    backend.parseLocation(entry.prefix);
    byBackend.set(backend, [...(byBackend.get(backend) ?? []), entry]);
  }
  const router = new StorageRouter();
  for (const backend of STORAGE_BACKENDS) {
    const prefixes = byBackend.get(backend) ?? [];
    for (const p of prefixes) {
      for (const key of Object.keys(p.properties)) {
        if (!backend.propertyKeys.includes(key)) {
          const known = backend.propertyKeys.length ? backend.propertyKeys.join(', ') : 'none';
          throw new ConfigError(`storage.${p.prefix}.${key}: unknown setting (known: ${known})`);
        }
      }
    }
    for (const r of backend.routes({
      properties,
      where,
      prefixes,
      ...(settings.onWarning ? { onWarning: settings.onWarning } : {}),
    }))
      router.register(r.prefix, r.storage);
  }
  return router;
}
