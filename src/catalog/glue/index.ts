/**
 * The AWS Glue catalog type (`glue`): Glue Data Catalog tables as Apache Iceberg's and PyIceberg's
 * GlueCatalog keep them. Settings are PyIceberg's (`glue.region`, `glue.endpoint`, `glue.id`,
 * `glue.access-key-id`, `glue.secret-access-key`, `glue.session-token`, `glue.profile-name`,
 * `glue.max-retries`, `glue.retry-mode`, `glue.skip-archive`), each falling back to its `client.*`
 * twin where PyIceberg has one, then to the AWS SDK's default chain (environment, shared config
 * and credential files, SSO, container and instance roles).
 */
import type { GlueClient } from '@aws-sdk/client-glue';
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import type { CatalogConfigBase, CatalogType } from '../catalog-type.ts';
import { bool, parseWith, text } from '../config-schema.ts';
import { GlueCatalog, loadGlueSdk } from './glue.ts';

export type { GlueCatalogOptions } from './glue.ts';
export { GlueCatalog } from './glue.ts';
export { glueColumns, glueTableInput, glueTypeName } from './table-input.ts';

/** A `type: glue` catalog. */
export interface GlueCatalogConfig extends CatalogConfigBase {
  readonly type: 'glue';
  /** `glue.region`, else `client.region`; else the SDK's (AWS_REGION, the profile's region). */
  readonly region?: string;
  /** `glue.endpoint` (or `--catalog-uri`): a Glue endpoint other than the region's. */
  readonly endpoint?: string;
  /** `glue.id`: the catalog id (the AWS account that owns the catalog). */
  readonly catalogId?: string;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly sessionToken?: string;
  readonly profile?: string;
  /** `glue.max-retries` (default 10, as PyIceberg): retries after the first attempt. */
  readonly maxRetries: number;
  /** `glue.retry-mode`: `standard` (default) or `adaptive` (PyIceberg's `legacy` reads as standard). */
  readonly retryMode: 'standard' | 'adaptive';
  /** `glue.skip-archive` (default true, as Java and PyIceberg). */
  readonly skipArchive: boolean;
}

const retries = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < 0 || n > 100) {
    ctx.addIssue({ code: 'custom', message: 'must be a whole number from 0 to 100' });
    return z.NEVER;
  }
  return n;
});

/** The settings of a Glue catalog. */
export const glueCatalogSchema = z.object({
  warehouse: text().optional(),
  'glue.region': text().optional(),
  'client.region': text().optional(),
  'glue.endpoint': text()
    .refine((u) => /^https?:\/\/[^/]/i.test(u), { error: 'must be an http:// or https:// URL' })
    .optional(),
  'glue.id': text().optional(),
  'glue.access-key-id': text().optional(),
  'client.access-key-id': text().optional(),
  'glue.secret-access-key': text().optional(),
  'client.secret-access-key': text().optional(),
  'glue.session-token': text().optional(),
  'client.session-token': text().optional(),
  'glue.profile-name': text().optional(),
  'client.profile-name': text().optional(),
  'glue.max-retries': retries.optional(),
  'glue.retry-mode': z.enum(['standard', 'adaptive', 'legacy']).optional(),
  'glue.skip-archive': bool.optional(),
  'catalog-name': text().optional(),
});

/** A key and its secret come together, or not at all. */
function checkKeys(where: string, c: GlueCatalogConfig): GlueCatalogConfig {
  if ((c.accessKeyId === undefined) !== (c.secretAccessKey === undefined)) {
    throw new ConfigError(
      `${where}: give glue.access-key-id and glue.secret-access-key together (or neither, for the AWS default chain)`,
    );
  }
  if (c.sessionToken !== undefined && c.accessKeyId === undefined) {
    throw new ConfigError(`${where}: glue.session-token needs glue.access-key-id and glue.secret-access-key`);
  }
  return c;
}

/** The Glue catalog type's descriptor. */
export const glueCatalogType: CatalogType<GlueCatalogConfig> = {
  type: 'glue',
  aliases: [],
  description: "the AWS Glue Data Catalog, with tables as Iceberg's and PyIceberg's GlueCatalog write them",
  schema: glueCatalogSchema,
  parse(where, raw, properties) {
    const d = parseWith(where, glueCatalogSchema, raw);
    const pick = <T>(a: T | undefined, b: T | undefined) => a ?? b;
    const c: GlueCatalogConfig = {
      type: 'glue',
      properties,
      maxRetries: d['glue.max-retries'] ?? 10,
      retryMode: d['glue.retry-mode'] === 'adaptive' ? 'adaptive' : 'standard',
      skipArchive: d['glue.skip-archive'] ?? true,
      ...opt('region', pick(d['glue.region'], d['client.region'])),
      ...opt('endpoint', d['glue.endpoint']),
      ...opt('catalogId', d['glue.id']),
      ...opt('accessKeyId', pick(d['glue.access-key-id'], d['client.access-key-id'])),
      ...opt('secretAccessKey', pick(d['glue.secret-access-key'], d['client.secret-access-key'])),
      ...opt('sessionToken', pick(d['glue.session-token'], d['client.session-token'])),
      ...opt('profile', pick(d['glue.profile-name'], d['client.profile-name'])),
      ...opt('warehouse', d.warehouse),
      ...opt('catalogName', d['catalog-name']),
    };
    return checkKeys(where, c);
  },
  async fromFlags(flags, configured) {
    const base = configured?.type === 'glue' ? (configured as GlueCatalogConfig) : undefined;
    const endpoint = flags.uri ?? base?.endpoint;
    if (endpoint !== undefined && !/^https?:\/\/[^/]/i.test(endpoint)) {
      throw new ConfigError(`--catalog-uri: a Glue endpoint is an http:// or https:// URL, not ${endpoint}`);
    }
    const {
      warehouse: _w,
      endpoint: _e,
      ...rest
    } = base ?? {
      type: 'glue' as const,
      properties: {},
      maxRetries: 10,
      retryMode: 'standard' as const,
      skipArchive: true,
    };
    return {
      ...rest,
      ...opt('endpoint', endpoint),
      ...opt('warehouse', flags.warehouse),
    };
  },
  async open(name, config, storageFor, options) {
    return new GlueCatalog({
      name,
      client: await glueClient(config),
      endpoint: config.endpoint ?? `the Glue endpoint of ${config.region ?? 'the default region'}`,
      skipArchive: config.skipArchive,
      storageFor,
      ...opt('catalogId', config.catalogId),
      ...(options.readOnly ? { readOnly: true } : {}),
    });
  },
};

/** The SDK client of a configuration: its region, endpoint, credentials and bounded retries. */
export async function glueClient(config: GlueCatalogConfig): Promise<GlueClient> {
  const { GlueClient } = await loadGlueSdk();
  return new GlueClient({
    ...opt('region', config.region),
    ...opt('endpoint', config.endpoint),
    ...opt('profile', config.profile),
    ...(config.accessKeyId !== undefined && config.secretAccessKey !== undefined
      ? {
          credentials: {
            accessKeyId: config.accessKeyId,
            secretAccessKey: config.secretAccessKey,
            ...opt('sessionToken', config.sessionToken),
          },
        }
      : {}),
    // The SDK's standard strategy: exponential backoff with jitter on throttling, 5xx and dropped
    // connections, `maxAttempts` in all.
    maxAttempts: config.maxRetries + 1,
    retryMode: config.retryMode,
  });
}

/** `{ [key]: value }` when the value is set, else nothing (exactOptionalPropertyTypes). */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
