/**
 * A SQL catalog that shares its database with Apache Iceberg's `JdbcCatalog` (Java: Spark,
 * Flink, Trino) and PyIceberg's `SqlCatalog`, on SQLite or PostgreSQL.
 *
 * Both keep two tables. `iceberg_tables` has one row per table (or view) with the current and
 * previous metadata location; `iceberg_namespace_properties` has one row per namespace
 * property. Namespaces are dot-joined strings (`ns1.ns2`), the table name is separate.
 *
 * The `iceberg_type` column ('TABLE' or 'VIEW') is JdbcCatalog's schema V1 (Iceberg 1.5+);
 * PyIceberg neither creates nor reads it. Compatibility, from their sources:
 * - JdbcCatalog switches to V1 by itself whenever the column exists, and treats NULL as
 *   'TABLE' (so rows PyIceberg inserts stay tables for Java). Without the column it runs in V0
 *   mode (no views) unless told `jdbc.schema-version=V1`, which adds the column.
 * - PyIceberg maps only its five columns, so an extra nullable `iceberg_type` is invisible to
 *   it; its inserts leave it NULL.
 * We create the V1 form when the tables are missing and use whichever form we find, never
 * altering an existing schema.
 */
import { existsSync } from 'node:fs';
import * as nodePath from 'node:path';
import { CommitConflictError, ConfigError } from '../../errors.ts';
import type { StorageResolver } from '../../storage/router.ts';
import type { Storage } from '../../storage/storage.ts';
import { redactUrl } from '../../util/redact.ts';
import {
  type Catalog,
  formatIdentifier,
  type LoadedTable,
  type TableIdentifier,
  validateIdentifier,
  validateNamespace,
} from '../catalog.ts';
import { commitPointerSwap } from '../metadata-file.ts';
import {
  NodeSqliteDriver,
  PgDriver,
  type SqlDriver,
  type SqlExecutor,
  type SqlRow,
  type SqlValue,
} from './sql-driver.ts';

/**
 * The tables as JdbcCatalog creates them (its V0 DDL plus the V1 `iceberg_type` column, which
 * Java adds with `ALTER TABLE ... ADD COLUMN iceberg_type VARCHAR(5)`). PyIceberg's DDL for the
 * properties table differs only in declaring `property_key`/`property_value` NOT NULL; neither
 * engine writes NULL there, so the two are interchangeable.
 */
export const SQL_CATALOG_DDL: readonly string[] = [
  'CREATE TABLE IF NOT EXISTS iceberg_tables (' +
    'catalog_name VARCHAR(255) NOT NULL, ' +
    'table_namespace VARCHAR(255) NOT NULL, ' +
    'table_name VARCHAR(255) NOT NULL, ' +
    'metadata_location VARCHAR(1000), ' +
    'previous_metadata_location VARCHAR(1000), ' +
    'iceberg_type VARCHAR(5), ' +
    'PRIMARY KEY (catalog_name, table_namespace, table_name))',
  'CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (' +
    'catalog_name VARCHAR(255) NOT NULL, ' +
    'namespace VARCHAR(255) NOT NULL, ' +
    'property_key VARCHAR(255), ' +
    'property_value VARCHAR(1000), ' +
    'PRIMARY KEY (catalog_name, namespace, property_key))',
];

/** The two schema forms: V0 lacks `iceberg_type` (PyIceberg, older Java), V1 has it. */
export type SqlSchemaVersion = 'V0' | 'V1';

/** A parsed catalog URI. */
export type SqlTarget =
  | { readonly dialect: 'sqlite'; readonly file: string }
  | { readonly dialect: 'postgres'; readonly connectionString: string; readonly label: string };

/** Hides the password of `scheme://user:password@host` URIs (and `password=` parameters) in messages. */
export function redactUri(uri: string): string {
  return redactUrl(uri);
}

/**
 * Parses the URI forms PyIceberg (SQLAlchemy) and Java (JDBC) configurations use:
 * `sqlite:////abs/file.db`, `sqlite:///relative.db` (relative to `cwd`, as SQLAlchemy does),
 * `sqlite://` (in memory), `jdbc:sqlite:/abs/file.db`, `postgresql://user:pass@host:port/db`
 * (also `postgres://` and `postgresql+psycopg2://`-style driver suffixes) and
 * `jdbc:postgresql://host:port/db?user=..&password=..`. SQLite query parameters are ignored.
 */
