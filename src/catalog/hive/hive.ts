/**
 * A Hive Metastore catalog that shares its tables with Apache Iceberg's HiveCatalog (Java: Spark,
 * Flink, Trino, Hive) and PyIceberg's HiveCatalog. A table is a metastore table whose
 * `metadata_location` parameter names its current metadata.json (see hive-table.ts for the
 * whole shape).
 *
 * The commit, as Java's `HiveTableOperations` guards it:
 * 1. write the new metadata file (create-if-absent; never replacing a file);
 * 2. take the metastore's EXCLUSIVE table lock (table-lock.ts: `lock`; `check_lock` with
 *    backoff while it is WAITING, bounded by `lock-timeout-ms`; a `heartbeat` while it is held);
 * 3. under the lock, read the table again and require `metadata_location` = the expected
 *    location (else CommitConflictError: another writer committed);
 * 4. `create_table_with_environment_context` (registration) or `alter_table_with_environment_context`; on 4.x the alter
 *    also carries Hive's own compare-and-set (`expected_parameter_key/value` on
 *    `metadata_location`), so that a writer that does not take the lock (Java with
 *    `iceberg.engine.hive.lock-enabled=false`) cannot be overwritten either;
 * 5. `unlock`, always.
 * A reply lost after the alter was sent leaves the outcome unknown: the table is read again and
 * the commit counts as done only if it names the new file; otherwise the run fails with the file
 * kept (it may be live), and the next run sorts it out. The file is deleted only after a certain
 * conflict.
 *
 * The metastore has one namespace level (databases); names are case-insensitive and stored
 * lower-case.
 */
import * as os from 'node:os';
import { CatalogDivergedError, CommitConflictError, ConfigError, StorageError } from '../../errors.ts';
import type { StorageResolver } from '../../storage/router.ts';
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
  ICEBERG,
  METADATA_LOCATION,
  newHiveTable,
  parseMetadata,
  TABLE_TYPE,
  tableLocationOf,
  updatedHiveTable,
} from './hive-table.ts';
import { type HiveTable, M } from './metastore-api.ts';
import {
  type MetastoreAddress,
  MetastoreApplicationError,
  MetastoreClient,
  type MetastoreClientOptions,
  MetastoreException,
  MetastoreUnavailableError,
} from './metastore-client.ts';
import { withTableLock } from './table-lock.ts';

export { parseMetastoreUris } from './metastore-uri.ts';

/** Options of {@link HiveCatalog.open}. */
export interface HiveCatalogOptions extends MetastoreClientOptions {
  /** The catalog's name (messages; the metastore has no catalog name of its own here). */
  readonly name: string;
  /** The metastores, tried in order (HA). */
  readonly addresses: readonly MetastoreAddress[];
  /** Resolves storage for the metadata files {@link HiveCatalog.commitTable} writes or reads. */
  readonly storageFor?: StorageResolver;
  /** Read only (dry runs, verify): no lock, no write; commits are refused. */
  readonly readOnly?: boolean;
  /** Longest wait for the table lock (Java's `iceberg.hive.lock-timeout-ms`; default 3 min). */
  readonly lockTimeoutMs?: number;
  /** Backoff of `check_lock` while waiting (defaults 50 ms and 5 s, as Java). */
  readonly lockCheckMinWaitMs?: number;
  readonly lockCheckMaxWaitMs?: number;
  /** Heartbeat of a held lock (default 4 min, as Java; the server's timeout is 5 min). */
  readonly lockHeartbeatIntervalMs?: number;
  /** The owner of new tables and the lock's user (default the OS user). */
  readonly user?: string;
  /** Non-fatal problems (an unlock that failed, a capability not offered). */
  readonly onWarning?: (message: string) => void;
}

/** What the server offers, found at open without a failing call. */
export interface MetastoreCapabilities {
  /** The server's version (fb303 `getVersion`: "3.0" for 3.x, "4.0.1"), if it answers. */
  readonly version: string | undefined;
  /** Whether `alter_table` honours `expected_parameter_key/value` (Hive 4; not on Derby). */
  conditionalAlter: boolean;
}

