/**
 * How the Azure backend reaches one storage account: the Blob service URL and the credential, from
 * the settings (PyIceberg's `adls.*` names) and the standard Azure environment, in this order:
 * a connection string, a SAS token, an account key, a bearer token, a service principal (client
 * secret), and else `DefaultAzureCredential` (environment service principal, workload identity,
 * managed identity, Azure CLI). Nothing here talks to the network.
 */
import { ConfigError } from '../../errors.ts';
import type { AzureLocation } from './location.ts';

/** Credentials and endpoints of the Azure backend; every member optional. */
export interface AzureCredentialOptions {
  /** `adls.account-name`: the account of locations that name none (`abfs://container/path`). */
  readonly accountName?: string;
  /** `adls.account-key`: a shared key of the account. */
  readonly accountKey?: string;
  /** `adls.sas-token`: a shared access signature (with or without its leading `?`). */
  readonly sasToken?: string;
  /** `adls.connection-string`: an Azure Storage connection string. */
  readonly connectionString?: string;
  /** `adls.tenant-id`, `adls.client-id`, `adls.client-secret`: a service principal. */
  readonly tenantId?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** `adls.token`: a static OAuth2 bearer token (as REST catalogs vend them). */
  readonly token?: string;
  /** `adls.account-host`: the Blob host of the account (`acct.blob.core.windows.net`, `host:port`). */
  readonly accountHost?: string;
  /**
   * `adls.blob-storage-authority` (`127.0.0.1:10000`, or `.blob.core.usgovcloudapi.net`): starting
   * with `.`, the account name is put before it; else the account is the URL's first path
   * segment (emulators).
   */
  readonly blobStorageAuthority?: string;
  /** `adls.blob-storage-scheme`: `https` (default) or `http`. */
  readonly blobStorageScheme?: string;
  /** Per-account SAS tokens (`adls.sas-token.<account host or name>`), keyed lower case. */
  readonly accountSasTokens?: Readonly<Record<string, string>>;
  /** Per-account connection strings (`adls.connection-string.<account host or name>`). */
  readonly accountConnectionStrings?: Readonly<Record<string, string>>;
  /** Read `AZURE_STORAGE_*` from the environment (default true). */
  readonly useEnvironment?: boolean;
}

/** What one account is reached with. */
export type AzureAuth =
  | { readonly kind: 'shared-key'; readonly account: string; readonly key: string }
  | { readonly kind: 'sas'; readonly sas: string }
  | { readonly kind: 'token'; readonly token: string }
  | {
      readonly kind: 'client-secret';
      readonly tenantId: string;
      readonly clientId: string;
      readonly clientSecret: string;
    }
  | { readonly kind: 'default'; readonly clientId?: string };

/** The Blob service of one account and how to authenticate to it. */
export interface AzureAccountAccess {
  /** The account name. */
  readonly account: string;
  /** The Blob service URL (`https://acct.blob.core.windows.net`, `http://127.0.0.1:10000/acct`). */
  readonly serviceUrl: string;
  readonly auth: AzureAuth;
  /** Which setting chose the credential, for messages (`adls.sas-token`); never its value. */
  readonly source: string;
}

/** The parts of a connection string this backend uses. */
interface ConnectionStringParts {
  readonly account?: string;
  readonly key?: string;
  readonly sas?: string;
  readonly blobEndpoint?: string;
  readonly protocol: string;
  readonly suffix: string;
}

const DEV_ACCOUNT = 'devstoreaccount1';
// The emulators' well-known development key (documented publicly by Microsoft for Azurite).
const DEV_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** Parses a connection string; fails (without quoting it: it holds a secret) when malformed. */
export function parseConnectionString(text: string, where: string): ConnectionStringParts {
  const parts = new Map<string, string>();
  for (const piece of text.split(';')) {
    if (piece.trim() === '') continue;
    const eq = piece.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${where}: not a connection string (Key=Value;... expected)`);
    parts.set(piece.slice(0, eq).trim().toLowerCase(), piece.slice(eq + 1).trim());
  }
  if (parts.get('usedevelopmentstorage')?.toLowerCase() === 'true') {
    return {
      account: DEV_ACCOUNT,
      key: DEV_KEY,
      blobEndpoint: `http://127.0.0.1:10000/${DEV_ACCOUNT}`,
      protocol: 'http',
      suffix: 'core.windows.net',
    };
  }
  const out: ConnectionStringParts = {
    ...(parts.get('accountname') ? { account: parts.get('accountname')! } : {}),
    ...(parts.get('accountkey') ? { key: parts.get('accountkey')! } : {}),
    ...(parts.get('sharedaccesssignature') ? { sas: parts.get('sharedaccesssignature')! } : {}),
    ...(parts.get('blobendpoint') ? { blobEndpoint: parts.get('blobendpoint')!.replace(/\/+$/, '') } : {}),
    protocol: parts.get('defaultendpointsprotocol') ?? 'https',
    suffix: parts.get('endpointsuffix') ?? 'core.windows.net',
  };
  if (!out.account && !out.blobEndpoint) {
    throw new ConfigError(`${where}: the connection string names neither AccountName nor BlobEndpoint`);
  }
  if (!out.key && !out.sas) {
    throw new ConfigError(`${where}: the connection string has neither AccountKey nor SharedAccessSignature`);
  }
  return out;
}

