/** The Google Cloud Storage backend (`gs://`). */
import type { StorageBackend } from '../backend.ts';
import { GCS_PROPERTY_KEYS, gcsOptionsFromProperties, gcsRoutes } from './config.ts';
import { parseGcsPath } from './gcs.ts';
import { GCS_SCHEME_INFO } from './schemes.ts';

export { GCS_PROPERTY_KEYS, type GcsPrefixOptions, gcsOptionsFromProperties, gcsRoutes } from './config.ts';
export { GCS_SCHEMES, type GcsLocation, GcsStorage, type GcsStorageOptions, parseGcsPath } from './gcs.ts';

/** The GCS backend's descriptor. */
export const gcsBackend: StorageBackend = {
  name: 'gcs',
  description: 'Google Cloud Storage (and servers speaking its JSON API)',
  schemes: GCS_SCHEME_INFO,
  propertyKeys: GCS_PROPERTY_KEYS,
  parseLocation(location) {
    const { bucket, object } = parseGcsPath(location);
    return { scheme: 'gs', authority: bucket, path: object };
  },
  routes: ({ properties, where, prefixes }) =>
    gcsRoutes(
      gcsOptionsFromProperties(properties, where),
      prefixes.map((p) => ({
        prefix: p.prefix,
        options: gcsOptionsFromProperties(p.properties, `storage.${p.prefix}`, true),
      })),
    ),
};
