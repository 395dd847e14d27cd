/**
 * The schemes of every storage backend, with their other spellings, default ports and authority
 * rules: what path mapping compares locations by. Each backend's list is in its folder's
 * `schemes.ts`, which its descriptor in `registry.ts` uses too; this module gathers them without
 * loading the backends themselves, so that the worker threads that map paths (a full sync's
 * manifest blocks) do not carry every backend's code: it was half of such a thread's heap, and
 * what a heap holds is what each of its collections walks. A test holds this list equal to the
 * registry's.
 */

import { AZURE_SCHEME_INFO } from './azure/schemes.ts';
import type { SchemeInfo } from './backend.ts';
import { GCS_SCHEME_INFO } from './gcs/schemes.ts';
import { LOCAL_SCHEME_INFO } from './local/schemes.ts';
import { MEMORY_SCHEME_INFO } from './memory/schemes.ts';
import { S3_SCHEME_INFO } from './s3/schemes.ts';
import { HDFS_SCHEME_INFO } from './webhdfs/schemes.ts';

/** Every backend's schemes, in the registry's order. */
export const STORAGE_SCHEMES: readonly SchemeInfo[] = [
  ...LOCAL_SCHEME_INFO,
  ...S3_SCHEME_INFO,
  ...HDFS_SCHEME_INFO,
  ...AZURE_SCHEME_INFO,
  ...GCS_SCHEME_INFO,
  ...MEMORY_SCHEME_INFO,
];
