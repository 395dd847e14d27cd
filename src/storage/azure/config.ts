/**
 * Azure settings: PyIceberg's `adls.*` properties (and this tool's own), and the storages a router
 * registers for `abfs[s]://` and `wasb[s]://` and the `storage:` section's Azure locations.
 */
import type { StorageRoute } from '../backend.ts';
import { definedOnly, propertyReader } from '../properties.ts';
import { AzureStorage, type AzureStorageOptions } from './azure.ts';
import { AZURE_SCHEMES, parseAzurePath } from './location.ts';

/** The `adls.*` keys {@link azureOptionsFromProperties} reads. */
export const AZURE_PROPERTY_KEYS: readonly string[] = [
  'adls.account-name',
  'adls.account-key',
  'adls.sas-token',
  'adls.connection-string',
  'adls.tenant-id',
  'adls.client-id',
  'adls.client-secret',
  'adls.token',
  'adls.account-host',
  'adls.blob-storage-authority',
  'adls.blob-storage-scheme',
  'adls.max-attempts',
  'adls.request-timeout',
  'adls.block-size',
];

/** Per-account key prefixes (`adls.sas-token.<account>`), as REST catalogs vend them. */
const PER_ACCOUNT = ['adls.sas-token.', 'adls.connection-string.'] as const;

/**
 * Reads {@link AzureStorageOptions} from PyIceberg-style properties. Other keys are ignored,
 * unless `strict`, where an unknown `adls.*` key (a typo) is an error. `where` names the source.
 */
export function azureOptionsFromProperties(
  properties: Readonly<Record<string, string>>,
  where = 'adls',
  strict = false,
): AzureStorageOptions {
  const adls = Object.fromEntries(Object.entries(properties).filter(([k]) => k.startsWith('adls.')));
  const plain = Object.fromEntries(
    Object.entries(adls).filter(([k]) => !PER_ACCOUNT.some((p) => k.startsWith(p))),
  );
  const { get, positive, secondsAsMs, fail } = propertyReader(plain, where, AZURE_PROPERTY_KEYS, strict);
  const scheme = get('adls.blob-storage-scheme');
  if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') {
    fail('adls.blob-storage-scheme', "must be 'http' or 'https'");
  }
  const table = (p: string) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(adls)) {
      if (k.startsWith(p) && v !== '') out[k.slice(p.length).toLowerCase()] = v;
    }
    return Object.keys(out).length ? out : undefined;
  };
  return definedOnly<AzureStorageOptions>({
    where,
    accountName: get('adls.account-name'),
    accountKey: get('adls.account-key'),
    sasToken: get('adls.sas-token'),
    connectionString: get('adls.connection-string'),
    tenantId: get('adls.tenant-id'),
    clientId: get('adls.client-id'),
    clientSecret: get('adls.client-secret'),
    token: get('adls.token'),
    accountHost: get('adls.account-host'),
    blobStorageAuthority: get('adls.blob-storage-authority'),
    blobStorageScheme: scheme,
    accountSasTokens: table('adls.sas-token.'),
    accountConnectionStrings: table('adls.connection-string.'),
    maxAttempts: positive('adls.max-attempts', true),
    requestTimeoutMs: secondsAsMs('adls.request-timeout'),
    blockSizeBytes: positive('adls.block-size', true),
  });
}

/** One prefix with its own Azure settings (a container, or a directory in one). */
export interface AzurePrefixOptions {
  readonly prefix: string;
  readonly options: AzureStorageOptions;
}

/**
 * The Azure storages and the prefixes they serve: one with `defaults` for every Azure path, and
 * one per entry of `prefixes` (its options over the defaults) under each of the four spellings,
 * the longest prefix winning as the router does.
 */
export function azureRoutes(
  defaults: AzureStorageOptions = {},
  prefixes: readonly AzurePrefixOptions[] = [],
): StorageRoute[] {
  const routes: StorageRoute[] = [];
  const fallback = new AzureStorage(defaults);
  for (const scheme of AZURE_SCHEMES) routes.push({ prefix: `${scheme}://`, storage: fallback });
  for (const p of prefixes) {
    const loc = parseAzurePath(p.prefix);
    const storage = new AzureStorage({ ...defaults, ...p.options });
    const rest = loc.blob.replace(/\/+$/, '');
    const tail = rest ? `/${rest}` : '';
    if (!loc.host) {
      for (const scheme of AZURE_SCHEMES)
        routes.push({ prefix: `${scheme}://${loc.container}${tail}`, storage });
      continue;
    }
    const suffix = loc.endpointSuffix;
    for (const scheme of AZURE_SCHEMES) {
      for (const kind of ['dfs', 'blob']) {
        const host = suffix ? `${loc.account}.${kind}.${suffix}` : loc.account;
        routes.push({ prefix: `${scheme}://${loc.container}@${host}${tail}`, storage });
      }
    }
  }
  return routes;
}
