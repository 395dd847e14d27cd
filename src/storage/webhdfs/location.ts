/**
 * HDFS locations: `hdfs://nameservice/path`, `webhdfs://host:port/path`, `swebhdfs://host:port/path`,
 * and the NameNode HTTP addresses requests go to.
 */
import { ConfigError, IcebergSyncError } from '../../errors.ts';

/** The URI schemes served by the WebHDFS backend. */
export const HDFS_SCHEMES: readonly string[] = ['hdfs', 'webhdfs', 'swebhdfs'];

/** The NameNode HTTP port Hadoop 3 listens on by default, for `hdfs://host` without configuration. */
export const DEFAULT_NAMENODE_HTTP_PORT = 9870;

/** The NameNode RPC port `hdfs://host` means when it names none (Hadoop's `fs.defaultFS` default). */
export const DEFAULT_NAMENODE_RPC_PORT = 8020;

/** The parts of an `hdfs://authority/path` location. */
export interface HdfsLocation {
  /** `hdfs`, `webhdfs` or `swebhdfs` (lower case). */
  readonly scheme: string;
  /** The nameservice or `host[:port]`; empty for `hdfs:///path`. */
  readonly authority: string;
  /** The absolute path inside the file system (`/` for the root). */
  readonly path: string;
}

/** Splits `hdfs://authority/path` (also `webhdfs://`, `swebhdfs://`); fails for anything else. */
export function parseHdfsPath(path: string): HdfsLocation {
  const m = /^(hdfs|webhdfs|swebhdfs):\/\/([^/]*)(\/.*)?$/i.exec(path);
  if (!m) {
    throw new IcebergSyncError(
      'INVALID_PATH',
      `'${path}': not an HDFS location (hdfs://nameservice/path or webhdfs://host:port/path)`,
    );
  }
  const p = (m[3] ?? '/').replace(/\/{2,}/g, '/');
  return { scheme: m[1]!.toLowerCase(), authority: m[2]!, path: p };
}

/** `http://host:port` for a NameNode address given as a URL or as `host:port`. */
export function normalizeNamenode(address: string, where = 'hdfs.namenodes'): string {
  const a = address.trim();
  const withScheme = /^[a-z]+:\/\//i.test(a) ? a : `http://${a}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigError(`${where}: '${address}' is not a NameNode HTTP address (http://host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${where}: '${address}' must be an http:// or https:// address`);
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new ConfigError(`${where}: '${address}' must be a bare address, without a path`);
  }
  return `${url.protocol}//${url.host}`;
}