export function parseSqlUri(uri: string, cwd: string = process.cwd()): SqlTarget {
  const sqlite = /^sqlite(\+[a-z0-9_]+)?:\/\/(.*)$/i.exec(uri);
  if (sqlite) {
    const rest = (sqlite[2] ?? '').split('?')[0] ?? '';
    if (rest === '' || rest === '/:memory:') return { dialect: 'sqlite', file: ':memory:' };
    if (!rest.startsWith('/'))
      throw new ConfigError(`bad sqlite uri '${redactUri(uri)}': expected sqlite:///<path>`);
    const path = rest.slice(1); // sqlite:////abs -> /abs, sqlite:///rel -> rel
    return { dialect: 'sqlite', file: nodePath.resolve(cwd, path) };
  }
  const jdbcSqlite = /^jdbc:sqlite:(.*)$/i.exec(uri);
  if (jdbcSqlite) {
    let path = (jdbcSqlite[1] ?? '').split('?')[0] ?? '';
    if (path === ':memory:' || path === '') return { dialect: 'sqlite', file: ':memory:' };
    if (path.startsWith('file:')) path = path.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    return { dialect: 'sqlite', file: nodePath.resolve(cwd, path) };
  }
  const pg = /^(?:jdbc:)?postgres(?:ql)?(?:\+[a-z0-9_]+)?:\/\/(.*)$/i.exec(uri);
  if (pg) {
    const connectionString = `postgresql://${pg[1] ?? ''}`;
    let label: string;
    try {
      const u = new URL(connectionString);
      label = `postgres ${u.host}${u.pathname}`;
    } catch {
      throw new ConfigError(`bad postgresql uri '${redactUri(uri)}'`);
    }
    return { dialect: 'postgres', connectionString, label };
  }
  throw new ConfigError(
    `unsupported SQL catalog uri '${redactUri(uri)}' (expected sqlite:///, jdbc:sqlite:, postgresql:// or jdbc:postgresql://)`,
  );
}

/** Options of {@link SqlCatalog.open}. */
export interface SqlCatalogOptions {
  /** The catalog name: the `catalog_name` column, as Spark/PyIceberg are configured with. */
  readonly name: string;
  /** See {@link parseSqlUri}. */
  readonly uri: string;
  /** PostgreSQL credentials when not in the URI (JdbcCatalog's `jdbc.user`/`jdbc.password`). */
  readonly user?: string;
  readonly password?: string;
  /** SQLite lock wait (default 5000 ms). */
  readonly busyTimeoutMs?: number;
  /** Create the tables when missing (default true; PyIceberg's `init_catalog_tables`). */
  readonly initTables?: boolean;
  /** Resolves storage for writing metadata files passed to {@link SqlCatalog.commitTable}. */
  readonly storageFor?: StorageResolver;
  /** Base for relative SQLite paths (default the working directory). */
  readonly cwd?: string;
  /**
   * Read only (dry runs, verify): nothing is created — no SQLite file, no tables. A missing
   * SQLite file or missing catalog tables mean that no table is registered; commits are refused.
   */
  readonly readOnly?: boolean;
}

type TableRow = SqlRow & { metadata_location: string | null; iceberg_type?: string | null };

const TABLES_WHERE = 'catalog_name = ? AND table_namespace = ? AND table_name = ?';
const IS_TABLE = "(iceberg_type = 'TABLE' OR iceberg_type IS NULL)";

/** Escapes LIKE wildcards with `!`, as JdbcCatalog and PyIceberg do. */
function likePrefix(namespace: string): string {
  return `${namespace.replace(/[!_%]/g, (c) => `!${c}`)}.%`;
}

/** The JdbcCatalog/PyIceberg-compatible SQL catalog. */
export class SqlCatalog implements Catalog {
  readonly name: string;
  /** The schema form found (or created) at open. */
  readonly schemaVersion: SqlSchemaVersion;
  readonly #driver: SqlDriver;
  readonly #storageFor: StorageResolver | undefined;

