/**
 * Catalog configuration, in the shape of PyIceberg's `.pyiceberg.yaml`, so that one file can
 * serve both tools:
 *
 * ```yaml
 * catalog:            # `catalogs` is accepted too
 *   dr:
 *     type: sql       # or jdbc; hadoop (alias file): the types of registry.ts
 *     uri: sqlite:////srv/dr/catalog.db
 *     warehouse: file:///srv/dr/warehouse
 * ```
 *
 * S3 settings use PyIceberg's `s3.*` catalog properties (`s3.endpoint`, `s3.access-key-id`, ...):
 * they apply to every S3 path. A top-level `storage:` section (this tool's own; PyIceberg ignores
 * it) overrides them for one bucket or key prefix; its keys are locations, kept as written:
 *
 * ```yaml
 * storage:
 *   s3://replica-bucket:
 *     s3.endpoint: https://onefs-dr.example.com:9021
 *     s3.path-style-access: true
 * ```
 *
 * Keys are case-insensitive and catalog names are lower-cased, as PyIceberg does. Environment
 * variables override the file, PyIceberg's first and then this tool's own:
 * `PYICEBERG_CATALOG__DR__URI`, `ICEBERG_SYNC_CATALOG__DR__JDBC__USER` (after the prefix,
 * lower-cased; `__` separates name and key and, within the key, stands for `.`; `_` is `-`).
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.ts';
import type { StoragePrefixSettings } from '../storage/backend.ts';
import { backendForLocation } from '../storage/registry.ts';
import { scalar } from './config-schema.ts';
import type { GlueCatalogConfig } from './glue/index.ts';
import type { HadoopCatalogConfig } from './hadoop/index.ts';
import { CATALOG_TYPES, catalogTypeNames, orList, requireCatalogType } from './registry.ts';
import type { RestCatalogConfig } from './rest/index.ts';
import type { SqlCatalogConfig } from './sql/index.ts';

export type { GlueCatalogConfig } from './glue/index.ts';
export type { HadoopCatalogConfig } from './hadoop/index.ts';
export type { RestCatalogConfig } from './rest/index.ts';
export type { SqlCatalogConfig } from './sql/index.ts';

/** One catalog's configuration: one member per catalog type of the registry (`registry.ts`). */
export type CatalogConfig = SqlCatalogConfig | HadoopCatalogConfig | RestCatalogConfig | GlueCatalogConfig;

/** Storage settings for every path under one location (an entry of the `storage:` section). */
export type StoragePrefixConfig = StoragePrefixSettings;

/** A whole configuration file. */
export interface CatalogsConfig {
  /** By lower-cased name. */
  readonly catalogs: Readonly<Record<string, CatalogConfig>>;
  /** `default-catalog`, if set. */
  readonly defaultCatalog?: string;
  /** The `storage:` section: per-location storage settings, in file order. */
  readonly storage?: readonly StoragePrefixConfig[];
}

/** Options of {@link parseCatalogsConfig}. */
export interface ParseOptions {
  /** Environment to take overrides from (default `process.env`; pass `{}` for none). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Names the file in error messages. */
  readonly source?: string;
}

const ENV_PREFIXES = ['PYICEBERG_', 'ICEBERG_SYNC_'] as const;

type Raw = Record<string, unknown>;

function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Lower-cases keys recursively (PyIceberg's lookups are case-insensitive). */
function lowerKeys(v: unknown): unknown {
  if (!isObject(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.toLowerCase(), lowerKeys(x)]));
}

/** PyIceberg's split of an environment key: at most three parts, `__` → `.`, `_` → `-`. */
function envPath(key: string): string[] {
  const parts: string[] = [];
  let rest = key;
  while (parts.length < 2) {
    const at = rest.indexOf('__');
    if (at < 0) break;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 2);
  }
  parts.push(rest);
  return parts.map((p) => p.replaceAll('__', '.').replaceAll('_', '-'));
}

