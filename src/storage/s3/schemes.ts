/** The S3 backend's schemes: `s3a://` and `s3n://` (Hadoop's) name the same objects as `s3://`. */
import type { SchemeInfo } from '../backend.ts';

export const S3_SCHEME_INFO: readonly SchemeInfo[] = [
  { scheme: 's3' },
  { scheme: 's3a', sameAs: 's3' },
  { scheme: 's3n', sameAs: 's3' },
];
