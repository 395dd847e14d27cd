/**
 * The catalog contract. A catalog maps a table identifier to the location of the table's
 * current metadata.json, moves that pointer with an atomic compare-and-swap, and lists what it
 * holds. The catalog types of `registry.ts` implement it (SQL for JdbcCatalog/PyIceberg, the
 * Hadoop layout, REST, Glue, Hive Metastore); test/contract/catalog.contract.ts is its executable
 * form.
 *
 * What the contract assumes, said plainly: a commit here is "write a complete metadata file,
 * then swap the pointer". That is how the SQL, Hadoop, Glue and Hive Metastore catalogs work. A REST
 * catalog does not: its commit is server-side (`POST .../tables/{table}` with requirements and
 * updates; the server writes the metadata file and picks its name), and its registration takes a
 * location the server then owns. {@link Catalog.commitTable} is shaped so that such a catalog can
 * still implement it: it resolves the location *committed* (which the server chooses) rather
 * than echoing the proposed one, it receives the full new metadata (from which the changes
 * against `expected` can be derived), and {@link Catalog.nextMetadataLocation} may answer
 * `undefined`. The REST catalog does exactly that: it derives the updates from the metadata it
 * loaded and the new metadata (`iceberg/metadata-updates.ts`) and returns the location the server
 * committed.
 */
import { ConfigError } from '../errors.ts';

/** A table's name within a catalog: one or more namespace levels and the table name. */
export interface TableIdentifier {
  readonly namespace: readonly string[];
  readonly name: string;
}

/** What {@link Catalog.loadTable} returns for a registered table. */
export interface LoadedTable {
  /** Location of the table's current metadata.json. */
  readonly metadataLocation: string;
}

/**
 * A catalog the sync engine commits to.
 *
 * The engine hands `commitTable` the new metadata bytes and the location it proposes for
 * them; the catalog writes the file (never replacing an existing one), swaps the pointer and
 * resolves the location it committed. A SQL catalog uses the proposed location as is. A
 * Hadoop catalog must name the file `v<N+1>.metadata.json` in the table's metadata directory,
 * because creating that file *is* its atomic commit; it keeps the proposed directory (which
 * must be that metadata directory) and picks the name. `nextMetadataLocation` tells the engine
 * that name in advance, should it want it. A SQL catalog also accepts a file the engine wrote
 * itself (bytes omitted).
 */
export interface Catalog {
  /** The catalog's name (the `catalog_name` column of a SQL catalog). */
  readonly name: string;
  /** The current metadata location, or `undefined` if the table is not registered. */
  loadTable(id: TableIdentifier): Promise<LoadedTable | undefined>;
  /**
   * Where this catalog requires the metadata file that replaces `expected` to be written,
   * or `undefined` for catalogs that accept any location.
   */
  nextMetadataLocation(id: TableIdentifier, expected: string | undefined): string | undefined;
  /**
   * Atomic compare-and-swap of the table's metadata location; resolves the location committed
   * (see above). `expected` undefined registers a new table. Fails with `CommitConflictError`
   * if the current location is not `expected` (or, when registering, if the table already
   * exists). When `metadataJson` is given, the catalog first writes it (failing if a different
   * file is already there).
   */
  commitTable(
    id: TableIdentifier,
    expected: string | undefined,
    newMetadataLocation: string,
    metadataJson?: Uint8Array,
  ): Promise<string>;
  /** Creates the namespace if it does not exist, so that other engines list it. Idempotent. */
  ensureNamespace(namespace: readonly string[]): Promise<void>;
  /**
   * The namespaces directly below `parent` (every top-level namespace without one), each as its
   * full list of levels, sorted. A namespace exists when it has a table or (where the catalog
   * records them) properties, at its level or below, as JdbcCatalog and PyIceberg count them.
   */
  listNamespaces(parent?: readonly string[]): Promise<string[][]>;
  /** The tables directly in `namespace` (not below it), sorted by name; none when it does not exist. */
  listTables(namespace: readonly string[]): Promise<TableIdentifier[]>;
  /** Unregisters a table (never deletes files). Resolves `false` when it was not registered. */
  dropTable?(id: TableIdentifier): Promise<boolean>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** `ns1.ns2.table`, as messages and the SQL catalogs' dot-joined namespaces spell it. */
export function formatIdentifier(id: TableIdentifier): string {
  return [...id.namespace, id.name].join('.');
}

/**
 * Parses `ns1.ns2.table` into an identifier (the last part is the table name). Levels with
 * dots cannot be written this way; build the identifier directly for those.
 */
export function parseIdentifier(text: string): TableIdentifier {
  const parts = text.split('.');
  const name = parts.pop() ?? '';
  const id = { namespace: parts, name };
  validateIdentifier(id);
  return id;
}

/**
 * Rejects identifiers no catalog here can store: an empty table name, no namespace (PyIceberg
 * requires one), empty levels, and levels containing `forbidden` characters.
 */
export function validateIdentifier(id: TableIdentifier, forbidden = '.'): void {
  validateNamespace(id.namespace, forbidden);
  if (id.name === '') throw new ConfigError(`${formatIdentifier(id)}: empty table name`);
}

/** Rejects namespaces that cannot round-trip through a dot-joined (or path) form. */
export function validateNamespace(namespace: readonly string[], forbidden = '.'): void {
  const shown = namespace.join('.');
  if (namespace.length === 0) throw new ConfigError('empty namespace: at least one level is required');
  for (const level of namespace) {
    if (level === '') throw new ConfigError(`namespace '${shown}': empty level`);
    for (const ch of forbidden) {
      if (level.includes(ch))
        throw new ConfigError(`namespace '${shown}': level '${level}' contains '${ch}'`);
    }
  }
}
