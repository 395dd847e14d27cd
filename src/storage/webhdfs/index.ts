/** The WebHDFS storage backend (`hdfs://`, `webhdfs://`, `swebhdfs://`). */
export {
  HDFS_PROPERTY_KEYS,
  type HdfsPrefixOptions,
  hadoopNameservices,
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
