/**
 * Azure locations. One blob has two spellings in real tables: the ADLS Gen2 form
 * `abfs[s]://container@account.dfs.core.windows.net/path` (Hadoop ABFS, Iceberg's ADLSFileIO) and
 * the Blob form `wasb[s]://container@account.blob.core.windows.net/path` (Hadoop WASB). On an
 * account with a hierarchical namespace both endpoints serve the same objects, so both spellings
 * (and the TLS and plain variants) compare as one location. `abfs[s]://container/path`, without an
 * account (the fsspec form PyIceberg accepts), takes the account from `adls.account-name`.
 */
import { IcebergSyncError } from '../../errors.ts';

/** The schemes the Azure backend serves. */
export const AZURE_SCHEMES: readonly string[] = ['abfss', 'abfs', 'wasbs', 'wasb'];

/** The parts of an Azure location. */
export interface AzureLocation {
  /** The scheme as written, lower case. */
  readonly scheme: string;
  /** The container (file system), as written. */
  readonly container: string;
  /** The storage account; `''` when the location names none (`abfs://container/path`). */
  readonly account: string;
  /**
   * The endpoint suffix after `account.dfs.` or `account.blob.` (`core.windows.net`,
   * `core.chinacloudapi.cn`); `''` when the location names no host.
   */
  readonly endpointSuffix: string;
  /** The host as written (`account.dfs.core.windows.net`); `''` when none. */
  readonly host: string;
  /** The blob name below the container, without a leading `/`; `''` for the container itself. */
  readonly blob: string;
}

const LOCATION = /^(abfss|abfs|wasbs|wasb):\/\/([^/?#]*)(?:\/([^?#]*))?$/i;

/** Splits an Azure location; fails naming it when it is not one. */
export function parseAzurePath(path: string): AzureLocation {
  const m = LOCATION.exec(path);
  const authority = m?.[2] ?? '';
  if (!m || authority === '' || authority.startsWith('@')) {
    throw new IcebergSyncError(
      'INVALID_PATH',
      `'${path}': not an Azure location (abfss://container@account.dfs.core.windows.net/path or ` +
        'wasbs://container@account.blob.core.windows.net/path)',
    );
  }
  const at = authority.lastIndexOf('@');
  const container = at < 0 ? authority : authority.slice(0, at);
  const host = at < 0 ? '' : authority.slice(at + 1).toLowerCase();
  const dot = host.indexOf('.');
  const account = host === '' ? '' : dot < 0 ? host : host.slice(0, dot);
  const suffix = dot < 0 ? '' : host.slice(dot + 1).replace(/^(dfs|blob)\./, '');
  return {
    scheme: m[1]!.toLowerCase(),
    container,
    account,
    endpointSuffix: suffix,
    host,
    blob: (m[3] ?? '').replace(/^\/+/, ''),
  };
}

/**
 * The one spelling of an Azure authority that path comparison uses: lower case, the Blob and DFS
 * endpoints of an account folded into one (`c@acct.blob.core.windows.net` is
 * `c@acct.dfs.core.windows.net`).
 */
export function canonicalAzureAuthority(authority: string): string {
  const a = authority.toLowerCase();
  const at = a.lastIndexOf('@');
  if (at < 0) return a;
  const host = a.slice(at + 1).replace(/^([^.]+)\.blob\./, '$1.dfs.');
  return `${a.slice(0, at)}@${host}`;
}
