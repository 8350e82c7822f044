/**
 * Shared Access Signature tokens, checked the way Service Bus checks them:
 * `SharedAccessSignature sr=<url-encoded resource URI>&sig=<url-encoded base64 HMAC-SHA256>&se=<unix s>&skn=<rule>`,
 * signed over "<sr exactly as it appears in the token>\n<se>" with the rule's key (its UTF-8 text,
 * not base64-decoded — the SDK and the portal both sign with the key string).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type Right = 'Send' | 'Listen' | 'Manage';

export interface SasRule {
  readonly name: string;
  readonly key: string;
  readonly rights: readonly Right[];
}

/** What a verified token allows: the rights of its rule, on every URI its resource prefixes. */
export interface Claim {
  readonly resource: string; // normalised, see normaliseResourceUri
  readonly rights: readonly Right[];
  readonly expiresAtMs: number;
  readonly keyName: string;
}

export type TokenCheck = { readonly ok: true; readonly claim: Claim } | { readonly ok: false; readonly reason: string };

interface ParsedToken {
  readonly signedResource: string; // sr as it appears in the token: what was signed
  readonly resource: string; // sr decoded
  readonly signature: string; // base64
  readonly expirySeconds: string;
  readonly keyName: string;
}

const PREFIX = 'SharedAccessSignature ';

function parseToken(token: string): ParsedToken | undefined {
  if (!token.startsWith(PREFIX)) return undefined;
  const fields = new Map<string, string>();
  for (const pair of token.slice(PREFIX.length).split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const sr = fields.get('sr');
  const sig = fields.get('sig');
  const se = fields.get('se');
  const skn = fields.get('skn');
  if (sr === undefined || sig === undefined || se === undefined || skn === undefined) return undefined;
  if (!/^\d{1,12}$/.test(se)) return undefined;
  try {
    return {
      signedResource: sr,
      resource: decodeURIComponent(sr),
      signature: decodeURIComponent(sig),
      expirySeconds: se,
      keyName: decodeURIComponent(skn),
    };
  } catch {
    return undefined; // malformed percent-encoding
  }
}

function signatureMatches(parsed: ParsedToken, key: string): boolean {
  const expected = createHmac('sha256', key).update(`${parsed.signedResource}\n${parsed.expirySeconds}`).digest();
  const given = Buffer.from(parsed.signature, 'base64');
  // Buffer.from(…, 'base64') skips characters it does not know; insist on the canonical form so
  // that "valid signature + junk" is not accepted as the same signature.
  if (given.toString('base64') !== parsed.signature || given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}

/**
 * Service Bus compares resource URIs case-insensitively and without regard to the scheme (a token
 * minted for https://ns/… works over AMQP), and then as a plain string prefix — not per path
 * segment, which is why device ids must be fixed-length (docs/security.md#printer-credentials-sas-scope).
 */
export function normaliseResourceUri(uri: string): string {
  return uri.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').toLowerCase();
}

export function covers(claimResource: string, uri: string): boolean {
  return normaliseResourceUri(uri).startsWith(claimResource);
}

export function hasRight(rights: readonly Right[], needed: Right): boolean {
  return rights.includes(needed) || rights.includes('Manage');
}

/** Verifies a token on its own: rule, signature, expiry. Scope is checked by the caller. */
export function verifyToken(token: string, rules: ReadonlyMap<string, SasRule>, nowMs: number): TokenCheck {
  const parsed = parseToken(token);
  if (!parsed) return { ok: false, reason: 'InvalidSignature: The token is not a valid SharedAccessSignature.' };
  const rule = rules.get(parsed.keyName);
  // The same answer for an unknown rule and a bad signature: do not reveal which rules exist.
  if (!rule || !signatureMatches(parsed, rule.key)) {
    return { ok: false, reason: 'InvalidSignature: The token has an invalid signature.' };
  }
  const expiresAtMs = Number(parsed.expirySeconds) * 1000;
  if (expiresAtMs <= nowMs) return { ok: false, reason: 'ExpiredToken: The token is expired.' };
  return {
    ok: true,
    claim: { resource: normaliseResourceUri(parsed.resource), rights: rule.rights, expiresAtMs, keyName: rule.name },
  };
}
