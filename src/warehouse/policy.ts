/**
 * The warehouse policy: which replicated warehouse is made usable at the DR site, into which
 * catalog, through which mapping, and which of its tables. It is a `replication:` section of the
 * same YAML file that holds the catalogs (PyIceberg ignores the section):
 *
 * ```yaml
 * catalog:
 *   dr: { uri: 'sqlite:////ifs/dr/catalog/iceberg.db', warehouse: /ifs/dr/iceberg }
 * replication:
 *   catalog: dr
 *   replicated-paths: [/ifs/dr/warehouse]
 *   map: ['hdfs://prod-nn:8020/warehouse=/ifs/dr/warehouse']
 *   include: ['sales.*', 'web.*']
 *   exclude: ['*.tmp_*']
 *   rpo: 1h
 *   tables:
 *     web.clicks: { mode: add-files, location: /ifs/dr/landing/clicks, settle: 5m }
 * ```
 *
 * Parsed with zod: an unknown key or a bad value fails with a {@link ConfigError} naming the file
 * and the key (`dr.yaml: replication.tables.web.clicks.settle: must be ...`). Paths are made
 * absolute against the working directory when the policy is loaded, as the command-line flags are.
 */
import { readFile } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  type CatalogConfig,
  type CatalogsConfig,
  catalogConfig,
  parseCatalogsConfig,
} from '../catalog/config.ts';
import { failWith } from '../catalog/config-schema.ts';
import { catalogTypeFor } from '../catalog/registry.ts';
import { ConfigError } from '../errors.ts';
import { duration, nonNegativeInt, oneOf, positiveInt } from '../options/values.ts';
import { toLocalPath } from '../storage/local/local.ts';
import { type PathMappingRule, parseMappingRule } from '../table/path-mapping.ts';

/** Sync modes a table can have. */
export const TABLE_MODES = ['rewrite', 'add-files'] as const;
export type TableMode = (typeof TABLE_MODES)[number];

/** Defaults of the policy's settings. */
export const POLICY_DEFAULTS = {
  /** Tables synced at once. */
  concurrency: 4,
  /** RPO threshold of `status`: one hour. */
  rpoMs: 3_600_000,
  /** add-files: files younger than this wait for the next run. */
  settleMs: 60_000,
  /** Lines kept in each table's run history. */
  historyLines: 1000,
} as const;

/** What the policy says about one table beyond the warehouse's defaults. */
export interface TableOverride {
  readonly mode?: TableMode;
  /** The replicated table directory (rewrite) or data directory (add-files), when not found by discovery. */
  readonly location?: string;
  /** The replicated metadata directory, when not `<location>/metadata` (`write.metadata.path`). */
  readonly metadataDir?: string;
  /** Mapping rules tried before the warehouse's. */
  readonly mappings: readonly PathMappingRule[];
  readonly metadataRoot?: string;
  readonly settleMs?: number;
  readonly rpoMs?: number;
  /** add-files: create the table on the first run, partitioned by these fields. */
  readonly create?: { readonly partitionBy: readonly string[]; readonly formatVersion?: 1 | 2 | 3 };
  /** add-files: globs of the files considered, below the data directory. */
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  /** Never sync this table, whatever the globs say. */
  readonly disabled?: boolean;
}

/** A loaded policy: everything a warehouse run needs to know. */
export interface WarehousePolicy {
  /** The configuration file it came from (for messages), if any. */
  readonly source?: string;
  /** The DR catalog's name and its configuration (paths absolute). */
  readonly catalogName: string;
  readonly catalog: CatalogConfig;
  /** The whole configuration file (its `storage:` section routes the replica's locations). */
  readonly config: CatalogsConfig;
  /** The replicated warehouse roots tables are discovered under. */
  readonly replicatedPaths: readonly string[];
  /** Mapping rules of every table (a table's own rules come first). */
  readonly mappings: readonly PathMappingRule[];
  /** Globs on `namespace.table`; a table is selected when one include and no exclude matches. */
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  /** Tables synced at once. */
  readonly concurrency: number;
  /** Files read and rewritten at once within one table (the engines' default when unset). */
  readonly fileConcurrency?: number;
  /** Metadata root template: `{namespace}` (dots as `/`), `{table}`; default `<catalog warehouse>/<ns>/<table>/metadata`. */
  readonly metadataRoot?: string;
  readonly rpoMs: number;
  readonly settleMs: number;
  readonly historyLines: number;
  readonly mode: TableMode;
  /** Per-table settings, by `namespace.table`. */
  readonly tables: Readonly<Record<string, TableOverride>>;
}