  private constructor(
    name: string,
    driver: SqlDriver,
    schemaVersion: SqlSchemaVersion,
    storageFor?: StorageResolver,
  ) {
    this.name = name;
    this.#driver = driver;
    this.schemaVersion = schemaVersion;
    this.#storageFor = storageFor;
  }

  /** Connects to the database named by `options.uri` and checks (or creates) the tables. */
  static async open(options: SqlCatalogOptions): Promise<SqlCatalog> {
    const target = parseSqlUri(options.uri, options.cwd);
    let driver: SqlDriver;
    if (target.dialect === 'sqlite') {
      const readOnly = options.readOnly === true && target.file !== ':memory:';
      // Read only and no file yet: an empty private database stands in, so nothing is created.
      const file = readOnly && !existsSync(target.file) ? ':memory:' : target.file;
      driver = new NodeSqliteDriver(file, {
        busyTimeoutMs: options.busyTimeoutMs,
        readOnly: readOnly && file !== ':memory:',
      });
    } else {
      driver = await PgDriver.connect(
        {
          connectionString: target.connectionString,
          ...(options.user !== undefined ? { user: options.user } : {}),
          ...(options.password !== undefined ? { password: options.password } : {}),
        },
        target.label,
      );
    }
    try {
      return await SqlCatalog.openWith(options.name, driver, options);
    } catch (err) {
      await driver.close().catch(() => {});
      throw err;
    }
  }

  /** Uses an open driver (which the catalog then owns and closes). */
  static async openWith(
    name: string,
    driver: SqlDriver,
    options: Pick<SqlCatalogOptions, 'initTables' | 'storageFor' | 'readOnly'> = {},
  ): Promise<SqlCatalog> {
    if (name === '') throw new ConfigError('SQL catalog name is empty');
    const readOnly = options.readOnly ?? false;
    const version = await prepareSchema(driver, !readOnly && (options.initTables ?? true), readOnly);
    const catalog = new SqlCatalog(name, driver, version ?? 'V0', options.storageFor);
    catalog.#readOnly = readOnly;
    catalog.#empty = version === undefined;
    return catalog;
  }

  /** Opened read only: commits are refused. */
  #readOnly = false;
  /** Read only and without catalog tables: no table is registered. */
  #empty = false;

