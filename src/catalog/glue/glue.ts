/**
 * An AWS Glue Data Catalog as the DR catalog, holding tables as Apache Iceberg's GlueCatalog
 * (Java) and PyIceberg's GlueCatalog do (see table-input.ts): one Glue table per Iceberg table,
 * its `metadata_location` parameter the pointer.
 *
 * The commit is Iceberg's optimistic one: `GetTable`, check that `metadata_location` is still the
 * location this run started from, then `UpdateTable` with the `VersionId` just read. Glue refuses
 * the update with `ConcurrentModificationException` when the table changed in between, so a
 * commit never overwrites another writer's. Registration is `CreateTable`, refused with
 * `AlreadyExistsException` when the table exists. Databases are one level (Glue has no nesting).
 */
import type * as Glue from '@aws-sdk/client-glue';
import type { GlueClient, Table as GlueTable } from '@aws-sdk/client-glue';
import {
  CatalogDivergedError,
  CommitConflictError,
  ConfigError,
  type IcebergSyncError,
  StorageError,
} from '../../errors.ts';
import type { StorageResolver } from '../../storage/router.ts';
import type { Storage } from '../../storage/storage.ts';
import {
  type Catalog,
  formatIdentifier,
  type LoadedTable,
  type TableIdentifier,
  validateIdentifier,
  validateNamespace,
} from '../catalog.ts';
import { commitPointerSwap } from '../metadata-file.ts';
import { certainlyRefused, glueError, glueErrorName } from './errors.ts';
import { glueShapeOf, glueTableInput, isIcebergTable, METADATA_LOCATION } from './table-input.ts';

/** Options of a {@link GlueCatalog}. */
export interface GlueCatalogOptions {
  /** The catalog's name in this tool's configuration (messages name tables `<name>.<db>.<table>`). */
  readonly name: string;
  /** The SDK client (its region, endpoint, credentials and retry strategy set); the catalog owns it. */
  readonly client: GlueClient;
  /** Where Glue is reached, for messages (`glue.endpoint`, or the region's endpoint). */
  readonly endpoint: string;
  /** `glue.id`: the catalog (AWS account) id, when not the caller's own. */
  readonly catalogId?: string;
  /** `glue.skip-archive`: UpdateTable without archiving the old version (default true, as Java). */
  readonly skipArchive?: boolean;
  /** `GetTables` / `GetDatabases` page size (Glue allows at most 100 tables a page). */
  readonly pageSize?: number;
  /** Resolves storage for writing the metadata files passed to {@link GlueCatalog.commitTable}. */
  readonly storageFor?: StorageResolver;
  /** Read only (plan, verify): nothing is created or changed; commits are refused. */
  readonly readOnly?: boolean;
}

type Sdk = typeof Glue;
let sdkModule: Promise<Sdk> | undefined;
/**
 * The SDK's command classes, loaded on first use: the SDK is the heaviest module the CLI could
 * load, and runs against any other catalog never need it.
 */
export function loadGlueSdk(): Promise<Sdk> {
  sdkModule ??= import('@aws-sdk/client-glue');
  return sdkModule;
}

/** Glue stores names lower-cased and at most 255 characters long (databases 252, as Java checks). */
const MAX_DATABASE = 252;
const MAX_TABLE = 255;

/** The Glue Data Catalog as a {@link Catalog}. */
export class GlueCatalog implements Catalog {
  readonly name: string;
  readonly #client: GlueClient;
  readonly #endpoint: string;
  readonly #catalogId: string | undefined;
  readonly #skipArchive: boolean;
  readonly #pageSize: number;
  readonly #storageFor: StorageResolver | undefined;
  readonly #readOnly: boolean;

