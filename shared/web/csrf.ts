import { constantTimeEqual, newSecret } from '../tokens/secrets.js';

/**
 * Double-submit CSRF protection for the pages with forms: a random token in a cookie that only
 * that page's paths receive (HttpOnly, SameSite=Strict; Secure when the issuer is https) and
 * the same value in a hidden form field. A cross-site form can neither read the cookie nor
 * make the browser send it, so a POST whose field and cookie differ did not come from our page.
 * Each page has its own cookie name and path, so one page's token never serves the other.
 */
export interface CsrfScope {
  readonly cookie: string;
  readonly path: string;
}

/** The device verification page (the default, as it was the first). */
export const DEVICE_CSRF: CsrfScope = { cookie: 'roger_device_csrf', path: '/device' };
/** The authorization endpoint's sign-in page. */
export const AUTHORIZE_CSRF: CsrfScope = { cookie: 'roger_authorize_csrf', path: '/oauth/authorize' };

export const CSRF_FIELD = 'csrf';
const TOKEN = /^[A-Za-z0-9_-]{43}$/; // newSecret(): 256 bits, base64url

/** The value of one cookie of the `Cookie` header (RFC 6265 §5.4), or undefined. */
export function readCookie(headers: Headers, name: string): string | undefined {
  for (const pair of (headers.get('cookie') ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() === name) return pair.slice(at + 1).trim();
  }
  return undefined;
}

/** The browser's current token if it has a well-formed one (so two open tabs keep working), else a new one. */
export function csrfTokenFor(headers: Headers, scope: CsrfScope = DEVICE_CSRF): string {
  const current = readCookie(headers, scope.cookie);
  return current && TOKEN.test(current) ? current : newSecret();
}

/** `Set-Cookie` value; `secure` follows the issuer's scheme (configuration), not the environment. */
export function csrfCookie(token: string, secure: boolean, scope: CsrfScope = DEVICE_CSRF): string {
  return `${scope.cookie}=${token}; Path=${scope.path}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** The token when cookie and form field carry the same well-formed value (compared in constant time). */
export function checkCsrf(headers: Headers, field: string | undefined, scope: CsrfScope = DEVICE_CSRF): string | undefined {
  const cookie = readCookie(headers, scope.cookie);
  if (!cookie || !field || !TOKEN.test(cookie)) return undefined;
  return constantTimeEqual(cookie, field) ? cookie : undefined;
}
