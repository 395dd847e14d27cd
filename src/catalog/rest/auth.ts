/**
 * Authentication to a REST catalog, with PyIceberg's and Java's setting names: a bearer `token`,
 * or OAuth2 client credentials (`credential: client-id:secret`, `oauth2-server-uri`, `scope`,
 * `audience`, `resource`), whose token is fetched when first needed and fetched again before it
 * expires and when the server answers 401. Secrets never leave this module except in headers.
 */
import { CatalogError } from '../../errors.ts';
import { isJsonObject } from '../../util/json.ts';
import { redactSecrets } from '../../util/redact.ts';
import type { HttpClient } from './http.ts';

/** Supplies the Authorization header of every request. */
export interface RestAuth {
  /** Headers to send (none for an anonymous catalog). */
  headers(signal?: AbortSignal): Promise<Record<string, string>>;
  /** Called on a 401: true when a fresh credential was obtained and the request is worth repeating. */
  refresh(signal?: AbortSignal): Promise<boolean>;
}

/** No authentication. */
export const anonymous: RestAuth = {
  headers: async () => ({}),
  refresh: async () => false,
};

/** A fixed bearer token (`token`). */
export function bearerToken(token: string): RestAuth {
  return { headers: async () => ({ authorization: `Bearer ${token}` }), refresh: async () => false };
}

/** Settings of {@link clientCredentials}. */
export interface ClientCredentialsOptions {
  /** `client-id:secret` (a bare secret is sent without a client id, as PyIceberg does). */
  readonly credential: string;
  /** The token endpoint (`oauth2-server-uri`; default the catalog's `v1/oauth/tokens`). */
  readonly tokenUrl: string;
  /** `scope` (default `catalog`, as PyIceberg and Java send). */
  readonly scope?: string;
  readonly audience?: string;
  readonly resource?: string;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/**
 * OAuth2 client-credentials grant. The token is refreshed ahead of its expiry (by a tenth of its
 * lifetime, at most a minute) so that a long run never sends a token the server is about to
 * refuse; a 401 anyway (revoked, clock skew) fetches a new one once.
 */
export function clientCredentials(http: HttpClient, options: ClientCredentialsOptions): RestAuth {
  const now = options.now ?? Date.now;
  const colon = options.credential.indexOf(':');
  const clientId = colon >= 0 ? options.credential.slice(0, colon) : undefined;
  const secret = colon >= 0 ? options.credential.slice(colon + 1) : options.credential;
  let token: string | undefined;
  let refreshAt = 0;
  let inFlight: Promise<void> | undefined;

  const fetchToken = async (signal?: AbortSignal): Promise<void> => {
    const form: Record<string, string> = {
      grant_type: 'client_credentials',
      client_secret: secret,
      scope: options.scope ?? 'catalog',
      ...(clientId !== undefined ? { client_id: clientId } : {}),
      ...(options.audience ? { audience: options.audience } : {}),
      ...(options.resource ? { resource: options.resource } : {}),
    };
    const answer = await http.sendRetrying({ method: 'POST', url: options.tokenUrl, form, signal });
    const body = answer.body;
    if (answer.status !== 200 || !isJsonObject(body) || typeof body.access_token !== 'string') {
      const detail = isJsonObject(body)
        ? [body.error, body.error_description].filter((x) => typeof x === 'string').join(': ')
        : '';
      throw new CatalogError(
        `OAuth2 token request to ${redactSecrets(options.tokenUrl)} failed: HTTP ${answer.status}` +
          `${detail ? ` (${redactSecrets(detail)})` : ''}; check credential and oauth2-server-uri`,
      );
    }
    token = body.access_token;
    const expiresIn = typeof body.expires_in === 'bigint' ? Number(body.expires_in) : undefined;
    const lifetime = expiresIn !== undefined && expiresIn > 0 ? expiresIn * 1000 : undefined;
    refreshAt =
      lifetime === undefined ? Number.POSITIVE_INFINITY : now() + lifetime - Math.min(60_000, lifetime / 10);
  };
  // One token request at a time, whatever the number of concurrent calls that need it.
  const ensure = async (force: boolean, signal?: AbortSignal): Promise<void> => {
    if (!force && token !== undefined && now() < refreshAt) return;
    inFlight ??= fetchToken(signal).finally(() => {
      inFlight = undefined;
    });
    await inFlight;
  };
  return {
    async headers(signal) {
      await ensure(false, signal);
      return { authorization: `Bearer ${token}` };
    },
    async refresh(signal) {
      await ensure(true, signal);
      return true;
    },
  };
}
