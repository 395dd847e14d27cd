/**
 * The Azure backend's schemes. One blob, four spellings: ABFS and WASB, with and without TLS; the
 * account's dfs and blob hosts are folded into one by the authority rule.
 */
import type { SchemeInfo } from '../backend.ts';
import { canonicalAzureAuthority } from './location.ts';

export const AZURE_SCHEME_INFO: readonly SchemeInfo[] = [
  { scheme: 'abfss', normalizeAuthority: canonicalAzureAuthority },
  { scheme: 'abfs', sameAs: 'abfss', normalizeAuthority: canonicalAzureAuthority },
  { scheme: 'wasbs', sameAs: 'abfss', normalizeAuthority: canonicalAzureAuthority },
  { scheme: 'wasb', sameAs: 'abfss', normalizeAuthority: canonicalAzureAuthority },
];
