/**
 * GCS settings: PyIceberg's `gcs.*` properties (and this tool's own), and the storages a router
 * registers for `gs://` and the `storage:` section's GCS locations.
 */
import type { StorageRoute } from '../backend.ts';
import { definedOnly, propertyReader } from '../properties.ts';
import { GcsStorage, type GcsStorageOptions, parseGcsPath } from './gcs.ts';

/** The `gcs.*` keys {@link gcsOptionsFromProperties} reads. */
export const GCS_PROPERTY_KEYS: readonly string[] = [
  'gcs.project-id',
  'gcs.oauth2.token',
  'gcs.oauth2.token-expires-at',
  'gcs.credentials-file',
  'gcs.service.host',
  'gcs.requester-pays',
  'gcs.max-attempts',
  'gcs.request-timeout',
];

/**
 * Reads {@link GcsStorageOptions} from PyIceberg-style properties. Other keys are ignored (also
 * PyIceberg's `gcs.*` keys that do not apply to reading and writing objects, such as
 * `gcs.default-bucket-location`), unless `strict`, where an unknown `gcs.*` key is an error.
 */
export function gcsOptionsFromProperties(
  properties: Readonly<Record<string, string>>,
  where = 'gcs',
  strict = false,
): GcsStorageOptions {
  const gcs = Object.fromEntries(Object.entries(properties).filter(([k]) => k.startsWith('gcs.')));
  const { get, bool, positive, secondsAsMs, fail } = propertyReader(gcs, where, GCS_PROPERTY_KEYS, strict);
  const endpoint = get('gcs.service.host');
  if (endpoint !== undefined && !/^https?:\/\/[^/]/.test(endpoint)) {
    fail('gcs.service.host', 'must be an http:// or https:// URL');
  }
  const expires = get('gcs.oauth2.token-expires-at');
  if (expires !== undefined && !/^\d+$/.test(expires)) {
    fail('gcs.oauth2.token-expires-at', 'must be milliseconds since the epoch');
  }
  const requesterPays = bool('gcs.requester-pays');
  const projectId = get('gcs.project-id');
  if (requesterPays && !projectId) fail('gcs.requester-pays', 'needs gcs.project-id (the project billed)');
  return definedOnly<GcsStorageOptions>({
    projectId,
    oauth2Token: get('gcs.oauth2.token'),
    oauth2TokenExpiresAtMs: expires === undefined ? undefined : Number(expires),
    credentialsFile: get('gcs.credentials-file'),
    endpoint,
    requesterPays,
    maxAttempts: positive('gcs.max-attempts', true),
    requestTimeoutMs: secondsAsMs('gcs.request-timeout'),
  });
}

/** One prefix with its own GCS settings (a bucket, or a prefix in one). */
export interface GcsPrefixOptions {
  readonly prefix: string;
  readonly options: GcsStorageOptions;
}

/** The GCS storages: one with `defaults` for every `gs://` path, and one per `storage:` entry. */
export function gcsRoutes(
  defaults: GcsStorageOptions = {},
  prefixes: readonly GcsPrefixOptions[] = [],
): StorageRoute[] {
  const routes: StorageRoute[] = [{ prefix: 'gs://', storage: new GcsStorage(defaults) }];
  for (const p of prefixes) {
    const { bucket, object } = parseGcsPath(p.prefix);
    const merged = { ...defaults, ...p.options };
    // Credentials go together: an entry's own key file never borrows the defaults' token.
    if (p.options.credentialsFile !== undefined && p.options.oauth2Token === undefined) {
      delete (merged as { oauth2Token?: string }).oauth2Token;
    }
    const rest = object.replace(/\/+$/, '');
    routes.push({ prefix: `gs://${bucket}${rest ? `/${rest}` : ''}`, storage: new GcsStorage(merged) });
  }
  return routes;
}