  #assertWritable(): void {
    if (this.#readOnly) throw new ConfigError(`catalog '${this.name}' is open read-only (a dry run)`);
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable | undefined> {
    validateIdentifier(id);
    if (this.#empty) return undefined;
    const row = await this.#row(this.#driver, id, true);
    return row?.metadata_location ? { metadataLocation: row.metadata_location } : undefined;
  }

  /** Any location will do for a SQL catalog. */
  nextMetadataLocation(): undefined {
    return undefined;
  }

  async commitTable(
    id: TableIdentifier,
    expected: string | undefined,
    newMetadataLocation: string,
    metadataJson?: Uint8Array,
  ): Promise<string> {
    validateIdentifier(id);
    this.#assertWritable();
    const write = metadataJson
      ? { storage: this.#storage(newMetadataLocation), bytes: metadataJson }
      : undefined;
    return commitPointerSwap(newMetadataLocation, write, async () => {
      await this.#swap(id, expected, newMetadataLocation);
      return newMetadataLocation;
    });
  }

  async ensureNamespace(namespace: readonly string[]): Promise<void> {
    validateNamespace(namespace);
    this.#assertWritable();
    const ns = namespace.join('.');
    if (await this.namespaceExists(namespace)) return;
    // JdbcCatalog and PyIceberg both record a namespace without properties as exists=true.
    await this.#driver.execute(
      'INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value) ' +
        "VALUES (?, ?, 'exists', 'true') ON CONFLICT DO NOTHING",
      [this.name, ns],
    );
  }

  /**
   * The namespaces directly below `parent`, as JdbcCatalog lists them: every namespace named by a
   * table row or a property row, at that level or deeper (cut to one level below `parent`).
   */
  async listNamespaces(parent: readonly string[] = []): Promise<string[][]> {
    if (parent.length > 0) validateNamespace(parent);
    const ns = parent.join('.');
    const filter = (column: string) =>
      parent.length > 0 ? ` AND (${column} = ? OR ${column} LIKE ? ESCAPE '!')` : '';
    const params = parent.length > 0 ? [this.name, ns, likePrefix(ns)] : [this.name];
    const names = new Set<string>();
    for (const [table, column] of [
      ['iceberg_tables', 'table_namespace'],
      ['iceberg_namespace_properties', 'namespace'],
    ] as const) {
      const rows = await this.#driver.query<{ ns: string }>(
        `SELECT DISTINCT ${column} AS ns FROM ${table} WHERE catalog_name = ?${filter(column)}`,
        params,
      );
      for (const r of rows) names.add(String(r.ns));
    }
    const below = new Map<string, string[]>();
    for (const name of names) {
      const levels = name.split('.');
      if (levels.length <= parent.length) continue; // the parent itself
      const child = levels.slice(0, parent.length + 1);
      below.set(child.join('.'), child);
    }
    return [...below.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  }

  /** The tables of `namespace` (views excluded), by name. */
  async listTables(namespace: readonly string[]): Promise<TableIdentifier[]> {
    validateNamespace(namespace);
    const typeFilter = this.schemaVersion === 'V1' ? ` AND ${IS_TABLE}` : '';
    const rows = await this.#driver.query<{ table_name: string }>(
      `SELECT table_name FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ?${typeFilter}`,
      [this.name, namespace.join('.')],
    );
    return rows
      .map((r) => String(r.table_name))
      .sort()
      .map((name) => ({ namespace: [...namespace], name }));
  }

  /**
   * Whether JdbcCatalog/PyIceberg consider the namespace to exist: a table in it or below it,
   * or a property row for it or below it.
   */
  async namespaceExists(namespace: readonly string[]): Promise<boolean> {
    if (this.#empty) return false;
    const ns = namespace.join('.');
    const params = [this.name, ns, likePrefix(ns)];
    const inTables = await this.#driver.query(
      "SELECT 1 AS found FROM iceberg_tables WHERE catalog_name = ? AND (table_namespace = ? OR table_namespace LIKE ? ESCAPE '!') LIMIT 1",
      params,
    );
    if (inTables.length > 0) return true;
    const inProps = await this.#driver.query(
      "SELECT 1 AS found FROM iceberg_namespace_properties WHERE catalog_name = ? AND (namespace = ? OR namespace LIKE ? ESCAPE '!') LIMIT 1",
      params,
    );
    return inProps.length > 0;
  }

