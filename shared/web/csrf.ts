import { constantTimeEqual, newSecret } from '../tokens/secrets.js';

/**
 * Double-submit CSRF protection for the device page: a random token in a cookie that only
 * this page's paths receive (HttpOnly, SameSite=Strict; Secure when the issuer is https) and
 * the same value in a hidden form field. A cross-site form can neither read the cookie nor
 * make the browser send it, so a POST whose field and cookie differ did not come from our page.
 */
export const CSRF_COOKIE = 'roger_device_csrf';
export const CSRF_FIELD = 'csrf';
const COOKIE_PATH = '/device';
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
export function csrfTokenFor(headers: Headers): string {
  const current = readCookie(headers, CSRF_COOKIE);
  return current && TOKEN.test(current) ? current : newSecret();
}

/** `Set-Cookie` value; `secure` follows the issuer's scheme (configuration), not the environment. */
export function csrfCookie(token: string, secure: boolean): string {
  return `${CSRF_COOKIE}=${token}; Path=${COOKIE_PATH}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

/** The token when cookie and form field carry the same well-formed value (compared in constant time). */
export function checkCsrf(headers: Headers, field: string | undefined): string | undefined {
  const cookie = readCookie(headers, CSRF_COOKIE);
  if (!cookie || !field || !TOKEN.test(cookie)) return undefined;
  return constantTimeEqual(cookie, field) ? cookie : undefined;
}