function env(name: string, use: boolean): string | undefined {
  if (!use) return undefined;
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

/** A per-account entry: by the location's host, then by its account name. */
function perAccount(
  table: Readonly<Record<string, string>> | undefined,
  loc: AzureLocation,
  account: string,
): string | undefined {
  if (!table) return undefined;
  const blobHost = loc.host.replace(/^([^.]+)\.dfs\./, '$1.blob.');
  const dfsHost = loc.host.replace(/^([^.]+)\.blob\./, '$1.dfs.');
  for (const k of [loc.host, dfsHost, blobHost, account]) {
    if (k && table[k] !== undefined) return table[k];
  }
  return undefined;
}

/**
 * How to reach the account of `loc`. `where` names the settings in errors. Fails with a
 * {@link ConfigError} when the location names no account and none is configured, or when a
 * connection string is for another account.
 */
export function resolveAccountAccess(
  loc: AzureLocation,
  o: AzureCredentialOptions,
  where: string,
): AzureAccountAccess {
  const useEnv = o.useEnvironment ?? true;
  const account = loc.account || o.accountName || env('AZURE_STORAGE_ACCOUNT_NAME', useEnv) || '';
  const suffix = loc.endpointSuffix || 'core.windows.net';
  const cs =
    perAccount(o.accountConnectionStrings, loc, account) ??
    o.connectionString ??
    env('AZURE_STORAGE_CONNECTION_STRING', useEnv);
  const csSource =
    o.connectionString || perAccount(o.accountConnectionStrings, loc, account)
      ? 'adls.connection-string'
      : 'AZURE_STORAGE_CONNECTION_STRING';
  if (cs !== undefined) {
    const p = parseConnectionString(cs, `${where}: ${csSource}`);
    const name = account || p.account || '';
    if (p.account && name && p.account.toLowerCase() !== name.toLowerCase()) {
      throw new ConfigError(
        `${where}: ${csSource} is for the account '${p.account}', but the location names '${name}'; ` +
          `give that account's connection string as adls.connection-string.${name}`,
      );
    }
    if (!name) throw new ConfigError(`${where}: name the storage account (adls.account-name)`);
    const serviceUrl = p.blobEndpoint ?? `${p.protocol}://${name}.blob.${p.suffix}`;
    const auth: AzureAuth = p.key
      ? { kind: 'shared-key', account: name, key: p.key }
      : { kind: 'sas', sas: p.sas! };
    return { account: name, serviceUrl, auth, source: csSource };
  }
  if (!account) {
    throw new ConfigError(
      `${where}: the location names no storage account (abfss://container@account.dfs.core.windows.net/...); ` +
        'spell it out, or set adls.account-name',
    );
  }
  const scheme = (o.blobStorageScheme ?? 'https').toLowerCase();
  let serviceUrl: string;
  if (o.accountHost) serviceUrl = `${scheme}://${o.accountHost.replace(/\/+$/, '')}`;
  else if (o.blobStorageAuthority?.startsWith('.'))
    serviceUrl = `${scheme}://${account}${o.blobStorageAuthority}`;
  else if (o.blobStorageAuthority) serviceUrl = `${scheme}://${o.blobStorageAuthority}/${account}`;
  else serviceUrl = `${scheme}://${account}.blob.${suffix}`;
  const sas = perAccount(o.accountSasTokens, loc, account) ?? o.sasToken;
  if (sas !== undefined) return { account, serviceUrl, auth: { kind: 'sas', sas }, source: 'adls.sas-token' };
  if (o.accountKey !== undefined)
    return {
      account,
      serviceUrl,
      auth: { kind: 'shared-key', account, key: o.accountKey },
      source: 'adls.account-key',
    };
  if (o.token !== undefined)
    return { account, serviceUrl, auth: { kind: 'token', token: o.token }, source: 'adls.token' };
  const anySp = o.tenantId !== undefined || o.clientSecret !== undefined;
  if (anySp) {
    if (!o.tenantId || !o.clientId || !o.clientSecret) {
      throw new ConfigError(
        `${where}: a service principal needs all of adls.tenant-id, adls.client-id and adls.client-secret`,
      );
    }
    return {
      account,
      serviceUrl,
      auth: {
        kind: 'client-secret',
        tenantId: o.tenantId,
        clientId: o.clientId,
        clientSecret: o.clientSecret,
      },
      source: 'adls.client-secret',
    };
  }
  const envSas = env('AZURE_STORAGE_SAS_TOKEN', useEnv);
  if (envSas !== undefined)
    return { account, serviceUrl, auth: { kind: 'sas', sas: envSas }, source: 'AZURE_STORAGE_SAS_TOKEN' };
  const envKey = env('AZURE_STORAGE_ACCOUNT_KEY', useEnv) ?? env('AZURE_STORAGE_KEY', useEnv);
  if (envKey !== undefined)
    return {
      account,
      serviceUrl,
      auth: { kind: 'shared-key', account, key: envKey },
      source: 'AZURE_STORAGE_ACCOUNT_KEY',
    };
  return {
    account,
    serviceUrl,
    auth: { kind: 'default', ...(o.clientId ? { clientId: o.clientId } : {}) },
    source: 'DefaultAzureCredential',
  };
}