/** Flags given on the command line, over the file. */
export interface PolicyOverrides {
  /** `--replicated-path` (repeatable): replaces the file's roots. */
  readonly replicatedPaths?: readonly string[];
  /** `--map` (repeatable): tried before the file's rules. */
  readonly mappings?: readonly string[];
  /** `--include` / `--exclude`: replace the file's globs. */
  readonly include?: readonly string[];
  readonly exclude?: readonly string[];
  readonly concurrency?: number;
  /** `--catalog`. */
  readonly catalog?: string;
  /** `--warehouse`: the DR catalog's warehouse. */
  readonly warehouse?: string;
  /** `--metadata-root` template. */
  readonly metadataRoot?: string;
}

/** A local path made absolute (URIs with a scheme other than `file:` are kept). */
export function absolutePath(p: string): string {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(p) && !p.startsWith('file:')) return p;
  return nodePath.resolve(toLocalPath(p));
}

const globs = z.union([z.string().min(1), z.array(z.string().min(1))], {
  error: 'must be a glob or a list of globs',
});
const paths = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
  error: 'must be a path or a list of paths',
});
/** `['SRC=DST', ...]` or `{ SRC: DST }`. */
const mapRules = z.union([z.array(z.string()), z.record(z.string(), z.string())], {
  error: 'must be a list of SRC=DST rules or a mapping of source prefixes to targets',
});

const tableSchema = z.strictObject({
  mode: oneOf(TABLE_MODES).optional(),
  location: z.string().min(1).optional(),
  'metadata-dir': z.string().min(1).optional(),
  map: mapRules.optional(),
  'metadata-root': z.string().min(1).optional(),
  settle: duration({ allowZero: true }).optional(),
  rpo: duration().optional(),
  create: z
    .union([
      z.literal(true),
      z.strictObject({
        'partition-by': z.array(z.string()).optional(),
        'format-version': oneOf([1, 2, 3] as const).optional(),
      }),
    ])
    .optional(),
  include: globs.optional(),
  exclude: globs.optional(),
  disabled: z.boolean().optional(),
});

const policySchema = z.strictObject({
  catalog: z.string().min(1).optional(),
  'replicated-paths': paths.optional(),
  'replicated-path': paths.optional(),
  map: mapRules.optional(),
  include: globs.optional(),
  exclude: globs.optional(),
  concurrency: positiveInt.optional(),
  'file-concurrency': positiveInt.optional(),
  'metadata-root': z.string().min(1).optional(),
  mode: oneOf(TABLE_MODES).optional(),
  rpo: duration().optional(),
  settle: duration({ allowZero: true }).optional(),
  'history-lines': nonNegativeInt.optional(),
  tables: z.record(z.string(), tableSchema.nullable()).optional(),
});

type RawPolicy = z.output<typeof policySchema>;

const list = <T>(v: T | readonly T[] | undefined): T[] =>
  v === undefined ? [] : Array.isArray(v) ? [...v] : [v as T];

function rulesOf(where: string, raw: z.output<typeof mapRules> | undefined): PathMappingRule[] {
  if (raw === undefined) return [];
  const rules = Array.isArray(raw)
    ? raw.map((text, i) => {
        try {
          return parseMappingRule(text);
        } catch (err) {
          throw new ConfigError(`${where}[${i}]: ${(err as Error).message.replace(/^--map /, '')}`);
        }
      })
    : Object.entries(raw).map(([source, target]) => ({ source, target }));
  return rules.map((r) => ({ source: r.source, target: absolutePath(r.target) }));
}

/** `namespace.table`: at least two non-empty dot-separated parts. */
const TABLE_NAME = /^[^.\s]+(\.[^.\s]+)+$/;

/**
 * Parses a policy from a configuration document (its `replication:` section and its catalogs).
 * `source` names the file in messages.
 */
