/** The Azure backend (`abfss://`, `abfs://`, `wasbs://`, `wasb://`): ADLS Gen2 and Blob Storage. */
import type { StorageBackend } from '../backend.ts';
import { AZURE_PROPERTY_KEYS, azureOptionsFromProperties, azureRoutes } from './config.ts';
import { parseAzurePath } from './location.ts';
import { AZURE_SCHEME_INFO } from './schemes.ts';

export { AzureStorage, type AzureStorageOptions } from './azure.ts';
export {
  AZURE_PROPERTY_KEYS,
  type AzurePrefixOptions,
  azureOptionsFromProperties,
  azureRoutes,
} from './config.ts';
export { AZURE_SCHEMES, type AzureLocation, canonicalAzureAuthority, parseAzurePath } from './location.ts';

/** The Azure backend's descriptor. */
export const azureBackend: StorageBackend = {
  name: 'azure',
  description: 'Azure Data Lake Storage Gen2 and Blob Storage, through the Blob API',
  schemes: AZURE_SCHEME_INFO,
  propertyKeys: AZURE_PROPERTY_KEYS,
  parseLocation(location) {
    const loc = parseAzurePath(location);
    return {
      scheme: loc.scheme,
      authority: loc.host ? `${loc.container}@${loc.host}` : loc.container,
      path: loc.blob,
    };
  },
  routes: ({ properties, where, prefixes }) =>
    azureRoutes(
      azureOptionsFromProperties(properties, where),
      prefixes.map((p) => ({
        prefix: p.prefix,
        options: azureOptionsFromProperties(p.properties, `storage.${p.prefix}`, true),
      })),
    ),
};
