/**
 * The catalog types this tool knows, in one list. Adding a type is one folder exporting a
 * {@link CatalogType}, one line below, and its configuration in the `CatalogConfig` union
 * (`config.ts`); `createCatalog`, the configuration loader, `--catalog-type` and the messages read
 * the list.
 */
import { ConfigError } from '../errors.ts';
import type { StorageResolver } from '../storage/router.ts';
import type { Catalog } from './catalog.ts';
import type { CatalogConfigBase, CatalogType, OpenCatalogOptions } from './catalog-type.ts';
import { glueCatalogType } from './glue/index.ts';
import { hadoopCatalogType } from './hadoop/index.ts';
import { hiveCatalogType } from './hive/descriptor.ts';
import { restCatalogType } from './rest/index.ts';
import { sqlCatalogType } from './sql/index.ts';

/** Every catalog type, in the order messages list them. */
export const CATALOG_TYPES: readonly CatalogType[] = [
  sqlCatalogType,
  hadoopCatalogType,
  restCatalogType,
  glueCatalogType,
  hiveCatalogType,
] as readonly CatalogType[];

/** The type named `name` (its own name or an alias, any case), if any. */
export function catalogTypeFor(name: string): CatalogType | undefined {
  const n = name.toLowerCase();
  return CATALOG_TYPES.find((t) => t.type === n || t.aliases.includes(n));
}

/** Every name a configuration may give (`sql`, `jdbc`, `hadoop`, `file`). */
export function catalogTypeNames(): string[] {
  return CATALOG_TYPES.flatMap((t) => [t.type, ...t.aliases]);
}

/** `a, b, c or d`. */
export function orList(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** The type named `name`; a {@link ConfigError} listing the known ones when none is. */
export function requireCatalogType(name: string, where: string): CatalogType {
  const t = catalogTypeFor(name);
  if (!t) {
    throw new ConfigError(
      `${where}: unsupported catalog type '${name}' (expected ${orList(catalogTypeNames())})`,
    );
  }
  return t;
}

/** Options of {@link createCatalog}. */
export type CreateCatalogOptions = OpenCatalogOptions;

/**
 * Opens the catalog `name` described by `config`. `storageFor` supplies the storage for a
 * path: the warehouse of a Hadoop catalog, metadata files a SQL catalog writes. The caller
 * closes the catalog.
 */
export async function createCatalog(
  name: string,
  config: CatalogConfigBase,
  storageFor: StorageResolver,
  options: CreateCatalogOptions = {},
): Promise<Catalog> {
  const type = catalogTypeFor(config.type);
  if (!type)
    throw new ConfigError(
      `unsupported catalog type '${config.type}' (expected ${orList(catalogTypeNames())})`,
    );
  return type.open(config.catalogName ?? name, config, storageFor, options);
}
