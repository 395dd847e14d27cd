/** The S3 backend (`s3://`, `s3a://`, `s3n://`): Amazon S3 and S3-compatible servers. */
import type { StorageBackend } from '../backend.ts';
import { S3_PROPERTY_KEYS, s3OptionsFromProperties, s3Routes } from './config.ts';
import { parseS3Path } from './s3.ts';
import { S3_SCHEME_INFO } from './schemes.ts';

export {
  registerS3Storage,
  S3_PROPERTY_KEYS,
  type S3PrefixOptions,
  s3OptionsFromProperties,
  s3Routes,
} from './config.ts';
export { parseS3Path, S3_SCHEMES, type S3Location, S3Storage, type S3StorageOptions } from './s3.ts';

/** The S3 backend's descriptor. */
export const s3Backend: StorageBackend = {
  name: 's3',
  description: 'Amazon S3 and S3-compatible servers (OneFS S3, MinIO, Ceph RGW)',
  // Hadoop's s3a:// and s3n:// name the same objects as s3://.
  schemes: S3_SCHEME_INFO,
  propertyKeys: S3_PROPERTY_KEYS,
  parseLocation(location) {
    const { scheme, bucket, key } = parseS3Path(location);
    return { scheme, authority: bucket, path: key };
  },
  routes: ({ properties, where, prefixes, onWarning }) => {
    const warn = onWarning ? { onWarning } : {};
    return s3Routes(
      { ...s3OptionsFromProperties(properties, where), ...warn },
      prefixes.map((p) => ({
        prefix: p.prefix,
        options: { ...s3OptionsFromProperties(p.properties, `storage.${p.prefix}`, true), ...warn },
      })),
    );
  },
};
