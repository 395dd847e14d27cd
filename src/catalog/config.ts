/**
 * Catalog configuration, in the shape of PyIceberg's `.pyiceberg.yaml`, so that one file can
 * serve both tools:
 *
 * ```yaml
 * catalog:            # `catalogs` is accepted too
 *   dr:
 *     type: sql       # or jdbc; hadoop (alias file)
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
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import type { StoragePrefixSettings } from '../storage/backend.ts';
import { backendForLocation } from '../storage/registry.ts';

/** A `type: sql` catalog (JdbcCatalog / PyIceberg SqlCatalog). */
export interface SqlCatalogConfig {
  readonly type: 'sql';
  /** The `catalog_name` the rows carry, when it differs from the (lower-cased) config key. */
  readonly catalogName?: string;
  readonly uri: string;
  readonly warehouse?: string;
  /** `jdbc.user` / `jdbc.password`, as JdbcCatalog takes them. */
  readonly user?: string;
  readonly password?: string;
  /** `busy-timeout-ms`: SQLite lock wait. */
  readonly busyTimeoutMs?: number;
  /** `init_catalog_tables` (PyIceberg) or `jdbc.init-catalog-tables` (Java); default true. */
  readonly initTables: boolean;
  /** Every key as given (lower-cased), for settings other modules read (e.g. `s3.*`). */
  readonly properties: Readonly<Record<string, string>>;
}

/** A `type: hadoop` catalog. */
export interface HadoopCatalogConfig {
  readonly type: 'hadoop';
  readonly catalogName?: string;
  readonly warehouse: string;
  readonly properties: Readonly<Record<string, string>>;
}

/** One catalog's configuration. */
export type CatalogConfig = SqlCatalogConfig | HadoopCatalogConfig;

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

const TYPE_ALIASES: Record<string, 'sql' | 'hadoop'> = {
  sql: 'sql',
  jdbc: 'sql',
  hadoop: 'hadoop',
  file: 'hadoop',
};

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

const text = () =>
  z
    .string({ error: (iss) => (iss.input === undefined ? 'required' : 'must be a string') })
    .min(1, 'must not be empty');
const scalar = z.union([z.string(), z.number(), z.boolean()], {
  error: 'must be a string, number or boolean',
});
const bool = z.union(
  [
    z.boolean(),
    z
      .string()
      .regex(/^(true|false|yes|no|1|0)$/i)
      .transform((s) => /^(true|yes|1)$/i.test(s)),
  ],
  { error: 'must be true or false' },
);
const positiveInt = z.coerce
  .number({ error: 'must be a number' })
  .int('must be a whole number')
  .positive('must be positive');

const sqlSchema = z.object({
  uri: text().refine((u) => /^(sqlite|postgres|jdbc:)/i.test(u), {
    error: 'must be a sqlite:///, jdbc:sqlite:, postgresql:// or jdbc:postgresql:// URI',
  }),
  warehouse: text().optional(),
  'jdbc.user': z.string().optional(),
  'jdbc.password': z.string().optional(),
  'busy-timeout-ms': positiveInt.optional(),
  init_catalog_tables: bool.optional(),
  'init-catalog-tables': bool.optional(),
  'jdbc.init-catalog-tables': bool.optional(),
  'catalog-name': text().optional(),
});

const hadoopSchema = z.object({
  warehouse: text().refine((w) => w.startsWith('/') || /^[a-z][a-z0-9+.-]+:/i.test(w), {
    error: 'must be an absolute path or a URI',
  }),
  'catalog-name': text().optional(),
});

function fail(where: string, issues: readonly z.core.$ZodIssue[]): never {
  const lines = issues.map((i) => {
    const path = i.path.length > 0 ? `${where}.${i.path.join('.')}` : where;
    return `${path}: ${i.message}`;
  });
  throw new ConfigError(lines.join('; '));
}

function parseCatalog(where: string, raw: unknown): CatalogConfig {
  if (!isObject(raw)) throw new ConfigError(`${where}: must be a mapping of settings`);
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    const r = scalar.safeParse(v);
    if (!r.success) throw new ConfigError(`${where}.${k}: ${r.error.issues[0]?.message}`);
    properties[k] = String(r.data);
  }
  let type: string | undefined = properties.type?.toLowerCase();
  if (
    type === undefined &&
    properties.uri !== undefined &&
    /^(sqlite|postgres|jdbc:)/i.test(properties.uri)
  ) {
    type = 'sql'; // PyIceberg infers the type from the URI scheme too
  }
  if (type === undefined) throw new ConfigError(`${where}.type: required (sql, jdbc, hadoop or file)`);
  const kind = TYPE_ALIASES[type];
  if (!kind) {
    throw new ConfigError(
      `${where}.type: unsupported catalog type '${type}' (expected sql, jdbc, hadoop or file)`,
    );
  }
  if (kind === 'hadoop') {
    const r = hadoopSchema.safeParse(raw);
    if (!r.success) fail(where, r.error.issues);
    return {
      type: 'hadoop',
      warehouse: r.data.warehouse,
      ...(r.data['catalog-name'] ? { catalogName: r.data['catalog-name'] } : {}),
      properties,
    };
  }
  const r = sqlSchema.safeParse(raw);
  if (!r.success) fail(where, r.error.issues);
  const d = r.data;
  const init = d['jdbc.init-catalog-tables'] ?? d.init_catalog_tables ?? d['init-catalog-tables'] ?? true;
  return {
    type: 'sql',
    uri: d.uri,
    initTables: init,
    properties,
    ...(d['catalog-name'] ? { catalogName: d['catalog-name'] } : {}),
    ...(d.warehouse !== undefined ? { warehouse: d.warehouse } : {}),
    ...(d['jdbc.user'] !== undefined ? { user: d['jdbc.user'] } : {}),
    ...(d['jdbc.password'] !== undefined ? { password: d['jdbc.password'] } : {}),
    ...(d['busy-timeout-ms'] !== undefined ? { busyTimeoutMs: d['busy-timeout-ms'] } : {}),
  };
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
