/** The SQL catalog type (`sql`, alias `jdbc`): JdbcCatalog's and PyIceberg's tables, on SQLite or PostgreSQL. */
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import type { CatalogConfigBase, CatalogType } from '../catalog-type.ts';
import { bool, parseWith, positiveInt, text } from '../config-schema.ts';
import { parseSqlUri, SqlCatalog } from './sql.ts';

export type { SqlCatalogOptions, SqlSchemaVersion, SqlTarget } from './sql.ts';
export { parseSqlUri, redactUri, SQL_CATALOG_DDL, SqlCatalog } from './sql.ts';
export type { SqlDriver, SqlExecutor, SqliteDriverOptions, SqlRow, SqlValue } from './sql-driver.ts';
export { NodeSqliteDriver, PgDriver } from './sql-driver.ts';

/** A `type: sql` catalog (JdbcCatalog / PyIceberg SqlCatalog). */
export interface SqlCatalogConfig extends CatalogConfigBase {
  readonly type: 'sql';
  readonly uri: string;
  /** `jdbc.user` / `jdbc.password`, as JdbcCatalog takes them. */
  readonly user?: string;
  readonly password?: string;
  /** `busy-timeout-ms`: SQLite lock wait. */
  readonly busyTimeoutMs?: number;
  /** `init_catalog_tables` (PyIceberg) or `jdbc.init-catalog-tables` (Java); default true. */
  readonly initTables: boolean;
}

const SQL_URI = /^(sqlite|postgres|jdbc:)/i;

/** The settings of a SQL catalog. */
export const sqlCatalogSchema = z.object({
  uri: text().refine((u) => SQL_URI.test(u), {
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

/** The SQL catalog type's descriptor. */
export const sqlCatalogType: CatalogType<SqlCatalogConfig> = {
  type: 'sql',
  aliases: ['jdbc'],
  description: "JdbcCatalog's and PyIceberg's SqlCatalog tables, on SQLite or PostgreSQL",
  schema: sqlCatalogSchema,
  // PyIceberg infers the type from the URI scheme too.
  inferFrom: (properties) => properties.uri !== undefined && SQL_URI.test(properties.uri),
  parse(where, raw, properties) {
    const d = parseWith(where, sqlCatalogSchema, raw);
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
  },
  async fromFlags(flags, configured) {
    const base = configured?.type === 'sql' ? (configured as SqlCatalogConfig) : undefined;
    const warehouse = flags.warehouse;
    let uri = flags.uri ?? base?.uri;
    if (!uri) {
      if (!warehouse) {
        throw new ConfigError(
          'name a catalog: --config FILE with --catalog NAME, or --warehouse DIR for the embedded SQLite catalog',
        );
      }
      if (/^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(warehouse) && !warehouse.startsWith('file:')) {
        throw new ConfigError(
          `the embedded SQLite catalog lives in a local --warehouse, not ${warehouse}; give --catalog-uri (or a configured catalog's uri)`,
        );
      }
      // The embedded default: a SQLite catalog file in the warehouse (its directory is created
      // by the caller, after the replica guard has cleared it).
      uri = `sqlite:///${warehouse}/iceberg_catalog.db`;
    }
    return {
      type: 'sql',
      uri,
      initTables: base?.initTables ?? true,
      properties: base?.properties ?? {},
      ...(warehouse ? { warehouse } : {}),
      ...(base?.busyTimeoutMs !== undefined ? { busyTimeoutMs: base.busyTimeoutMs } : {}),
      ...(base?.user ? { user: base.user } : {}),
      ...(base?.password ? { password: base.password } : {}),
      ...(base?.catalogName ? { catalogName: base.catalogName } : {}),
    };
  },
  writesTo(config) {
    const target = parseSqlUri(config.uri);
    return target.dialect === 'sqlite' && target.file !== ':memory:'
      ? [{ what: 'SQLite catalog file', path: target.file }]
      : [];
  },
  open: (name, config, storageFor, options) =>
    SqlCatalog.open({
      name,
      uri: config.uri,
      user: config.user,
      password: config.password,
      busyTimeoutMs: config.busyTimeoutMs,
      initTables: config.initTables,
      storageFor,
      cwd: options.cwd,
      readOnly: options.readOnly,
    }),
};