  constructor(options: GlueCatalogOptions) {
    if (options.name === '') throw new ConfigError('Glue catalog name is empty');
    this.name = options.name;
    this.#client = options.client;
    this.#endpoint = options.endpoint;
    this.#catalogId = options.catalogId;
    this.#skipArchive = options.skipArchive ?? true;
    this.#pageSize = options.pageSize ?? 100;
    this.#storageFor = options.storageFor;
    this.#readOnly = options.readOnly ?? false;
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable | undefined> {
    this.#validate(id);
    const table = await this.#getTable(id);
    if (!table) return undefined;
    return { metadataLocation: this.#pointer(id, table) };
  }

  /** Any location will do for Glue: it stores the pointer, not the file. */
  nextMetadataLocation(): undefined {
    return undefined;
  }

  async commitTable(
    id: TableIdentifier,
    expected: string | undefined,
    newMetadataLocation: string,
    metadataJson?: Uint8Array,
  ): Promise<string> {
    this.#validate(id);
    this.#assertWritable();
    const write = metadataJson
      ? { storage: this.#storage(newMetadataLocation), bytes: metadataJson }
      : undefined;
    return commitPointerSwap(newMetadataLocation, write, async () => {
      const shape = glueShapeOf(
        metadataJson ?? (await this.#readBack(newMetadataLocation)),
        newMetadataLocation,
      );
      if (expected === undefined) await this.#create(id, newMetadataLocation, shape);
      else await this.#update(id, expected, newMetadataLocation, shape);
      return newMetadataLocation;
    });
  }

  async ensureNamespace(namespace: readonly string[]): Promise<void> {
    this.#validateNamespace(namespace);
    this.#assertWritable();
    const [database] = namespace as [string];
    const { CreateDatabaseCommand, GetDatabaseCommand } = await loadGlueSdk();
    try {
      await this.#client.send(new GetDatabaseCommand({ Name: database, ...this.#catalog() }));
      return;
    } catch (err) {
      if (glueErrorName(err) !== 'EntityNotFoundException') throw this.#error(err, `GetDatabase ${database}`);
    }
    try {
      await this.#client.send(
        new CreateDatabaseCommand({ DatabaseInput: { Name: database }, ...this.#catalog() }),
      );
    } catch (err) {
      // Another process created it at the same moment: that is what we wanted.
      if (glueErrorName(err) !== 'AlreadyExistsException')
        throw this.#error(err, `CreateDatabase ${database}`);
    }
  }

  /** The Glue databases, sorted; below a database there is nothing (Glue has one level). */
  async listNamespaces(parent: readonly string[] = []): Promise<string[][]> {
    if (parent.length > 0) {
      validateNamespace(parent);
      return [];
    }
    const { GetDatabasesCommand } = await loadGlueSdk();
    const names: string[] = [];
    let token: string | undefined;
    do {
      let page: { DatabaseList?: { Name?: string }[]; NextToken?: string };
      try {
        page = await this.#client.send(
          new GetDatabasesCommand({
            MaxResults: this.#pageSize,
            ...(token ? { NextToken: token } : {}),
            ...this.#catalog(),
          }),
        );
      } catch (err) {
        throw this.#error(err, 'GetDatabases');
      }
      for (const d of page.DatabaseList ?? []) if (d.Name) names.push(d.Name);
      token = page.NextToken || undefined;
    } while (token);
    return [...new Set(names)].sort().map((n) => [n]);
  }

  /** The Iceberg tables of a database (`table_type=ICEBERG`; Glue's other tables are left out), by name. */
  async listTables(namespace: readonly string[]): Promise<TableIdentifier[]> {
    this.#validateNamespace(namespace);
    const [database] = namespace as [string];
    const { GetTablesCommand } = await loadGlueSdk();
    const names: string[] = [];
    let token: string | undefined;
    do {
      let page: { TableList?: GlueTable[]; NextToken?: string };
      try {
        page = await this.#client.send(
          new GetTablesCommand({
            DatabaseName: database,
            MaxResults: this.#pageSize,
            ...(token ? { NextToken: token } : {}),
            ...this.#catalog(),
          }),
        );
      } catch (err) {
        if (glueErrorName(err) === 'EntityNotFoundException') return [];
        throw this.#error(err, `GetTables ${database}`);
      }
      for (const t of page.TableList ?? []) if (t.Name && isIcebergTable(t.Parameters)) names.push(t.Name);
      token = page.NextToken || undefined;
    } while (token);
    return [...new Set(names)].sort().map((name) => ({ namespace: [database], name }));
  }

  /** Unregisters an Iceberg table with `DeleteTable`: its files stay. A non-Iceberg table is refused. */
  async dropTable(id: TableIdentifier): Promise<boolean> {
    this.#validate(id);
    this.#assertWritable();
    const table = await this.#getTable(id);
    if (!table) return false;
    if (!isIcebergTable(table.Parameters)) {
      throw new ConfigError(`${this.#fq(id)}: a Glue table that is not an Iceberg table; not dropped`);
    }
    const { DeleteTableCommand } = await loadGlueSdk();
    try {
      await this.#client.send(
        new DeleteTableCommand({ DatabaseName: id.namespace[0], Name: id.name, ...this.#catalog() }),
      );
      return true;
    } catch (err) {
      if (glueErrorName(err) === 'EntityNotFoundException') return false;
      throw this.#error(err, `DeleteTable ${formatIdentifier(id)}`);
    }
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }

  /** `CreateTable`; a missing database is created first (as the engines do on registration). */
  async #create(id: TableIdentifier, location: string, shape: ReturnType<typeof glueShapeOf>): Promise<void> {
    const input = glueTableInput(id.name, location, undefined, shape);
    const { CreateTableCommand } = await loadGlueSdk();
    const send = () =>
      this.#client.send(
        new CreateTableCommand({ DatabaseName: id.namespace[0], TableInput: input, ...this.#catalog() }),
      );
    try {
      try {
        await send();
      } catch (err) {
        if (glueErrorName(err) !== 'EntityNotFoundException') throw err;
        await this.ensureNamespace(id.namespace);
        await send();
      }
    } catch (err) {
      const name = glueErrorName(err);
      if (name === 'AlreadyExistsException') {
        const at = (await this.#recheck(err, id, location, 'CreateTable'))?.Parameters?.[METADATA_LOCATION];
        // The SDK retried a create whose answer was lost: the first attempt made the table.
        if (at === location) return;
        throw new CommitConflictError(`${this.#fq(id)}: already registered (at ${at ?? 'no location'})`, {
          cause: err,
        });
      }
      if (name === 'EntityNotFoundException') {
        throw new ConfigError(`${this.#fq(id)}: Glue database '${id.namespace[0]}' does not exist`, {
          cause: err,
        });
      }
      const failed = await this.#unknownOutcome(err, id, location, `CreateTable ${formatIdentifier(id)}`);
      if (failed) throw failed;
    }
  }

  async #update(
    id: TableIdentifier,
    expected: string,
    location: string,
    shape: ReturnType<typeof glueShapeOf>,
  ): Promise<void> {
    const fq = this.#fq(id);
    const table = await this.#getTable(id);
    if (!table) throw new CommitConflictError(`${fq}: not registered (expected at ${expected})`);
    if (!isIcebergTable(table.Parameters)) {
      throw new CommitConflictError(`${fq}: the Glue table is not an Iceberg table`);
    }
    const current = table.Parameters?.[METADATA_LOCATION];
    if (current !== expected) {
      throw new CommitConflictError(
        `${fq}: metadata location is ${current ?? 'unset'}, expected ${expected}`,
      );
    }
    const input = glueTableInput(id.name, location, expected, shape, {
      ...(table.Parameters ? { Parameters: table.Parameters } : {}),
      ...(table.Description !== undefined ? { Description: table.Description } : {}),
    });
    const { UpdateTableCommand } = await loadGlueSdk();
    try {
      await this.#client.send(
        new UpdateTableCommand({
          DatabaseName: id.namespace[0],
          TableInput: input,
          SkipArchive: this.#skipArchive,
          ...(table.VersionId !== undefined ? { VersionId: table.VersionId } : {}),
          ...this.#catalog(),
        }),
      );
    } catch (err) {
      const name = glueErrorName(err);
      if (name === 'ConcurrentModificationException' || name === 'EntityNotFoundException') {
        // The SDK retries an update whose answer was lost; the retry then finds the version moved
        // on. If it moved on to this very commit, the first attempt went through.
        const now = await this.#recheck(err, id, location, 'UpdateTable');
        if (now?.Parameters?.[METADATA_LOCATION] === location) return;
      }
      if (name === 'ConcurrentModificationException') {
        throw new CommitConflictError(
          `${fq}: changed by another writer since version ${table.VersionId ?? '?'} was read (expected at ${expected})`,
          { cause: err },
        );
      }
      if (name === 'EntityNotFoundException') {
        throw new CommitConflictError(`${fq}: dropped by another writer (expected at ${expected})`, {
          cause: err,
        });
      }
      const failed = await this.#unknownOutcome(err, id, location, `UpdateTable ${formatIdentifier(id)}`);
      if (failed) throw failed;
    }
  }

  /**
   * After a failed create or update: a refusal is reported as it is; when the outcome is unknown
   * (no answer), the table is read again, and a table already pointing at `location` means the
   * commit went through: resolves `undefined` then. The metadata file is kept in every case but
   * a refusal, so the catalog never points at a missing file.
   */
  async #unknownOutcome(
    err: unknown,
    id: TableIdentifier,
    location: string,
    what: string,
  ): Promise<IcebergSyncError | undefined> {
    const mapped = this.#error(err, what);
    if (certainlyRefused(err)) return mapped;
    let now: string | undefined;
    try {
      now = (await this.#getTable(id))?.Parameters?.[METADATA_LOCATION];
    } catch {
      return new StorageError(
        `${mapped.message}; whether the commit took effect is unknown (the metadata file ${location} is kept)`,
        { cause: err },
      );
    }
    return now === location ? undefined : mapped;
  }

  /**
   * The table read again after `err`; when even that read fails, the outcome is unknown: a
   * StorageError that keeps the proposed file (it may be live).
   */
  async #recheck(err: unknown, id: TableIdentifier, location: string, what: string) {
    try {
      return await this.#getTable(id);
    } catch (again) {
      throw new StorageError(
        `${this.#fq(id)}: ${what} answered ${glueErrorName(err) ?? 'an error'}, and reading the table again failed ` +
          `(${(again as Error).message}); whether the commit took effect is unknown (the metadata file ${location} is kept)`,
        { cause: again },
      );
    }
  }

  async #getTable(id: TableIdentifier): Promise<GlueTable | undefined> {
    const { GetTableCommand } = await loadGlueSdk();
    try {
      const r = await this.#client.send(
        new GetTableCommand({ DatabaseName: id.namespace[0], Name: id.name, ...this.#catalog() }),
      );
      return r.Table;
    } catch (err) {
      if (glueErrorName(err) === 'EntityNotFoundException') return undefined;
      throw this.#error(err, `GetTable ${formatIdentifier(id)}`);
    }
  }

  /** The `metadata_location` of an Iceberg table; a Glue table of another kind is refused. */
  #pointer(id: TableIdentifier, table: GlueTable): string {
    const fq = this.#fq(id);
    if (!isIcebergTable(table.Parameters)) {
      const kind = table.Parameters?.table_type ?? table.TableType ?? 'no table_type';
      throw new ConfigError(`${fq}: the Glue table is not an Iceberg table (${kind})`);
    }
    const location = table.Parameters?.[METADATA_LOCATION];
    if (!location) throw new CatalogDivergedError(`${fq}: Iceberg Glue table without ${METADATA_LOCATION}`);
    return location;
  }

  #catalog(): { CatalogId?: string } {
    return this.#catalogId ? { CatalogId: this.#catalogId } : {};
  }

