/** The WebHDFS backend's schemes (see `storage/schemes.ts`). */
import type { SchemeInfo } from '../backend.ts';
import { DEFAULT_NAMENODE_HTTP_PORT, DEFAULT_NAMENODE_RPC_PORT } from './location.ts';

export const HDFS_SCHEME_INFO: readonly SchemeInfo[] = [
  // hdfs://nn names the NameNode's RPC address; webhdfs://nn its HTTP one: other ports, so
  // other spellings of a location, never the same as each other.
  { scheme: 'hdfs', defaultPort: DEFAULT_NAMENODE_RPC_PORT },
  { scheme: 'webhdfs', defaultPort: DEFAULT_NAMENODE_HTTP_PORT },
  { scheme: 'swebhdfs' },
];
