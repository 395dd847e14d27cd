/**
 * A file-system catalog in Iceberg's Hadoop layout, as Spark's `HadoopCatalog`, DuckDB and
 * PyIceberg's `StaticTable` read it:
 *
 *     <warehouse>/<ns1>/<ns2>/<table>/metadata/v<N>.metadata.json   (or v<N>.gz.metadata.json)
 *     <warehouse>/<ns1>/<ns2>/<table>/metadata/version-hint.text     (the text "<N>")
 *
 * The table's current metadata is the highest N. Creating `v<N+1>` without replacing an
 * existing file is the atomic commit: of two committers, only one can create it. The version
 * hint is a best-effort pointer written afterwards (as Iceberg does), so it may be stale or
 * even empty; this catalog lists the directory rather than trusting it, and repairs it on
 * every commit. Readers that do trust it (DuckDB) see the new version once it is written.
 *
 * Because the file name *is* the commit, the catalog writes the metadata file itself:
 * `commitTable` requires the bytes, keeps the proposed directory (which must be the table's
 * metadata directory) and names the file `v<N+1>.metadata.json` (`v<N+1>.gz.metadata.json`
 * when the proposed name ends in `.gz.metadata.json`), resolving that location.
 */
import { AlreadyExistsError, CommitConflictError, ConfigError, NotFoundError } from '../../errors.ts';
import { toLocalPath } from '../../storage/local/local.ts';
import type { Storage } from '../../storage/storage.ts';
import {
  type Catalog,
  formatIdentifier,
  type LoadedTable,
  type TableIdentifier,
  validateIdentifier,
  validateNamespace,
} from '../catalog.ts';

/** The version-hint file name. */
export const VERSION_HINT = 'version-hint.text';

/** `v<N>` plus one of the suffixes Iceberg writes (the last one is a legacy gzip spelling). */
const VERSION_FILE = /^v(\d+)(\.metadata\.json|\.gz\.metadata\.json|\.metadata\.json\.gz)$/;
/** Suffixes in the order Iceberg prefers them when one version has several files. */
const SUFFIX_ORDER = ['.metadata.json', '.gz.metadata.json', '.metadata.json.gz'];

/** What {@link HadoopCatalog.loadTable} returns. */
export interface HadoopLoadedTable extends LoadedTable {
  /** N of the current `v<N>` file. */
  readonly version: number;
}

/** Options of {@link HadoopCatalog}. */
export interface HadoopCatalogOptions {
  readonly name: string;
  /** The warehouse root: an absolute path or a URI (`file:///wh`, `s3://bucket/wh`). */
  readonly warehouse: string;
  /** The storage the warehouse lives on. */
  readonly storage: Storage;
  /** Receives non-fatal problems (a version hint that could not be written). */
  readonly onWarning?: (message: string) => void;
}

