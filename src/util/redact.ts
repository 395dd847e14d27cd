/**
 * Hiding credentials in text the tool prints: the password of a URL's userinfo
 * (`scheme://user:password@host`) and the values of query parameters that carry secrets
 * (WebHDFS `delegation`, presigned S3 `X-Amz-Signature` / `X-Amz-Credential`, Azure SAS `sig`,
 * an Azure connection string's `AccountKey` / `SharedAccessSignature`, `token`, `password`, ...). Every message, log line and report goes through here before it is
 * printed; the values themselves are never changed where they are used.
 */

/** The mask that replaces a secret. */
export const MASK = '***';

/**
 * Query parameter names whose value is a secret (compared case-insensitively): exact names, and
 * any name containing one of {@link SECRET_NAME_PARTS}.
 */
const SECRET_PARAMS: ReadonlySet<string> = new Set([
  'delegation',
  'sig',
  'signature',
  'key',
  'apikey',
  'api_key',
  'api-key',
  'pwd',
  'passwd',
  'code',
]);
const SECRET_NAME_PARTS = [
  'password',
  'secret',
  'token',
  'signature',
  'credential',
  // Azure: `adls.account-key`, a connection string's `AccountKey`, `adls.connection-string`
  // (which carries a key or a SAS).
  'account-key',
  'accountkey',
  'connection-string',
  'connectionstring',
] as const;

/** True for a setting or query parameter name whose value is a secret. */
export function isSecretName(name: string): boolean {
  const n = name.toLowerCase();
  return SECRET_PARAMS.has(n) || SECRET_NAME_PARTS.some((p) => n.includes(p));
}

// `scheme://user:password@` at the start of an authority (never past its first `/`); the password
// runs to the authority's last `@`, as URL parsers read it.
const USERINFO = /([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#@\s:'"]*):([^/?#\s'"]*)@/g;
// `?name=value`, `&name=value` or `;name=value` (JDBC style), up to the next separator; also
// percent-encoded (`%3Fname%3Dvalue`), as a URL quoted inside another one is.
const PARAM = /([?&;]|%3[fF]|%26)([^=&;?#%\s'"]+)(=|%3[dD])([^&;#\s'"]*)/g;
// Punctuation that ends a sentence rather than a value (`...?sig=abc: failed`).
const TRAILING = /[:,.)]+$/;

/**
 * `text` with every URL password and secret query value replaced by `***`. Safe on any text
 * (a message, a path, a whole report line): only those two shapes are touched.
 */
export function redactSecrets(text: string): string {
  if (!text.includes('@') && !/[?&;]|%3[fF]|%26/.test(text)) return text;
  return text
    .replace(USERINFO, (_m, scheme: string, user: string) => `${scheme}${user}:${MASK}@`)
    .replace(PARAM, (m, sep: string, name: string, eq: string, value: string) =>
      isSecretName(name) ? `${sep}${name}${eq}${MASK}${TRAILING.exec(value)?.[0] ?? ''}` : m,
    );
}

/** One URL (or URI) with its credentials masked; see {@link redactSecrets}. */
export function redactUrl(url: string): string {
  return redactSecrets(url);
}
