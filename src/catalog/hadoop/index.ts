/** The Hadoop catalog type (`hadoop`, alias `file`): Iceberg's file-system layout, on any storage backend. */
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import type { CatalogConfigBase, CatalogType } from '../catalog-type.ts';
import { parseWith, text } from '../config-schema.ts';
import { HadoopCatalog } from './hadoop.ts';

export type { HadoopCatalogOptions, HadoopLoadedTable } from './hadoop.ts';
export { HadoopCatalog, metadataFileVersion, VERSION_HINT } from './hadoop.ts';

/** A `type: hadoop` catalog. */
export interface HadoopCatalogConfig extends CatalogConfigBase {
  readonly type: 'hadoop';
  readonly warehouse: string;
}

/** The settings of a Hadoop catalog. */
export const hadoopCatalogSchema = z.object({
  warehouse: text().refine((w) => w.startsWith('/') || /^[a-z][a-z0-9+.-]+:/i.test(w), {
    error: 'must be an absolute path or a URI',
  }),
  'catalog-name': text().optional(),
});

/** The Hadoop catalog type's descriptor. */
export const hadoopCatalogType: CatalogType<HadoopCatalogConfig> = {
  type: 'hadoop',
  aliases: ['file'],
  description: "Iceberg's Hadoop layout: <warehouse>/<ns>/<table>/metadata/v<N>.metadata.json",
  schema: hadoopCatalogSchema,
  parse(where, raw, properties) {
    const d = parseWith(where, hadoopCatalogSchema, raw);
    return {
      type: 'hadoop',
      warehouse: d.warehouse,
      ...(d['catalog-name'] ? { catalogName: d['catalog-name'] } : {}),
      properties,
    };
  },
  async fromFlags(flags, configured) {
    if (!flags.warehouse) {
      throw new ConfigError('a hadoop catalog needs --warehouse (or warehouse in the config)');
    }
    return {
      type: 'hadoop',
      warehouse: flags.warehouse,
      properties: configured?.properties ?? {},
      ...(configured?.catalogName ? { catalogName: configured.catalogName } : {}),
    };
  },
  writesTo: (config) => [{ what: 'hadoop catalog warehouse', path: config.warehouse }],
  open: async (name, config, storageFor, options) =>
    new HadoopCatalog({
      name,
      warehouse: config.warehouse,
      storage: storageFor(config.warehouse),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    }),
};
