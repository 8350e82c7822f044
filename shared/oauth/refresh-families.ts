import { constantTimeEqual, hashSecret, newId, newSecret } from '../tokens/secrets.js';
import { oauthDefaults } from './defaults.js';

/**
 * Rotating refresh tokens (RFC 9700 §4.14.2), kept inside the item of the user or printer they
 * belong to, so a refresh is one read and one conditional write of one item.
 *
 * A token is `rt1.<u|d>.<tenantId>.<ownerId>.<familyId>.<secret>`: opaque to clients, it
 * names the item to read; the 256-bit secret is stored only as its SHA-256. Each use rotates
 * it; presenting an already-rotated token revokes the whole family.
 */
export interface RefreshFamily {
  readonly id: string;
  readonly clientId: string;
  readonly scope: string;
  readonly currentHash: string;
  /**
   * Fingerprints of the tokens this family has rotated away from, newest last: the first
   * ROTATED_FINGERPRINT_LENGTH characters of each one's hash (families stored before issue 20
   * hold whole hashes; both are recognised).
   */
  readonly rotatedHashes: readonly string[];
  readonly createdAt: string;
  readonly lastUsedAt: string;
  /** Sliding: every use pushes it out by the idle period, never past `absoluteExpiresAt`. */
  readonly expiresAt: string;
  readonly absoluteExpiresAt?: string;
}

/**
 * A rotated token needs recognising, not verifying: it is compared only to say "this one was
 * used before", which revokes the family. 16 base64url characters are 96 bits of its SHA-256:
 * a secret guessed at random (256 bits) matches one with odds of 2^-96, and the 10 kept cost
 * 190 bytes in the owner item instead of 460, on a write every refresh makes
 * (docs/data.md#byte-budgets: the refresh write stays within 2 KB). The current token's hash
 * stays whole: that one is the credential.
 */
export const ROTATED_FINGERPRINT_LENGTH = 16;
export const rotatedFingerprint = (hash: string) => hash.slice(0, ROTATED_FINGERPRINT_LENGTH);

export type OwnerKind = 'u' | 'd';

export interface ParsedRefreshToken {
  readonly owner: OwnerKind;
  readonly tenantId: string;
  readonly ownerId: string;
  readonly familyId: string;
  readonly secret: string;
}

const TOKEN = /^rt1\.([ud])\.([0-9a-f]{32})\.([0-9a-f]{32})\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/;

export function parseRefreshToken(token: string): ParsedRefreshToken | undefined {
  const match = TOKEN.exec(token);
  if (!match) return undefined;
  const [, owner, tenantId, ownerId, familyId, secret] = match;
  return { owner: owner as OwnerKind, tenantId: tenantId!, ownerId: ownerId!, familyId: familyId!, secret: secret! };
}

export function formatRefreshToken(owner: OwnerKind, tenantId: string, ownerId: string, familyId: string, secret: string) {
  return `rt1.${owner}.${tenantId}.${ownerId}.${familyId}.${secret}`;
}

export interface FamilyLifetime {
  readonly idleDays: number;
  readonly maxDays?: number;
}

const DAY_MS = 86_400_000;
const addDays = (date: Date, days: number) => new Date(date.getTime() + days * DAY_MS);

function slidingExpiry(now: Date, lifetime: FamilyLifetime, absoluteExpiresAt?: string): string {
  const idle = addDays(now, lifetime.idleDays);
  if (!absoluteExpiresAt) return idle.toISOString();
  return new Date(Math.min(idle.getTime(), Date.parse(absoluteExpiresAt))).toISOString();
}

/** A new family whose first token's secret hashes to `secretHash` (only the client holds the secret). */
export function newFamily(clientId: string, scope: string, secretHash: string, lifetime: FamilyLifetime, now: Date): RefreshFamily {
  const absoluteExpiresAt = lifetime.maxDays ? addDays(now, lifetime.maxDays).toISOString() : undefined;
  return {
    id: newId(),
    clientId,
    scope,
    currentHash: secretHash,
    rotatedHashes: [],
    createdAt: now.toISOString(),
    lastUsedAt: now.toISOString(),
    expiresAt: slidingExpiry(now, lifetime, absoluteExpiresAt),
    ...(absoluteExpiresAt ? { absoluteExpiresAt } : {}),
  };
}

export type RefreshCheck =
  | { readonly outcome: 'valid'; readonly family: RefreshFamily }
  | { readonly outcome: 'expired'; readonly family: RefreshFamily }
  /** A rotated token came back: it was stolen or replayed. Revoke the family. */
  | { readonly outcome: 'reused'; readonly family: RefreshFamily }
  | { readonly outcome: 'unknown' };

export function checkRefreshToken(families: readonly RefreshFamily[], token: ParsedRefreshToken, now: Date): RefreshCheck {
  const family = families.find((f) => f.id === token.familyId);
  if (!family) return { outcome: 'unknown' };
  const hash = hashSecret(token.secret);
  if (constantTimeEqual(hash, family.currentHash)) {
    const expired = now.getTime() >= Date.parse(family.expiresAt);
    return { outcome: expired ? 'expired' : 'valid', family };
  }
  // A fingerprint, or a whole hash stored before fingerprints: the same many leading characters
  // compared. Never fewer than a fingerprint's: a short (corrupt) entry must not match every token.
  const reused = (old: string) => old.length >= ROTATED_FINGERPRINT_LENGTH && constantTimeEqual(hash.slice(0, old.length), old);
  if (family.rotatedHashes.some(reused)) return { outcome: 'reused', family };
  return { outcome: 'unknown' };
}

/** The family after one use: a new current secret, the old hash remembered, expiry slid forward. */
export function rotateFamily(family: RefreshFamily, lifetime: FamilyLifetime, now: Date): { family: RefreshFamily; secret: string } {
  const secret = newSecret();
  return {
    secret,
    family: {
      ...family,
      currentHash: hashSecret(secret),
      rotatedHashes: [...family.rotatedHashes, rotatedFingerprint(family.currentHash)].slice(-oauthDefaults.rotatedHashesKept),
      lastUsedAt: now.toISOString(),
      expiresAt: slidingExpiry(now, lifetime, family.absoluteExpiresAt),
    },
  };
}

export const withoutFamily = (families: readonly RefreshFamily[], id: string) => families.filter((f) => f.id !== id);

/** Adds a family, dropping the least recently used ones beyond `max` and any that expired. */
export function withFamily(families: readonly RefreshFamily[], family: RefreshFamily, max: number, now: Date) {
  const live = families.filter((f) => Date.parse(f.expiresAt) > now.getTime());
  return [...live, family].sort((a, b) => a.lastUsedAt.localeCompare(b.lastUsedAt)).slice(-max);
}

export const userFamilyLifetime: FamilyLifetime = {
  idleDays: oauthDefaults.userRefreshIdleDays,
  maxDays: oauthDefaults.userRefreshMaxDays,
};
export const deviceFamilyLifetime: FamilyLifetime = { idleDays: oauthDefaults.deviceRefreshIdleDays };
