/** The Iceberg REST catalog type (`rest`): any server of the REST OpenAPI spec. */
import { z } from 'zod';
import { ConfigError } from '../../errors.ts';
import type { CatalogConfigBase, CatalogType } from '../catalog-type.ts';
import { bool, parseWith, positiveInt, text } from '../config-schema.ts';
import { RestCatalog } from './rest.ts';

export type { RestAuth } from './auth.ts';
export type { HttpClientOptions } from './http.ts';
export type { RestCatalogOptions } from './rest.ts';
export { RestCatalog } from './rest.ts';

/** A `type: rest` catalog, with PyIceberg's setting names. */
export interface RestCatalogConfig extends CatalogConfigBase {
  readonly type: 'rest';
  readonly uri: string;
  readonly prefix?: string;
  readonly token?: string;
  readonly credential?: string;
  readonly oauth2ServerUri?: string;
  readonly scope?: string;
  readonly audience?: string;
  readonly resource?: string;
  /** `header.<name>` settings, by header name. */
  readonly headers: Readonly<Record<string, string>>;
  readonly caBundle?: string;
  readonly clientCert?: string;
  readonly clientKey?: string;
  readonly requestTimeoutMs?: number;
}

const HTTP_URI = /^https?:\/\/[^/]+/i;

/** The settings of a REST catalog (`header.*` keys are taken from the properties). */
export const restCatalogSchema = z.object({
  uri: text().refine((u) => HTTP_URI.test(u), { error: 'must be an http:// or https:// URI' }),
  warehouse: text().optional(),
  prefix: text().optional(),
  token: text().optional(),
  credential: text().optional(),
  'oauth2-server-uri': text()
    .refine((u) => HTTP_URI.test(u), { error: 'must be an http:// or https:// URI' })
    .optional(),
  scope: text().optional(),
  audience: text().optional(),
  resource: text().optional(),
  'ssl.cabundle': text().optional(),
  'ssl.client.cert': text().optional(),
  'ssl.client.key': text().optional(),
  'request-timeout-ms': positiveInt.optional(),
  'rest.sigv4-enabled': bool.optional(),
  'catalog-name': text().optional(),
});

/** The REST catalog type's descriptor. */
export const restCatalogType: CatalogType<RestCatalogConfig> = {
  type: 'rest',
  aliases: [],
  warehouseIsName: true,
  description:
    'an Iceberg REST catalog (Polaris, Nessie, Lakekeeper, Gravitino, Unity, the reference server)',
  schema: restCatalogSchema,
  // PyIceberg infers `rest` from an http(s) URI.
  inferFrom: (properties) => properties.uri !== undefined && HTTP_URI.test(properties.uri),
  parse(where, raw, properties) {
    const d = parseWith(where, restCatalogSchema, raw);
    if (d['rest.sigv4-enabled']) {
      throw new ConfigError(
        `${where}.rest.sigv4-enabled: SigV4 signing of REST requests is not supported yet`,
      );
    }
    if (d.token && d.credential) {
      throw new ConfigError(`${where}: give token or credential, not both`);
    }
    if ((d['ssl.client.cert'] === undefined) !== (d['ssl.client.key'] === undefined)) {
      throw new ConfigError(`${where}: ssl.client.cert and ssl.client.key go together`);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(properties)) if (k.startsWith('header.')) headers[k.slice(7)] = v;
    return {
      type: 'rest',
      uri: d.uri,
      headers,
      properties,
      ...(d['catalog-name'] ? { catalogName: d['catalog-name'] } : {}),
      ...(d.warehouse !== undefined ? { warehouse: d.warehouse } : {}),
      ...(d.prefix !== undefined ? { prefix: d.prefix } : {}),
      ...(d.token !== undefined ? { token: d.token } : {}),
      ...(d.credential !== undefined ? { credential: d.credential } : {}),
      ...(d['oauth2-server-uri'] !== undefined ? { oauth2ServerUri: d['oauth2-server-uri'] } : {}),
      ...(d.scope !== undefined ? { scope: d.scope } : {}),
      ...(d.audience !== undefined ? { audience: d.audience } : {}),
      ...(d.resource !== undefined ? { resource: d.resource } : {}),
      ...(d['ssl.cabundle'] !== undefined ? { caBundle: d['ssl.cabundle'] } : {}),
      ...(d['ssl.client.cert'] !== undefined ? { clientCert: d['ssl.client.cert'] } : {}),
      ...(d['ssl.client.key'] !== undefined ? { clientKey: d['ssl.client.key'] } : {}),
      ...(d['request-timeout-ms'] !== undefined ? { requestTimeoutMs: d['request-timeout-ms'] } : {}),
    };
  },
  async fromFlags(flags, configured) {
    const base = configured?.type === 'rest' ? (configured as RestCatalogConfig) : undefined;
    const uri = flags.uri ?? base?.uri;
    if (!uri)
      throw new ConfigError('a rest catalog needs --catalog-uri http(s)://... (or uri in the config)');
    if (!HTTP_URI.test(uri))
      throw new ConfigError(`--catalog-uri ${uri}: a rest catalog needs an http:// or https:// URI`);
    const warehouse = flags.warehouse ?? base?.warehouse;
    return {
      ...(base ?? { headers: {}, properties: {} }),
      type: 'rest',
      uri,
      ...(warehouse !== undefined ? { warehouse } : {}),
    };
  },
  open: (name, config, storageFor, options) =>
    RestCatalog.open({
      name,
      uri: config.uri,
      headers: config.headers,
      storageFor,
      readOnly: options.readOnly ?? false,
      ...(config.warehouse !== undefined ? { warehouse: config.warehouse } : {}),
      ...(config.prefix !== undefined ? { prefix: config.prefix } : {}),
      ...(config.token !== undefined ? { token: config.token } : {}),
      ...(config.credential !== undefined ? { credential: config.credential } : {}),
      ...(config.oauth2ServerUri !== undefined ? { oauth2ServerUri: config.oauth2ServerUri } : {}),
      ...(config.scope !== undefined ? { scope: config.scope } : {}),
      ...(config.audience !== undefined ? { audience: config.audience } : {}),
      ...(config.resource !== undefined ? { resource: config.resource } : {}),
      http: {
        ...(config.caBundle !== undefined ? { caFile: config.caBundle } : {}),
        ...(config.clientCert !== undefined ? { certFile: config.clientCert } : {}),
        ...(config.clientKey !== undefined ? { keyFile: config.clientKey } : {}),
        ...(config.requestTimeoutMs !== undefined ? { timeoutMs: config.requestTimeoutMs } : {}),
      },
    }),
};