  /** Unregisters the table (its files stay). */
  async dropTable(id: TableIdentifier): Promise<boolean> {
    validateIdentifier(id);
    this.#assertWritable();
    const typeFilter = this.schemaVersion === 'V1' ? ` AND ${IS_TABLE}` : '';
    const { changes } = await this.#driver.execute(
      `DELETE FROM iceberg_tables WHERE ${TABLES_WHERE}${typeFilter}`,
      this.#key(id),
    );
    return changes > 0;
  }

  async close(): Promise<void> {
    await this.#driver.close();
  }

  #key(id: TableIdentifier): SqlValue[] {
    return [this.name, id.namespace.join('.'), id.name];
  }

  async #row(on: SqlExecutor, id: TableIdentifier, tablesOnly: boolean): Promise<TableRow | undefined> {
    const v1 = this.schemaVersion === 'V1';
    const cols = v1 ? 'metadata_location, iceberg_type' : 'metadata_location';
    const typeFilter = v1 && tablesOnly ? ` AND ${IS_TABLE}` : '';
    const rows = await on.query<TableRow>(
      `SELECT ${cols} FROM iceberg_tables WHERE ${TABLES_WHERE}${typeFilter}`,
      this.#key(id),
    );
    return rows[0];
  }

  async #swap(id: TableIdentifier, expected: string | undefined, next: string): Promise<void> {
    const v1 = this.schemaVersion === 'V1';
    let changes: number;
    if (expected === undefined) {
      // ON CONFLICT DO NOTHING (SQLite >= 3.24, PostgreSQL >= 9.5) reports a lost race as
      // zero rows instead of a dialect-specific constraint error.
      const sql = v1
        ? 'INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type) ' +
          "VALUES (?, ?, ?, ?, NULL, 'TABLE') ON CONFLICT DO NOTHING"
        : 'INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location) ' +
          'VALUES (?, ?, ?, ?, NULL) ON CONFLICT DO NOTHING';
      ({ changes } = await this.#driver.execute(sql, [...this.#key(id), next]));
    } else {
      // The compare-and-swap JdbcCatalog and PyIceberg use: the UPDATE matches only while the
      // row still holds the location we read.
      const sql =
        'UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? ' +
        `WHERE ${TABLES_WHERE} AND metadata_location = ?${v1 ? ` AND ${IS_TABLE}` : ''}`;
      ({ changes } = await this.#driver.execute(sql, [next, expected, ...this.#key(id), expected]));
    }
    if (changes === 1) return;
    throw new CommitConflictError(await this.#conflictMessage(id, expected));
  }

  async #conflictMessage(id: TableIdentifier, expected: string | undefined): Promise<string> {
    const fq = `${this.name}.${formatIdentifier(id)}`;
    const row = await this.#row(this.#driver, id, false);
    if (row?.iceberg_type === 'VIEW') return `${fq}: a view of that name exists`;
    if (expected === undefined)
      return `${fq}: already registered (at ${row?.metadata_location ?? 'no location'})`;
    if (!row) return `${fq}: not registered (expected at ${expected})`;
    return `${fq}: metadata location is ${row.metadata_location ?? 'unset'}, expected ${expected}`;
  }

  /** The storage that receives a metadata file this catalog writes. */
  #storage(location: string): Storage {
    if (!this.#storageFor) throw new ConfigError(`catalog '${this.name}': no storage to write ${location}`);
    return this.#storageFor(location);
  }
}

/** Column names of a table, lower-cased; empty when the table does not exist. */
async function columnsOf(driver: SqlDriver, table: string): Promise<Set<string>> {
  const sql =
    driver.dialect === 'sqlite'
      ? 'SELECT name FROM pragma_table_info(?)'
      : // to_regclass resolves the name through search_path, as the unqualified statements do.
        'SELECT attname AS name FROM pg_attribute WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped';
  const rows = await driver.query<{ name: string }>(sql, [table]);
  return new Set(rows.map((r) => String(r.name).toLowerCase()));
}

const REQUIRED_COLUMNS: Record<string, readonly string[]> = {
  iceberg_tables: [
    'catalog_name',
    'table_namespace',
    'table_name',
    'metadata_location',
    'previous_metadata_location',
  ],
  iceberg_namespace_properties: ['catalog_name', 'namespace', 'property_key', 'property_value'],
};

/**
 * Checks the tables, creating missing ones; returns the schema form of `iceberg_tables`, or
 * `undefined` when `missingIsEmpty` and a table is missing (read only: nothing registered).
 */
async function prepareSchema(
  driver: SqlDriver,
  create: boolean,
  missingIsEmpty = false,
): Promise<SqlSchemaVersion | undefined> {
  const tables = Object.keys(REQUIRED_COLUMNS);
  for (const [i, table] of tables.entries()) {
    let cols = await columnsOf(driver, table);
    if (cols.size === 0) {
      if (missingIsEmpty) return undefined;
      if (!create) throw new ConfigError(`table ${table} does not exist and table creation is off`);
      try {
        await driver.execute(SQL_CATALOG_DDL[i]!);
      } catch (err) {
        // Another process may have created it at the same moment (PostgreSQL can fail even
        // with IF NOT EXISTS then); only a table still missing is an error.
        if ((await columnsOf(driver, table)).size === 0) throw err;
      }
      cols = await columnsOf(driver, table);
    }
    const missing = REQUIRED_COLUMNS[table]!.filter((c) => !cols.has(c));
    if (missing.length > 0) {
      throw new ConfigError(
        `table ${table} lacks column(s) ${missing.join(', ')}: not an Iceberg SQL catalog`,
      );
    }
  }
  return (await columnsOf(driver, 'iceberg_tables')).has('iceberg_type') ? 'V1' : 'V0';
}
