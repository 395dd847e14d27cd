/**
 * S3 settings: PyIceberg's `s3.*` properties (and this tool's own), and the storages a router
 * registers for `s3://`, `s3a://`, `s3n://` and the `storage:` section's S3 locations.
 */
import { ConfigError } from '../../errors.ts';
import type { StorageRoute } from '../backend.ts';
import { definedOnly, propertyReader } from '../properties.ts';
import type { StorageRouter } from '../router.ts';
import { parseS3Path, S3_SCHEMES, S3Storage, type S3StorageOptions } from './s3.ts';

/** The `s3.*` keys {@link s3OptionsFromProperties} reads. */
export const S3_PROPERTY_KEYS: readonly string[] = [
  's3.endpoint',
  's3.region',
  's3.access-key-id',
  's3.secret-access-key',
  's3.session-token',
  's3.path-style-access',
  's3.conditional-writes',
  's3.max-attempts',
  's3.connect-timeout',
  's3.request-timeout',
];

/**
 * Reads {@link S3StorageOptions} from PyIceberg-style properties (`s3.endpoint`,
 * `s3.access-key-id`, `s3.secret-access-key`, `s3.session-token`, `s3.region`,
 * `s3.path-style-access`, plus `s3.conditional-writes`, `s3.max-attempts`, and PyIceberg's
 * `s3.connect-timeout` / `s3.request-timeout` in seconds). Other keys are ignored, unless
 * `strict`, where an unknown `s3.*` key (a typo) is an error. `where` names the source in errors.
 */
export function s3OptionsFromProperties(
  properties: Readonly<Record<string, string>>,
  where = 's3',
  strict = false,
): S3StorageOptions {
  const { get, bool, positive, secondsAsMs, fail } = propertyReader(
    properties,
    where,
    S3_PROPERTY_KEYS,
    strict,
  );
  const endpoint = get('s3.endpoint');
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      fail('s3.endpoint', 'must be an http:// or https:// URL');
    }
  }
  const accessKeyId = get('s3.access-key-id');
  const secretAccessKey = get('s3.secret-access-key');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError(`${where}: give both s3.access-key-id and s3.secret-access-key, or neither`);
  }
  return definedOnly<S3StorageOptions>({
    endpoint,
    region: get('s3.region'),
    accessKeyId,
    secretAccessKey,
    sessionToken: get('s3.session-token'),
    pathStyle: bool('s3.path-style-access'),
    conditionalWrites: bool('s3.conditional-writes'),
    maxAttempts: positive('s3.max-attempts', true),
    connectTimeoutMs: secondsAsMs('s3.connect-timeout'),
    requestTimeoutMs: secondsAsMs('s3.request-timeout'),
  });
}

/** One prefix with its own S3 settings (a bucket, or a key prefix in one). */
export interface S3PrefixOptions {
  /** `s3://bucket` or `s3://bucket/prefix` (any of the three schemes; all three are served). */
  readonly prefix: string;
  readonly options: S3StorageOptions;
}

/**
 * The S3 storages and the prefixes they serve: one with `defaults` for every `s3://`, `s3a://`
 * and `s3n://` path, and one per entry of `prefixes` (its options over the defaults) under each of
 * the three spellings, the longest prefix winning as the router does.
 */
export function s3Routes(
  defaults: S3StorageOptions = {},
  prefixes: readonly S3PrefixOptions[] = [],
): StorageRoute[] {
  const routes: StorageRoute[] = [];
  const fallback = new S3Storage(defaults);
  for (const scheme of S3_SCHEMES) routes.push({ prefix: `${scheme}://`, storage: fallback });
  for (const p of prefixes) {
    const { bucket, key } = parseS3Path(p.prefix);
    const merged = { ...defaults, ...p.options };
    // Credentials go together: a prefix's own key pair never borrows the defaults' session token.
    if (p.options.accessKeyId !== undefined && p.options.sessionToken === undefined)
      delete merged.sessionToken;
    const storage = new S3Storage(merged);
    const rest = key.replace(/\/+$/, '');
    for (const scheme of S3_SCHEMES)
      routes.push({ prefix: `${scheme}://${bucket}${rest ? `/${rest}` : ''}`, storage });
  }
  return routes;
}

/** Registers {@link s3Routes} with a router. */
export function registerS3Storage(
  router: StorageRouter,
  defaults: S3StorageOptions = {},
  prefixes: readonly S3PrefixOptions[] = [],
): StorageRouter {
  for (const r of s3Routes(defaults, prefixes)) router.register(r.prefix, r.storage);
  return router;
}
