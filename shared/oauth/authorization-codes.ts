import { createHash } from 'node:crypto';
import type { Store } from '../store/store.js';
import { replaceIfUnchanged } from '../store/conditional-replace.js';
import { isPreconditionFailed } from '../store/cosmos-errors.js';
import { constantTimeEqual, hashSecret, newId, newSecret, secretMatches } from '../tokens/secrets.js';
import { OAuthError } from './errors.js';

/**
 * The core of the authorization code grant with PKCE (docs/security.md, "Authorization
 * codes"): issued by authorization-request.ts, redeemed by grants/authorization-code.ts. A code is `ac1.<recordId>.<secret>`, one item in the
 * `deviceCodes` container, storing only the secret's hash; it lives 60 s and is redeemed once.
 */
export const AUTHORIZATION_CODE_LIFETIME_SECONDS = 60;

export interface AuthorizationCodeRecord {
  readonly id: string;
  readonly type: 'authorization-code';
  readonly secretHash: string;
  readonly clientId: string;
  readonly redirectUri: string;
  /** BASE64URL(SHA-256(code_verifier)); S256 is the only method accepted. */
  readonly codeChallenge: string;
  readonly scope: string;
  readonly tenantId: string;
  readonly subjectId: string;
  readonly status: 'issued' | 'redeemed' | 'reused';
  readonly createdAt: string;
  readonly expiresAt: string;
  /** Cosmos item TTL (seconds); expiry is checked in code as well. */
  readonly ttl: number;
  /** Set on redemption: the refresh family the code started, revoked if the code is replayed. */
  readonly refreshFamilyId?: string;
  readonly _etag?: string;
}

/** RFC 7636 §4.1: 43–128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~". */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** A S256 challenge is the base64url of 32 bytes: 43 characters, no padding. */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export const isCodeVerifier = (verifier: string) => VERIFIER.test(verifier);

export const s256Challenge = (verifier: string) => createHash('sha256').update(verifier, 'ascii').digest('base64url');