function applyEnv(doc: Raw, catalogsKey: string, env: Readonly<Record<string, string | undefined>>): void {
  for (const prefix of ENV_PREFIXES) {
    for (const [name, value] of Object.entries(env)) {
      if (value === undefined || !name.toUpperCase().startsWith(prefix)) continue;
      const path = envPath(name.slice(prefix.length).toLowerCase());
      if (path.length === 1 && path[0] === 'default-catalog') {
        doc['default-catalog'] = value;
      } else if (path.length === 3 && path[0] === 'catalog') {
        const catalogs = isObject(doc[catalogsKey]) ? (doc[catalogsKey] as Raw) : {};
        doc[catalogsKey] = catalogs;
        const entry = isObject(catalogs[path[1]!]) ? (catalogs[path[1]!] as Raw) : {};
        catalogs[path[1]!] = entry;
        entry[path[2]!] = value;
      }
      // Other PYICEBERG_* variables (PYICEBERG_HOME, ...) are not catalog settings.
    }
  }
}

/**
 * Nested settings as dotted keys: PyIceberg's YAML nests some (`ssl: {cabundle: ...}`,
 * `header: {x-client: ...}`) that are flat keys elsewhere (`ssl.cabundle`, `header.x-client`).
 */
function flattenSettings(raw: Raw, prefix = '', out: Raw = {}): Raw {
  for (const [k, v] of Object.entries(raw)) {
    if (isObject(v)) flattenSettings(v, `${prefix}${k}.`, out);
    else out[`${prefix}${k}`] = v;
  }
  return out;
}

function parseCatalog(where: string, nested: unknown): CatalogConfig {
  if (!isObject(nested)) throw new ConfigError(`${where}: must be a mapping of settings`);
  const raw = flattenSettings(nested);
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    const r = scalar.safeParse(v);
    if (!r.success) throw new ConfigError(`${where}.${k}: ${r.error.issues[0]?.message}`);
    properties[k] = String(r.data);
  }
  let type: string | undefined = properties.type?.toLowerCase();
  if (type === undefined) type = CATALOG_TYPES.find((t) => t.inferFrom?.(properties))?.type;
  if (type === undefined) throw new ConfigError(`${where}.type: required (${orList(catalogTypeNames())})`);
  // The descriptor's parse gives that type's member of the union.
  return requireCatalogType(type, `${where}.type`).parse(where, raw, properties) as CatalogConfig;
}