/** Hive's compare-and-set keys in the alter's environment context, and Hive's stats switch. */
const EXPECTED_KEY = 'expected_parameter_key';
const EXPECTED_VALUE = 'expected_parameter_value';
const DO_NOT_UPDATE_STATS = 'DO_NOT_UPDATE_STATS';

/** The Apache Iceberg HiveCatalog-compatible catalog over a Hive Metastore. */
export class HiveCatalog implements Catalog {
  readonly name: string;
  /** What the server offers (see {@link MetastoreCapabilities}). */
  readonly capabilities: MetastoreCapabilities;
  readonly #client: MetastoreClient;
  readonly #options: HiveCatalogOptions;
  readonly #where: string;

  private constructor(
    options: HiveCatalogOptions,
    client: MetastoreClient,
    capabilities: MetastoreCapabilities,
  ) {
    this.name = options.name;
    this.#options = options;
    this.#client = client;
    this.capabilities = capabilities;
    this.#where = `hive catalog '${options.name}' (${options.addresses.map((a) => `thrift://${a.host}:${a.port}`).join(',')})`;
  }

  /** The metastore of the current connection (`thrift://host:port`), if connected. */
  get connectedTo(): string | undefined {
    return this.#client.connectedTo;
  }

  /** Connects to the first metastore that answers and asks its version. */
  static async open(options: HiveCatalogOptions): Promise<HiveCatalog> {
    if (options.name === '') throw new ConfigError('Hive catalog name is empty');
    const client = new MetastoreClient(options.addresses, options);
    let version: string | undefined;
    try {
      version = String(await client.call(M.getVersion, {}, { retry: true }));
    } catch (err) {
      if (!(err instanceof MetastoreApplicationError)) {
        await client.close();
        throw HiveCatalog.#openError(options, err);
      }
      // A server without fb303's getVersion: take it for 3.x.
    }
    const major = Number(/^(\d+)/.exec(version ?? '')?.[1] ?? 0);
    return new HiveCatalog(options, client, { version, conditionalAlter: major >= 4 });
  }