export async function parsePolicy(
  yamlText: string,
  overrides: PolicyOverrides = {},
  options: { source?: string; env?: Readonly<Record<string, string | undefined>> } = {},
): Promise<WarehousePolicy> {
  const source = options.source ?? 'configuration';
  const config = parseCatalogsConfig(yamlText, { source, ...(options.env ? { env: options.env } : {}) });
  let doc: unknown;
  try {
    doc = yamlText.trim() === '' ? {} : parseYaml(yamlText);
  } catch (err) {
    throw new ConfigError(`${source}: not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  const section = doc && typeof doc === 'object' ? (doc as Record<string, unknown>).replication : undefined;
  const r = policySchema.safeParse(section ?? {});
  if (!r.success) {
    try {
      failWith('replication', r.error.issues);
    } catch (err) {
      throw new ConfigError(`${source}: ${(err as Error).message}`);
    }
  }
  const raw: RawPolicy = r.data!;
  const at = (key: string) => `${source}: replication.${key}`;

  const tables: Record<string, TableOverride> = {};
  for (const [name, t] of Object.entries(raw.tables ?? {})) {
    if (!TABLE_NAME.test(name)) {
      throw new ConfigError(`${at(`tables.${name}`)}: a table is named namespace.table`);
    }
    const v = t ?? {};
    const create =
      v.create === undefined
        ? undefined
        : v.create === true
          ? { partitionBy: [] }
          : {
              partitionBy: v.create['partition-by'] ?? [],
              ...(v.create['format-version'] ? { formatVersion: v.create['format-version'] } : {}),
            };
    tables[name] = {
      ...(v.mode ? { mode: v.mode } : {}),
      ...(v.location ? { location: absolutePath(v.location) } : {}),
      ...(v['metadata-dir'] ? { metadataDir: absolutePath(v['metadata-dir']) } : {}),
      mappings: rulesOf(at(`tables.${name}.map`), v.map),
      ...(v['metadata-root'] ? { metadataRoot: absolutePath(v['metadata-root']) } : {}),
      ...(v.settle !== undefined ? { settleMs: v.settle } : {}),
      ...(v.rpo !== undefined ? { rpoMs: v.rpo } : {}),
      ...(create ? { create } : {}),
      ...(v.include !== undefined ? { include: list(v.include) } : {}),
      ...(v.exclude !== undefined ? { exclude: list(v.exclude) } : {}),
      ...(v.disabled !== undefined ? { disabled: v.disabled } : {}),
    };
    if ((v.mode ?? raw.mode) === 'add-files' && !v.location) {
      throw new ConfigError(
        `${at(`tables.${name}.location`)}: required for an add-files table (its replicated data directory)`,
      );
    }
  }

  if (raw['replicated-paths'] !== undefined && raw['replicated-path'] !== undefined) {
    throw new ConfigError(`${at('replicated-path')}: give replicated-paths or replicated-path, not both`);
  }
  const roots = overrides.replicatedPaths?.length
    ? [...overrides.replicatedPaths]
    : list(raw['replicated-paths'] ?? raw['replicated-path']);
  const explicitTables = Object.values(tables).some((t) => t.location);
  if (roots.length === 0 && !explicitTables) {
    throw new ConfigError(
      `${at('replicated-paths')}: required (or --replicated-path): the replicated warehouse root(s) to discover tables under`,
    );
  }

  let mappings: PathMappingRule[];
  try {
    mappings = [
      ...(overrides.mappings ?? []).map((t) => {
        const m = parseMappingRule(t);
        return { source: m.source, target: absolutePath(m.target) };
      }),
      ...rulesOf(at('map'), raw.map),
    ];
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError((err as Error).message);
  }

  // The DR catalog: --catalog, else replication.catalog, else as every command chooses.
  const wanted = overrides.catalog ?? raw.catalog;
  let catalogName: string;
  let configured: CatalogConfig | undefined;
  if (Object.keys(config.catalogs).length > 0 || wanted !== undefined) {
    try {
      configured = catalogConfig(config, wanted ?? selectDefault(config));
    } catch (err) {
      throw new ConfigError(`${source}: ${(err as Error).message}`);
    }
    catalogName = (wanted ?? selectDefault(config) ?? '').toLowerCase();
  } else {
    catalogName = 'dr';
  }
  const type = catalogTypeFor(configured?.type ?? 'sql');
  if (!type) throw new ConfigError(`${source}: unsupported catalog type '${configured?.type}'`);
  const warehouse = overrides.warehouse ?? configured?.warehouse;
  const catalog = (await type.fromFlags(
    // A REST catalog's warehouse is a name for the server, kept as written.
    warehouse ? { warehouse: type.warehouseIsName ? warehouse : absolutePath(warehouse) } : {},
    configured,
  )) as CatalogConfig;

  const template = overrides.metadataRoot ?? raw['metadata-root'];
  if (catalog.type === 'hadoop') {
    // The Hadoop layout is the catalog: metadata lives at <warehouse>/<ns>/<table>/metadata.
    const own = Object.entries(tables).find(([, t]) => t.metadataRoot);
    if (template || own) {
      throw new ConfigError(
        `${at(own && !template ? `tables.${own[0]}.metadata-root` : 'metadata-root')}: a hadoop catalog keeps metadata in its warehouse; drop it or use a sql catalog`,
      );
    }
  }
  return {
    ...(options.source ? { source: options.source } : {}),
    catalogName,
    catalog,
    config,
    replicatedPaths: roots.map(absolutePath),
    mappings,
    include: overrides.include?.length ? [...overrides.include] : list(raw.include ?? '*'),
    exclude: overrides.exclude?.length ? [...overrides.exclude] : list(raw.exclude),
    concurrency: overrides.concurrency ?? raw.concurrency ?? POLICY_DEFAULTS.concurrency,
    ...(raw['file-concurrency'] ? { fileConcurrency: raw['file-concurrency'] } : {}),
    ...(template ? { metadataRoot: absolutePath(template) } : {}),
    rpoMs: raw.rpo ?? POLICY_DEFAULTS.rpoMs,
    settleMs: raw.settle ?? POLICY_DEFAULTS.settleMs,
    historyLines: raw['history-lines'] ?? POLICY_DEFAULTS.historyLines,
    mode: raw.mode ?? 'rewrite',
    tables,
  };
}

/** The catalog a policy uses when it names none: the file's default, else its only one. */
function selectDefault(config: CatalogsConfig): string | undefined {
  if (config.defaultCatalog) return config.defaultCatalog;
  const names = Object.keys(config.catalogs);
  if (names.length === 1) return names[0];
  if (names.includes('dr')) return 'dr';
  return undefined;
}

/**
 * Loads the policy of a configuration file (`--config`, or ICEBERG_SYNC_CONFIG), with the
 * command line's flags over it. Without a file, the flags alone make the policy
 * (`--replicated-path`, `--warehouse`, ...).
 */
export async function loadPolicy(
  configFile: string | undefined,
  overrides: PolicyOverrides = {},
): Promise<WarehousePolicy> {
  const file = configFile ?? process.env.ICEBERG_SYNC_CONFIG;
  if (!file) return parsePolicy('', overrides, { source: 'command line' });
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read the configuration: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parsePolicy(text, overrides, { source: file });
}

/** The settings that apply to one table: its override over the warehouse's. */
export interface TableSettings {
  readonly mode: TableMode;
  readonly mappings: readonly PathMappingRule[];
  readonly metadataRoot: string;
  readonly settleMs: number;
  readonly rpoMs: number;
  readonly override?: TableOverride;
}

/** The metadata root of a table: its override, the policy's template, or the catalog warehouse's. */
export function metadataRootFor(policy: WarehousePolicy, namespace: readonly string[], name: string): string {
  const key = [...namespace, name].join('.');
  const own = policy.tables[key]?.metadataRoot;
  if (own) return own;
  const nsPath = namespace.join('/');
  if (policy.metadataRoot) {
    const t = policy.metadataRoot;
    const filled = t.replaceAll('{namespace}', nsPath).replaceAll('{table}', name);
    return filled === t ? `${t.replace(/\/+$/, '')}/${nsPath}/${name}/metadata` : filled;
  }
  // A warehouse that is a name for a catalog service (REST) is no place on storage.
  const wh = catalogTypeFor(policy.catalog.type)?.warehouseIsName ? undefined : policy.catalog.warehouse;
  if (!wh) {
    throw new ConfigError(
      `${policy.source ?? 'configuration'}: no place for ${key}'s rewritten metadata: give replication.metadata-root or a catalog warehouse`,
    );
  }
  return `${absolutePath(wh).replace(/\/+$/, '')}/${nsPath}/${name}/metadata`;
}

/** Everything that applies to table `namespace.name`. */
export function tableSettings(
  policy: WarehousePolicy,
  namespace: readonly string[],
  name: string,
): TableSettings {
  const key = [...namespace, name].join('.');
  const override = policy.tables[key];
  return {
    mode: override?.mode ?? policy.mode,
    mappings: [...(override?.mappings ?? []), ...policy.mappings],
    metadataRoot: metadataRootFor(policy, namespace, name),
    settleMs: override?.settleMs ?? policy.settleMs,
    rpoMs: override?.rpoMs ?? policy.rpoMs,
    ...(override ? { override } : {}),
  };
}