/** Parses a configuration document (YAML or JSON text), applying environment overrides. */
export function parseCatalogsConfig(yamlText: string, options: ParseOptions = {}): CatalogsConfig {
  const source = options.source ?? 'catalog config';
  let doc: unknown;
  try {
    doc = yamlText.trim() === '' ? {} : parseYaml(yamlText);
  } catch (err) {
    throw new ConfigError(`${source}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  if (doc !== null && doc !== undefined && !isObject(doc)) {
    throw new ConfigError(`${source}: must be a mapping with a 'catalog' key`);
  }
  // The storage section's keys are locations, whose case matters: take it out before lower-casing.
  const storageKey = Object.keys(doc ?? {}).find((k) => k.toLowerCase() === 'storage');
  const storage = storageKey === undefined ? [] : parseStorage(source, (doc as Raw)[storageKey]);
  if (storageKey !== undefined) delete (doc as Raw)[storageKey];
  doc = lowerKeys(doc ?? {});
  if (!isObject(doc)) throw new ConfigError(`${source}: must be a mapping with a 'catalog' key`);
  if ('catalog' in doc && 'catalogs' in doc) {
    throw new ConfigError(`${source}: has both 'catalog' and 'catalogs'; use one`);
  }
  const key = 'catalogs' in doc ? 'catalogs' : 'catalog';
  applyEnv(doc, key, options.env ?? process.env);
  const section = doc[key] ?? {};
  if (!isObject(section))
    throw new ConfigError(`${source}: ${key}: must be a mapping of catalog names to settings`);
  const catalogs: Record<string, CatalogConfig> = {};
  for (const [name, raw] of Object.entries(section)) {
    try {
      catalogs[name] = parseCatalog(`${key}.${name}`, raw);
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(`${source}: ${err.message}`);
      throw err;
    }
  }
  const dflt = doc['default-catalog'];
  if (dflt !== undefined && typeof dflt !== 'string')
    throw new ConfigError(`${source}: default-catalog: must be a string`);
  return {
    catalogs,
    ...(dflt !== undefined ? { defaultCatalog: dflt.toLowerCase() } : {}),
    ...(storage.length > 0 ? { storage } : {}),
  };
}

/** The `storage:` section: a mapping of locations (`scheme://authority[/prefix]`) to settings. */
function parseStorage(source: string, raw: unknown): StoragePrefixConfig[] {
  if (raw === null || raw === undefined) return [];
  if (!isObject(raw)) {
    throw new ConfigError(
      `${source}: storage: must be a mapping of locations (s3://bucket/prefix) to settings`,
    );
  }
  const out: StoragePrefixConfig[] = [];
  for (const [location, settings] of Object.entries(raw)) {
    const where = `${source}: storage.${location}`;
    if (!/^[a-zA-Z][a-zA-Z0-9+.-]+:\/\/[^/]+/.test(location)) {
      throw new ConfigError(`${where}: the key must be a location with a scheme and authority (s3://bucket)`);
    }
    // The backend's own check: a scheme none serves, or a malformed location, fails here.
    const backend = backendForLocation(location, where);
    try {
      backend.parseLocation(location);
    } catch (err) {
      throw new ConfigError(`${where}: ${(err as Error).message}`, { cause: err });
    }
    if (!isObject(settings)) throw new ConfigError(`${where}: must be a mapping of settings`);
    const properties: Record<string, string> = {};
    for (const [k, v] of Object.entries(settings)) {
      const r = scalar.safeParse(v);
      if (!r.success) throw new ConfigError(`${where}.${k}: ${r.error.issues[0]?.message}`);
      properties[k.toLowerCase()] = String(r.data);
    }
    out.push({ prefix: location.replace(/\/+$/, ''), properties });
  }
  return out;
}

/** Reads and parses a configuration file (see {@link parseCatalogsConfig}). */
export async function loadCatalogsConfig(
  file: string,
  options: Omit<ParseOptions, 'source'> = {},
): Promise<CatalogsConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read catalog config: ${(err as Error).message}`, { cause: err });
  }
  return parseCatalogsConfig(text, { ...options, source: file });
}

/**
 * The name of the catalog a command uses: `flag` (`--catalog`) when given; else the file's
 * `default-catalog`; else its only catalog; else `dr` (also without a file).
 */
export function selectCatalogName(config: CatalogsConfig | undefined, flag?: string): string {
  if (flag !== undefined) return flag;
  if (config?.defaultCatalog !== undefined) return config.defaultCatalog;
  const names = Object.keys(config?.catalogs ?? {});
  if (names.length === 1) return names[0]!;
  if (names.length > 1 && !names.includes('dr')) {
    throw new ConfigError(
      `name a catalog with --catalog (or default-catalog in the config): one of ${names.join(', ')}`,
    );
  }
  return 'dr';
}

/**
 * The configuration of catalog `name` (case-insensitive); without a name, `default-catalog`,
 * else the only catalog configured.
 */
export function catalogConfig(config: CatalogsConfig, name?: string): CatalogConfig {
  const names = Object.keys(config.catalogs);
  let wanted = name?.toLowerCase() ?? config.defaultCatalog;
  if (wanted === undefined) {
    if (names.length !== 1) {
      throw new ConfigError(
        `name a catalog: ${names.length === 0 ? 'none configured' : `one of ${names.join(', ')}`}`,
      );
    }
    wanted = names[0]!;
  }
  const found = config.catalogs[wanted];
  if (!found) {
    throw new ConfigError(
      `catalog '${wanted}' is not configured${names.length > 0 ? ` (configured: ${names.join(', ')})` : ''}`,
    );
  }
  return found;
}