  static #openError(options: HiveCatalogOptions, err: unknown): Error {
    if (err instanceof MetastoreUnavailableError) {
      return new StorageError(`hive catalog '${options.name}': ${err.message}`, { cause: err });
    }
    return err as Error;
  }

  #wrap(err: unknown, what: string): Error {
    if (
      err instanceof MetastoreUnavailableError ||
      err instanceof MetastoreException ||
      err instanceof MetastoreApplicationError
    ) {
      return new StorageError(`${this.#where}: ${what}: ${err.message}`, { cause: err });
    }
    return err as Error;
  }

  #assertWritable(): void {
    if (this.#options.readOnly) throw new ConfigError(`catalog '${this.name}' is open read-only (a dry run)`);
  }

  /** The database and table name of `id`; the metastore has one namespace level. */
  #key(id: TableIdentifier): [string, string] {
    validateIdentifier(id);
    if (id.namespace.length !== 1) {
      throw new ConfigError(
        `${formatIdentifier(id)}: a Hive Metastore namespace (database) has exactly one level`,
      );
    }
    return [id.namespace[0]!, id.name];
  }

  /** The table, or undefined when the metastore has none of that name. */
  async #getTable(db: string, name: string): Promise<HiveTable | undefined> {
    try {
      const r = (await this.#client.call(
        M.getTableReq,
        { req: { dbName: db, tblName: name } },
        { retry: true },
      )) as {
        table: HiveTable;
      };
      return r.table;
    } catch (err) {
      if (
        err instanceof MetastoreException &&
        (err.kind === 'NoSuchObjectException' || /not found|does not exist/i.test(err.message))
      )
        return undefined;
      throw this.#wrap(err, `get_table_req ${db}.${name}`);
    }
  }

  /** The Iceberg metadata location of a table, or why it has none. */
  #locationOf(table: HiveTable, fq: string): string {
    const p = table.parameters ?? {};
    const type = p[TABLE_TYPE];
    if (type?.toUpperCase() !== ICEBERG) {
      throw new CatalogDivergedError(
        `${fq}: the metastore holds a table of that name that is not an Iceberg table (table_type=${type ?? 'unset'}); nothing was changed`,
      );
    }
    const location = p[METADATA_LOCATION];
    if (!location) throw new CatalogDivergedError(`${fq}: an Iceberg table without metadata_location`);
    return location;
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable | undefined> {
    const [db, name] = this.#key(id);
    const table = await this.#getTable(db, name);
    if (!table) return undefined;
    return { metadataLocation: this.#locationOf(table, this.#fq(id)) };
  }

  #fq(id: TableIdentifier): string {
    return `${this.name}.${formatIdentifier(id)}`;
  }

  /** Any location will do: the metastore stores the pointer. */
  nextMetadataLocation(): undefined {
    return undefined;
  }

  async commitTable(
    id: TableIdentifier,
    expected: string | undefined,
    newMetadataLocation: string,
    metadataJson?: Uint8Array,
  ): Promise<string> {
    const [db, name] = this.#key(id);
    this.#assertWritable();
    const fq = this.#fq(id);
    const storage = this.#options.storageFor?.(newMetadataLocation);
    if (!storage) throw new ConfigError(`catalog '${this.name}': no storage for ${newMetadataLocation}`);
    // Read before anything is written: a file that is not table metadata is refused as it is.
    const given = metadataJson ? parseMetadata(metadataJson, newMetadataLocation) : undefined;
    if (given) newHiveTable(db, name, '', given, newMetadataLocation); // its location and schema
    const write = metadataJson ? { storage, bytes: metadataJson } : undefined;
    return commitPointerSwap(newMetadataLocation, write, async () => {
      const metadata = given ?? parseMetadata(await storage.read(newMetadataLocation), newMetadataLocation);
      // A metastore table needs its database: a registration creates it, as the engines expect.
      if (expected === undefined) await this.ensureNamespace(id.namespace);
      const sdLocation = await this.#descriptorLocation(
        tableLocationOf(metadata, newMetadataLocation),
        newMetadataLocation,
        fq,
      );
      await this.#withLock(db, name, fq, async () => {
        const current = await this.#getTable(db, name);
        if (expected === undefined) {
          if (current) {
            throw new CommitConflictError(
              `${fq}: already registered (at ${current.parameters?.[METADATA_LOCATION] ?? 'no metadata location'})`,
            );
          }
          await this.#create(
            newHiveTable(db, name, this.#user(), metadata, newMetadataLocation, sdLocation),
            fq,
            newMetadataLocation,
          );
          return;
        }
        if (!current) throw new CommitConflictError(`${fq}: not registered (expected at ${expected})`);
        const location = this.#locationOf(current, fq);
        if (location !== expected) {
          throw new CommitConflictError(`${fq}: metadata location is ${location}, expected ${expected}`);
        }
        await this.#alter(
          db,
          name,
          updatedHiveTable(current, metadata, newMetadataLocation, expected, sdLocation),
          expected,
          fq,
          newMetadataLocation,
        );
      });
      return newMetadataLocation;
    });
  }

  /**
   * The storage descriptor's location. The metastore creates that directory when it is missing
   * (`create_table` makes a table's directory), and a DR table's location is in the replica,
   * which nobody but replication may write: where the table location holds nothing (a table whose
   * data lives elsewhere, a replica still empty), the descriptor names the directory of the new
   * metadata file instead, which exists and is ours. Readers go through `metadata_location`; the
   * descriptor's location is informational for Iceberg tables.
   */
  async #descriptorLocation(tableLocation: string, metadataLocation: string, fq: string): Promise<string> {
    const storageFor = this.#options.storageFor;
    try {
      const storage = storageFor?.(tableLocation);
      if (storage)
        for await (const _ of storage.list(tableLocation, { recursive: true })) return tableLocation;
    } catch {
      // absent, or on a storage we cannot list: not a directory we may let the metastore create
      // (the listing is lazy: the first file found ends it)
    }
    const metadataDir = metadataLocation.slice(0, metadataLocation.lastIndexOf('/'));
    this.#options.onWarning?.(
      `${fq}: the table location ${tableLocation} holds nothing here; the metastore entry's location is ${metadataDir} so that the metastore creates no directory in the replica`,
    );
    return metadataDir;
  }

  #user(): string {
    if (this.#options.user) return this.#options.user;
    try {
      return os.userInfo().username;
    } catch {
      return 'iceberg-sync';
    }
  }

  async #create(table: HiveTable, fq: string, location: string): Promise<void> {
    try {
      // DO_NOT_UPDATE_STATS: else the metastore lists every file under the table's location
      // (the replica) to count them; Iceberg keeps its own statistics.
      await this.#client.call(
        M.createTableWithEnvironmentContext,
        { tbl: table, environment_context: { properties: { [DO_NOT_UPDATE_STATS]: 'true' } } },
        { retry: false },
      );
    } catch (err) {
      if (err instanceof MetastoreException && err.kind === 'AlreadyExistsException') {
        throw new CommitConflictError(`${fq}: already registered (${err.message})`);
      }
      if (err instanceof MetastoreException && /not a valid object name/i.test(err.message)) {
        throw new ConfigError(
          `${fq}: the metastore refuses the name (${err.message}; Hive 3 allows letters, digits and _)`,
        );
      }
      await this.#settle(err, table.dbName!, table.tableName!, fq, location, 'create_table');
    }
  }

  async #alter(
    db: string,
    name: string,
    table: HiveTable,
    expected: string,
    fq: string,
    location: string,
  ): Promise<void> {
    const env: Record<string, string> = { [DO_NOT_UPDATE_STATS]: 'true' };
    const conditional = this.capabilities.conditionalAlter;
    if (conditional) {
      env[EXPECTED_KEY] = METADATA_LOCATION;
      env[EXPECTED_VALUE] = expected;
    }
    try {
      await this.#client.call(
        M.alterTableWithEnvironmentContext,
        { dbname: db, tbl_name: name, new_tbl: table, environment_context: { properties: env } },
        { retry: false },
      );
    } catch (err) {
      if (err instanceof MetastoreException) {
        if (/The table has been modified/i.test(err.message)) {
          throw new CommitConflictError(`${fq}: another writer changed metadata_location (${err.message})`);
        }
        // Hive 4 on Derby cannot compare its CLOB parameter values; the alter did nothing. We hold
        // the table lock, which is the guard on 3.x too: say so once and go on without the check.
        if (conditional && /CLOB/i.test(err.message)) {
          this.capabilities.conditionalAlter = false;
          this.#options.onWarning?.(
            `${this.#where}: the metastore cannot run the conditional alter_table (${err.message}); commits rely on its table lock alone`,
          );
          return this.#alter(db, name, table, expected, fq, location);
        }
      }
      await this.#settle(err, db, name, fq, location, 'alter_table');
    }
  }

  /**
   * After a failed write: a reply lost on the way back leaves the outcome open, so the table is
   * read again; the commit stands if it names `location`. Anything else fails the commit.
   */
  async #settle(
    err: unknown,
    db: string,
    name: string,
    fq: string,
    location: string,
    what: string,
  ): Promise<void> {
    if (err instanceof MetastoreUnavailableError && err.sent) {
      let now: string | undefined;
      try {
        now = (await this.#getTable(db, name))?.parameters?.[METADATA_LOCATION];
      } catch (again) {
        throw new StorageError(
          `${this.#where}: ${what} ${fq}: the connection broke before the reply (${err.message}) and the table cannot be read again (${(again as Error).message}): the commit's outcome is unknown; ${location} is kept`,
          { cause: err },
        );
      }
      if (now === location) return;
      throw new StorageError(
        `${this.#where}: ${what} ${fq}: the connection broke before the reply (${err.message}); the table still names ${now ?? 'nothing'}, so the commit did not happen`,
        { cause: err },
      );
    }
    throw this.#wrap(err, `${what} ${fq}`);
  }

  /** Runs `fn` holding the metastore's exclusive lock on the table (see table-lock.ts). */
  #withLock<T>(db: string, name: string, fq: string, fn: () => Promise<T>): Promise<T> {
    const o = this.#options;
    return withTableLock(
      this.#client,
      { db, name, fq },
      {
        timeoutMs: o.lockTimeoutMs ?? 180_000,
        minWaitMs: o.lockCheckMinWaitMs ?? 50,
        maxWaitMs: o.lockCheckMaxWaitMs ?? 5000,
        heartbeatIntervalMs: o.lockHeartbeatIntervalMs ?? 240_000,
        callTimeoutMs: o.callTimeoutMs ?? 60_000,
        user: this.#user(),
        where: this.#where,
        ...(o.onWarning ? { onWarning: o.onWarning } : {}),
      },
      fn,
    );
  }

  async ensureNamespace(namespace: readonly string[]): Promise<void> {
    validateNamespace(namespace);
    this.#assertWritable();
    if (namespace.length !== 1) {
      throw new ConfigError(
        `namespace '${namespace.join('.')}': a Hive Metastore database has exactly one level`,
      );
    }
    const db = namespace[0]!;
    try {
      await this.#client.call(M.getDatabase, { name: db }, { retry: true });
      return;
    } catch (err) {
      if (!(err instanceof MetastoreException && err.kind === 'NoSuchObjectException')) {
        throw this.#wrap(err, `get_database ${db}`);
      }
    }
    try {
      await this.#client.call(
        M.createDatabase,
        { database: { name: db, description: '', parameters: {} } },
        { retry: false },
      );
    } catch (err) {
      if (err instanceof MetastoreException && err.kind === 'AlreadyExistsException') return;
      // A lost reply: the database exists if the call went through.
      if (err instanceof MetastoreUnavailableError && err.sent) return this.ensureNamespace(namespace);
      // A create that raced another may fail in the metastore's database instead (Hive 4 on
      // PostgreSQL: a MetaException for the duplicate key): what counts is that it is there now.
      if (err instanceof MetastoreException && err.kind === 'MetaException') {
        try {
          await this.#client.call(M.getDatabase, { name: db }, { retry: true });
          return;
        } catch {
          // not there: report the create's own error
        }
      }
      throw this.#wrap(err, `create_database ${db}`);
    }
  }

  /** The databases (one level: nothing lies below a database). */
  async listNamespaces(parent: readonly string[] = []): Promise<string[][]> {
    if (parent.length > 0) {
      validateNamespace(parent);
      return [];
    }
    let names: string[];
    try {
      names = (await this.#client.call(M.getAllDatabases, {}, { retry: true })) as string[];
    } catch (err) {
      throw this.#wrap(err, 'get_all_databases');
    }
    return [...names].sort().map((n) => [n]);
  }

  /** The Iceberg tables of a database (other metastore tables are not listed), by name. */
  async listTables(namespace: readonly string[]): Promise<TableIdentifier[]> {
    validateNamespace(namespace);
    if (namespace.length !== 1) return [];
    const db = namespace[0]!;
    let names: string[];
    try {
      names = (await this.#client.call(M.getAllTables, { db_name: db }, { retry: true })) as string[];
    } catch (err) {
      if (err instanceof MetastoreException && /not exist|not found/i.test(err.message)) return [];
      throw this.#wrap(err, `get_all_tables ${db}`);
    }
    const out: TableIdentifier[] = [];
    for (const name of [...names].sort()) {
      const t = await this.#getTable(db, name);
      if (t?.parameters?.[TABLE_TYPE]?.toUpperCase() === ICEBERG) out.push({ namespace: [db], name });
    }
    return out;
  }

  /** Unregisters the table: `drop_table` with deleteData=false (its files stay). */
  async dropTable(id: TableIdentifier): Promise<boolean> {
    const [db, name] = this.#key(id);
    this.#assertWritable();
    const table = await this.#getTable(db, name);
    if (!table) return false;
    this.#locationOf(table, this.#fq(id)); // only Iceberg tables
    try {
      await this.#client.call(M.dropTable, { dbname: db, name, deleteData: false }, { retry: false });
      return true;
    } catch (err) {
      if (err instanceof MetastoreException && err.kind === 'NoSuchObjectException') return false;
      throw this.#wrap(err, `drop_table ${db}.${name}`);
    }
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}
