/**
 * What a catalog type tells the rest of the tool about itself: its names in configuration, the
 * schema of its settings, how the command line's flags make one, and how to open it. Each type's
 * folder exports one {@link CatalogType}; `registry.ts` lists them, and `createCatalog`, the
 * configuration loader, `--catalog-type` and the messages read that list.
 */
import type { z } from 'zod';
import type { StorageResolver } from '../storage/router.ts';
import type { Catalog } from './catalog.ts';

/** What every catalog configuration has. */
export interface CatalogConfigBase {
  /** The type's own name (`sql`, `hadoop`), whatever alias the file used. */
  readonly type: string;
  /** The catalog's name inside the catalog, when it differs from the (lower-cased) config key. */
  readonly catalogName?: string;
  /** Where new tables' files go, for types that have one. */
  readonly warehouse?: string;
  /** Every key as given (lower-cased), for settings other modules read (`s3.*`, `hdfs.*`). */
  readonly properties: Readonly<Record<string, string>>;
}

/** Options of opening a catalog. */
export interface OpenCatalogOptions {
  /** Non-fatal problems (e.g. a version hint that could not be written). */
  readonly onWarning?: (message: string) => void;
  /** Base for relative paths (SQLite files; default the working directory). */
  readonly cwd?: string;
  /**
   * Open for reading only and create nothing (plan, verify): a catalog that is not there yet has no
   * tables, and commits are refused.
   */
  readonly readOnly?: boolean;
}

/** The command line's catalog flags, resolved: paths absolute, URIs as given. */
export interface CatalogFlags {
  /** `--catalog-uri`. */
  readonly uri?: string;
  /** `--warehouse`, else the configured catalog's warehouse. */
  readonly warehouse?: string;
}

/** The descriptor every catalog type folder exports. */
export interface CatalogType<C extends CatalogConfigBase = CatalogConfigBase> {
  /** The type's name (`sql`): the `type` its configurations carry, and a `--catalog-type` choice. */
  readonly type: string;
  /** Other names configurations may use for it (`jdbc`), as PyIceberg or Java spell them. */
  readonly aliases: readonly string[];
  /** One line on what it is. */
  readonly description: string;
  /**
   * True when its `warehouse` names a warehouse to the server (REST) rather than a location: it is
   * then passed on as written, and gives no default place for the rewritten metadata.
   */
  readonly warehouseIsName?: boolean;
  /** The zod schema of its settings (other keys are allowed and kept in `properties`). */
  readonly schema: z.ZodType;
  /** Whether settings without a `type` are of this type (PyIceberg infers `sql` from the URI). */
  inferFrom?(properties: Readonly<Record<string, string>>): boolean;
  /** Validates one catalog's settings (`raw`, keys lower-cased) into its configuration; errors name `where`. */
  parse(
    where: string,
    raw: Readonly<Record<string, unknown>>,
    properties: Readonly<Record<string, string>>,
  ): C;
  /**
   * The configuration the command line describes: its flags over `configured` (the catalog the
   * configuration file names, of whatever type, or none).
   */
  fromFlags(flags: CatalogFlags, configured: CatalogConfigBase | undefined): Promise<C>;
  /**
   * The places the catalog itself writes to, for the replica guard (a SQLite file, a Hadoop
   * warehouse); none for a catalog service, whose files this tool places.
   */
  writesTo?(config: C): { readonly what: string; readonly path: string }[];
  /** Opens the catalog `name`; `storageFor` gives the storage of a path. The caller closes it. */
  open(name: string, config: C, storageFor: StorageResolver, options: OpenCatalogOptions): Promise<Catalog>;
}