/** The challenge an authorization request brings: S256 only; `plain` or none is refused. */
export function requireS256Challenge(challenge: string | undefined, method: string | undefined): string {
  if (!challenge) throw new OAuthError('invalid_request', 'code_challenge is required');
  if (method !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256');
  if (!CHALLENGE.test(challenge)) throw new OAuthError('invalid_request', 'code_challenge is not a S256 challenge');
  return challenge;
}

/** RFC 7636 §4.6, compared in constant time. */
export function verifierMatches(verifier: string | undefined, challenge: string): boolean {
  if (verifier === undefined || !isCodeVerifier(verifier)) return false;
  return constantTimeEqual(s256Challenge(verifier), challenge);
}

const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?(\/[^?#]*)?(\?[^#]*)?$/;

/**
 * RFC 6749 §3.1.2 / RFC 8252: exact string match, except that a registered loopback redirect
 * (`http://127.0.0.1/…`, `http://[::1]/…`) matches on any port (RFC 8252 §7.3). `localhost`
 * is never treated as loopback.
 */
export function redirectUriMatches(registered: readonly string[], requested: string): boolean {
  if (registered.includes(requested)) return true;
  const asked = LOOPBACK.exec(requested);
  if (!asked) return false;
  const port = asked[2] === undefined ? undefined : Number(asked[2]);
  if (port !== undefined && (port < 1 || port > 65535)) return false;
  return registered.some((uri) => {
    const known = LOOPBACK.exec(uri);
    return !!known && known[1] === asked[1] && (known[3] ?? '') === (asked[3] ?? '') && (known[4] ?? '') === (asked[4] ?? '');
  });
}

const AUTHORIZATION_CODE = /^ac1\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/;

export interface IssuedAuthorizationCode {
  readonly code: string;
  readonly record: AuthorizationCodeRecord;
}

export async function issueAuthorizationCode(
  store: Store,
  fields: Pick<AuthorizationCodeRecord, 'clientId' | 'redirectUri' | 'codeChallenge' | 'scope' | 'tenantId' | 'subjectId'>,
  now: Date,
): Promise<IssuedAuthorizationCode> {
  const secret = newSecret();
  const record: AuthorizationCodeRecord = {
    id: newId(),
    type: 'authorization-code',
    secretHash: hashSecret(secret),
    status: 'issued',
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + AUTHORIZATION_CODE_LIFETIME_SECONDS * 1000).toISOString(),
    ttl: AUTHORIZATION_CODE_LIFETIME_SECONDS + 60,
    ...fields,
  };
  await store.container('deviceCodes').items.create(record);
  return { code: `ac1.${record.id}.${secret}`, record };
}

export interface RedemptionRequest {
  readonly code: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeVerifier?: string;
}

/** What a winning redemption grants; the caller then mints tokens in `refreshFamilyId`. */
export type Redemption = Pick<AuthorizationCodeRecord, 'scope' | 'tenantId' | 'subjectId' | 'clientId'> & {
  readonly refreshFamilyId: string;
};

/**
 * Thrown for a replayed code: `invalid_grant` to the client, and the refresh family the first
 * redemption started, which the caller must revoke (RFC 6749 §4.1.2), with the user whose item
 * holds it.
 */
export class AuthorizationCodeReused extends OAuthError {
  constructor(
    readonly refreshFamilyId: string | undefined,
    readonly owner?: { readonly tenantId: string; readonly subjectId: string },
  ) {
    super('invalid_grant', 'the authorization code was already used');
  }
}

const invalidGrant = (why: string) => new OAuthError('invalid_grant', why);

/** A redeemed code seen again becomes `reused` (conditional; whoever writes it first, it is written once). */
async function markReused(container: ReturnType<Store['container']>, record: AuthorizationCodeRecord): Promise<void> {
  if (record.status !== 'redeemed') return;
  try {
    await replaceIfUnchanged(container, { ...record, status: 'reused' }, record.id);
  } catch (error) {
    if (!isPreconditionFailed(error)) throw error;
  }
}

/**
 * Redeems a code once. The code is marked `redeemed` with the new refresh family by an
 * ETag-conditional write, so of two concurrent redemptions exactly one wins.
 */
export async function redeemAuthorizationCode(
  store: Store,
  request: RedemptionRequest,
  now: Date,
  refreshFamilyId: string,
): Promise<Redemption> {
  const parsed = AUTHORIZATION_CODE.exec(request.code);
  if (!parsed) throw invalidGrant('unknown authorization code');
  const [, recordId, secret] = parsed as unknown as [string, string, string];
  const container = store.container('deviceCodes');
  const { resource } = await container.item(recordId, recordId).read<AuthorizationCodeRecord>();
  if (!resource || resource.type !== 'authorization-code' || !secretMatches(secret, resource.secretHash)) {
    throw invalidGrant('unknown authorization code');
  }
  if (resource.status !== 'issued') {
    await markReused(container, resource);
    throw new AuthorizationCodeReused(resource.refreshFamilyId, { tenantId: resource.tenantId, subjectId: resource.subjectId });
  }
  if (Date.parse(resource.expiresAt) <= now.getTime()) throw invalidGrant('the authorization code has expired');
  if (resource.clientId !== request.clientId) throw invalidGrant('the authorization code was issued to another client');
  if (resource.redirectUri !== request.redirectUri) throw invalidGrant('redirect_uri differs from the authorization request');
  if (!verifierMatches(request.codeVerifier, resource.codeChallenge)) throw invalidGrant('code_verifier does not match the code_challenge');
  try {
    await replaceIfUnchanged(container, { ...resource, status: 'redeemed', refreshFamilyId }, recordId);
  } catch (error) {
    if (!isPreconditionFailed(error)) throw error;
    // A concurrent redemption won: this one is a replay too, and marks it so (the winner looks, authorizationCodeReplayed).
    const { resource: winner } = await container.item(recordId, recordId).read<AuthorizationCodeRecord>();
    if (winner) await markReused(container, winner);
    throw new AuthorizationCodeReused(winner?.refreshFamilyId, { tenantId: resource.tenantId, subjectId: resource.subjectId });
  }
  const { scope, tenantId, subjectId, clientId } = resource;
  return { scope, tenantId, subjectId, clientId, refreshFamilyId };
}

/**
 * Whether a code redeemed a moment ago has been replayed since. The grant asks after it has
 * written the refresh family the redemption named: a replay that came in between found no family
 * to revoke, so the grant revokes it itself.
 */
export async function authorizationCodeReplayed(store: Store, code: string): Promise<boolean> {
  const parsed = AUTHORIZATION_CODE.exec(code);
  if (!parsed) return false;
  const { resource } = await store.container('deviceCodes').item(parsed[1]!, parsed[1]!).read<AuthorizationCodeRecord>();
  return resource?.status === 'reused';
}
