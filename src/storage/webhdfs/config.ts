/**
 * WebHDFS settings: the `hdfs.*` properties, nameservices defined the Hadoop way
 * (`dfs.namenode.http-address.<ns>.<nn>`), and registering backends with a router.
 */
import type { StorageRoute } from '../backend.ts';
import { definedOnly, propertyReader } from '../properties.ts';
import type { StorageRouter } from '../router.ts';
import { HDFS_SCHEMES, normalizeNamenode, parseHdfsPath } from './location.ts';
import { WebHdfsStorage, type WebHdfsStorageOptions } from './webhdfs.ts';

/** The `hdfs.*` keys {@link webHdfsOptionsFromProperties} reads. */
export const HDFS_PROPERTY_KEYS: readonly string[] = [
  'hdfs.namenodes',
  'hdfs.user',
  'hdfs.delegation-token',
  'hdfs.max-attempts',
  'hdfs.request-timeout',
];

/**
 * Reads {@link WebHdfsStorageOptions} from properties: `hdfs.namenodes` (comma-separated NameNode
 * HTTP addresses, `http://nn1:9870,http://nn2:9870` or `nn1:9870,nn2:9870`), `hdfs.user` (as
 * PyIceberg names it), `hdfs.delegation-token`, `hdfs.max-attempts`, and `hdfs.request-timeout` in
 * seconds. Other keys are ignored, unless `strict`, where an unknown `hdfs.*` key is an error.
 */
export function webHdfsOptionsFromProperties(
  properties: Readonly<Record<string, string>>,
  where = 'hdfs',
  strict = false,
): WebHdfsStorageOptions {
  const { get, positive, secondsAsMs } = propertyReader(properties, where, HDFS_PROPERTY_KEYS, strict);
  const nn = get('hdfs.namenodes');
  return definedOnly<WebHdfsStorageOptions>({
    namenodes: nn
      ?.split(',')
      .map((a) => a.trim())
      .filter((a) => a !== '')
      .map((a) => normalizeNamenode(a, `${where}.hdfs.namenodes`)),
    user: get('hdfs.user'),
    delegationToken: get('hdfs.delegation-token'),
    maxAttempts: positive('hdfs.max-attempts', true),
    requestTimeoutMs: secondsAsMs('hdfs.request-timeout'),
  });
}

/**
 * The nameservices defined the Hadoop way in catalog properties (as `hdfs-site.xml` has them):
 * `dfs.namenode.http-address.<ns>.<nn>` (or `dfs.namenode.https-address...` for HTTPS) = `host:port`,
 * in the order of `dfs.ha.namenodes.<ns>` when given, else by NameNode id; a single NameNode may be
 * `dfs.namenode.http-address.<ns>`. Returns NameNode URLs by nameservice.
 */
export function hadoopNameservices(
  properties: Readonly<Record<string, string>>,
): Map<string, readonly string[]> {
  const byNs = new Map<string, Map<string, string>>();
  for (const [k, v] of Object.entries(properties)) {
    const m = /^dfs\.namenode\.(http|https)-address\.([^.]+)(?:\.(.+))?$/.exec(k);
    if (!m || !v) continue;
    const scheme = m[1]!;
    const ns = m[2]!;
    const nn = m[3] ?? '';
    const urls = byNs.get(ns) ?? new Map<string, string>();
    // HTTPS wins where both are given for one NameNode.
    if (scheme === 'https' || !urls.has(nn)) {
      urls.set(nn, normalizeNamenode(`${scheme}://${v.replace(/^[a-z]+:\/\//i, '')}`, k));
    }
    byNs.set(ns, urls);
  }
  const out = new Map<string, readonly string[]>();
  for (const [ns, urls] of byNs) {
    const order = properties[`dfs.ha.namenodes.${ns}`]
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const ids = order ?? [...urls.keys()].sort();
    const list = ids.map((id) => urls.get(id)).filter((u): u is string => u !== undefined);
    if (list.length > 0) out.set(ns, list);
  }
  return out;
}

/** One location with its own HDFS settings (a nameservice, or a directory in one). */
export interface HdfsPrefixOptions {
  /** `hdfs://nameservice` or `hdfs://nameservice/dir` (or `webhdfs://host:port[/dir]`). */
  readonly prefix: string;
  readonly options: WebHdfsStorageOptions;
}

/**
 * The HDFS storages and the prefixes they serve: one with `defaults` for every `hdfs://`,
 * `webhdfs://` and `swebhdfs://` path (NameNode from the path's authority unless
 * `defaults.namenodes` is set), and one per entry of `prefixes` (its options over the defaults),
 * the longest prefix winning as the router does.
 */
export function hdfsRoutes(
  defaults: WebHdfsStorageOptions = {},
  prefixes: readonly HdfsPrefixOptions[] = [],
): StorageRoute[] {
  const routes: StorageRoute[] = [];
  const fallback = new WebHdfsStorage(defaults);
  for (const scheme of HDFS_SCHEMES) routes.push({ prefix: `${scheme}://`, storage: fallback });
  for (const p of prefixes) {
    parseHdfsPath(p.prefix);
    const merged = { ...defaults, ...p.options };
    // A token and a user name go together with the entry that gives either.
    if (p.options.user !== undefined && p.options.delegationToken === undefined)
      delete merged.delegationToken;
    routes.push({ prefix: p.prefix, storage: new WebHdfsStorage(merged) });
  }
  return routes;
}

/** Registers {@link hdfsRoutes} with a router. */
export function registerHdfsStorage(
  router: StorageRouter,
  defaults: WebHdfsStorageOptions = {},
  prefixes: readonly HdfsPrefixOptions[] = [],
): StorageRouter {
  for (const r of hdfsRoutes(defaults, prefixes)) router.register(r.prefix, r.storage);
  return router;
}