  #fq(id: TableIdentifier): string {
    return `${this.name}.${formatIdentifier(id)}`;
  }

  #error(err: unknown, what: string) {
    return glueError(err, `${this.name}: ${what}`, this.#endpoint);
  }

  #assertWritable(): void {
    if (this.#readOnly) throw new ConfigError(`catalog '${this.name}' is open read-only (a dry run)`);
  }

  /** One level, lower case (Glue lower-cases names, so another spelling would not load back). */
  #validateNamespace(namespace: readonly string[]): void {
    validateNamespace(namespace);
    if (namespace.length !== 1) {
      throw new ConfigError(
        `namespace '${namespace.join('.')}': a Glue database is one level (no nested namespaces)`,
      );
    }
    const [db] = namespace as [string];
    if (db !== db.toLowerCase())
      throw new ConfigError(`Glue database '${db}': Glue stores names in lower case; write it so`);
    if (db.length > MAX_DATABASE) throw new ConfigError(`Glue database '${db}': longer than ${MAX_DATABASE}`);
  }

  #validate(id: TableIdentifier): void {
    validateIdentifier(id);
    this.#validateNamespace(id.namespace);
    if (id.name !== id.name.toLowerCase())
      throw new ConfigError(`Glue table '${id.name}': Glue stores names in lower case; write it so`);
    if (id.name.length > MAX_TABLE)
      throw new ConfigError(`Glue table '${id.name}': longer than ${MAX_TABLE}`);
  }

  /** The storage that receives a metadata file this catalog writes. */
  #storage(location: string): Storage {
    if (!this.#storageFor) throw new ConfigError(`catalog '${this.name}': no storage to write ${location}`);
    return this.#storageFor(location);
  }

  /** The bytes of a file the engine wrote itself, for the Glue table's columns (none when unreadable). */
  async #readBack(location: string): Promise<Uint8Array | undefined> {
    try {
      return await this.#storageFor?.(location).read(location);
    } catch {
      return undefined;
    }
  }
}
