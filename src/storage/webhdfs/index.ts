/** The WebHDFS storage backend (`hdfs://`, `webhdfs://`, `swebhdfs://`). */
import type { StorageBackend } from '../backend.ts';
import {
  HDFS_PROPERTY_KEYS,
  type HdfsPrefixOptions,
  hadoopNameservices,
  hdfsRoutes,
  webHdfsOptionsFromProperties,
} from './config.ts';
import { parseHdfsPath } from './location.ts';
import { HDFS_SCHEME_INFO } from './schemes.ts';

export {
  HDFS_PROPERTY_KEYS,
  type HdfsPrefixOptions,
  hadoopNameservices,
  hdfsRoutes,
  registerHdfsStorage,
  webHdfsOptionsFromProperties,
} from './config.ts';
export {
  DEFAULT_NAMENODE_HTTP_PORT,
  DEFAULT_NAMENODE_RPC_PORT,
  HDFS_SCHEMES,
  type HdfsLocation,
  normalizeNamenode,
  parseHdfsPath,
} from './location.ts';
export { WebHdfsStorage, type WebHdfsStorageOptions } from './webhdfs.ts';

/** The WebHDFS backend's descriptor. */
export const webHdfsBackend: StorageBackend = {
  name: 'hdfs',
  description: 'HDFS through WebHDFS, the NameNode REST API (HA nameservices, simple or token auth)',
  schemes: HDFS_SCHEME_INFO,
  propertyKeys: HDFS_PROPERTY_KEYS,
  parseLocation(location) {
    const { scheme, authority, path } = parseHdfsPath(location);
    return { scheme, authority, path };
  },
  routes: ({ properties, where, prefixes, onWarning }) => {
    const warn = onWarning ? { onWarning } : {};
    // Nameservices defined the Hadoop way come first, so that storage: entries override them.
    const entries: HdfsPrefixOptions[] = [...hadoopNameservices(properties)].map(([ns, namenodes]) => ({
      prefix: `hdfs://${ns}`,
      options: { namenodes },
    }));
    for (const p of prefixes) {
      entries.push({
        prefix: p.prefix,
        options: { ...webHdfsOptionsFromProperties(p.properties, `storage.${p.prefix}`, true), ...warn },
      });
    }
    return hdfsRoutes({ ...webHdfsOptionsFromProperties(properties, where), ...warn }, entries);
  },
};