/** Parses the N of a `v<N>...metadata.json` file name, or `undefined`. */
export function metadataFileVersion(fileName: string): number | undefined {
  const m = VERSION_FILE.exec(fileName);
  return m ? Number(m[1]) : undefined;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function dirName(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

/** Spells local locations one way (`file:/x`, `file:///x`, `/x//y` → `/x/y`) for comparison. */
function canonical(location: string): string {
  if (location.startsWith('/') || location.startsWith('file:'))
    return toLocalPath(location).replace(/\/{2,}/g, '/');
  return location;
}

/** The Hadoop-layout file catalog. */
export class HadoopCatalog implements Catalog {
  readonly name: string;
  /** The warehouse root, without trailing slash. */
  readonly warehouse: string;
  readonly #storage: Storage;
  readonly #warn: (message: string) => void;

  constructor(options: HadoopCatalogOptions) {
    const warehouse = options.warehouse.replace(/\/+$/, '');
    if (!warehouse.startsWith('/') && !/^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(warehouse)) {
      throw new ConfigError(`hadoop catalog '${options.name}': warehouse must be an absolute path or URI`);
    }
    this.name = options.name;
    this.warehouse = warehouse;
    this.#storage = options.storage;
    this.#warn = options.onWarning ?? (() => {});
  }

  /** The table directory, `<warehouse>/<ns...>/<table>`: the `location` its metadata should carry. */
  tableLocation(id: TableIdentifier): string {
    validateIdentifier(id, '/');
    for (const part of [...id.namespace, id.name]) {
      if (part === '.' || part === '..')
        throw new ConfigError(`${formatIdentifier(id)}: '${part}' is not a name`);
    }
    return [this.warehouse, ...id.namespace, id.name].join('/');
  }

  /** The table's metadata directory. */
  metadataDir(id: TableIdentifier): string {
    return `${this.tableLocation(id)}/metadata`;
  }

  async loadTable(id: TableIdentifier): Promise<HadoopLoadedTable | undefined> {
    const dir = this.metadataDir(id);
    // The highest version listed wins; the hint only matters to readers that trust it.
    const files = new Map<number, string>();
    for await (const f of this.#storage.list(dir)) {
      const name = baseName(f.path);
      const version = metadataFileVersion(name);
      if (version === undefined) continue;
      const known = files.get(version);
      if (
        known === undefined ||
        SUFFIX_ORDER.indexOf(suffixOf(name)) < SUFFIX_ORDER.indexOf(suffixOf(known))
      ) {
        files.set(version, name);
      }
    }
    if (files.size === 0) return undefined;
    const version = Math.max(...files.keys());
    return { metadataLocation: `${dir}/${files.get(version)}`, version };
  }

  /** The version the hint file names, or `undefined` when it is missing, empty or not a number. */
  async readVersionHint(id: TableIdentifier): Promise<number | undefined> {
    let text: string;
    try {
      text = new TextDecoder().decode(await this.#storage.read(`${this.metadataDir(id)}/${VERSION_HINT}`));
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
    const trimmed = text.trim();
    return /^\d+$/.test(trimmed) ? Number(trimmed) : undefined;
  }

  /** `v<N+1>.metadata.json` in the table's metadata directory, where `expected` is `v<N>` (N = 0 when undefined). */
  nextMetadataLocation(id: TableIdentifier, expected: string | undefined): string {
    let current = 0;
    if (expected !== undefined) {
      const v = metadataFileVersion(baseName(expected));
      if (v === undefined)
        throw new ConfigError(`${expected}: not a Hadoop-layout metadata file (v<N>.metadata.json)`);
      current = v;
    }
    return `${this.metadataDir(id)}/v${current + 1}.metadata.json`;
  }

  async commitTable(
    id: TableIdentifier,
    expected: string | undefined,
    newMetadataLocation: string,
    metadataJson?: Uint8Array,
  ): Promise<string> {
    const fq = `${this.name}.${formatIdentifier(id)}`;
    if (!metadataJson) throw new ConfigError(`${fq}: a hadoop catalog commit needs the metadata bytes`);
    const dir = this.metadataDir(id);
    if (canonical(dirName(newMetadataLocation)) !== canonical(dir)) {
      throw new ConfigError(
        `${fq}: a hadoop catalog keeps metadata in ${dir}, not ${dirName(newMetadataLocation)}`,
      );
    }
    const current = await this.loadTable(id);
    if (canonical(current?.metadataLocation ?? '') !== canonical(expected ?? '')) {
      throw new CommitConflictError(
        current
          ? `${fq}: current metadata is ${current.metadataLocation}, expected ${expected ?? 'no table'}`
          : `${fq}: no table, expected ${expected}`,
      );
    }
    const next = (current?.version ?? 0) + 1;
    const suffix = newMetadataLocation.endsWith('.gz.metadata.json') ? '.gz.metadata.json' : '.metadata.json';
    const location = `${dir}/v${next}${suffix}`;
    try {
      await this.#storage.write(location, metadataJson, { ifNotExists: true });
    } catch (err) {
      if (err instanceof AlreadyExistsError) {
        throw new CommitConflictError(`${fq}: v${next} was committed concurrently`, { cause: err });
      }
      throw err;
    }
    await this.#writeHint(id, next);
    return location;
  }

  /** Nothing to do: namespaces are directories, created with the first table's files. */
  async ensureNamespace(namespace: readonly string[]): Promise<void> {
    validateNamespace(namespace, '/');
  }

  /**
   * The namespaces directly below `parent`: directories on the way to a table (a directory with
   * `metadata/v<N>.metadata.json`), as the file layout knows no empty namespace. This lists the
   * whole subtree, data files included: fine for a DR warehouse's occasional listing, not for a
   * hot path.
   */
  async listNamespaces(parent: readonly string[] = []): Promise<string[][]> {
    if (parent.length > 0) validateNamespace(parent, '/');
    const found = new Map<string, string[]>();
    for (const table of await this.#tableDirs(parent)) {
      if (table.length < parent.length + 2) continue; // a table directly in `parent`
      const child = table.slice(0, parent.length + 1);
      found.set(child.join('/'), child);
    }
    return [...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  }

  /** The tables directly in `namespace`: its sub-directories holding `metadata/v<N>.metadata.json`. */
  async listTables(namespace: readonly string[]): Promise<TableIdentifier[]> {
    validateNamespace(namespace, '/');
    return (await this.#tableDirs(namespace))
      .filter((t) => t.length === namespace.length + 1)
      .map((t) => t.at(-1)!)
      .sort()
      .map((name) => ({ namespace: [...namespace], name }));
  }

  /** Every table directory below `under` (levels from the warehouse), outermost tables only. */
  async #tableDirs(under: readonly string[]): Promise<string[][]> {
    const root = [this.warehouse, ...under].join('/');
    const tables = new Map<string, string[]>();
    for await (const f of this.#storage.list(root, { recursive: true })) {
      const rel = f.path.slice(root.length + 1).split('/');
      // <table...>/metadata/v<N>.metadata.json, the table at least one level below `root`.
      if (rel.length < 3 || rel.at(-2) !== 'metadata' || metadataFileVersion(rel.at(-1)!) === undefined)
        continue;
      const table = [...under, ...rel.slice(0, -2)];
      tables.set(table.join('/'), table);
    }
    // A table inside another table's directory is that table's own business, not the catalog's.
    const keys = [...tables.keys()];
    return keys.filter((k) => !keys.some((o) => o !== k && k.startsWith(`${o}/`))).map((k) => tables.get(k)!);
  }

  async close(): Promise<void> {}

  async #writeHint(id: TableIdentifier, version: number): Promise<void> {
    const path = `${this.metadataDir(id)}/${VERSION_HINT}`;
    try {
      // Digits only, no newline, as Iceberg writes it.
      await this.#storage.write(path, new TextEncoder().encode(String(version)));
    } catch (err) {
      this.#warn(`${path}: could not update the version hint: ${(err as Error)?.message ?? String(err)}`);
    }
  }
}

function suffixOf(name: string): string {
  return name.slice(name.indexOf('.'));
}
