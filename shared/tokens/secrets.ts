import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * How a high-entropy secret becomes a stored value, in one place (handlers never hash or
 * compare secrets themselves). Refresh tokens and device codes carry 256 random bits, so a
 * plain SHA-256 is enough to store them (docs/flows.md#tokens); PINs and passwords use argon2id instead.
 */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Constant-time comparison of two strings of any length (length itself is not secret here). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  if (left.length !== right.length) {
    timingSafeEqual(left, left); // same work either way
    return false;
  }
  return timingSafeEqual(left, right);
}

/** Does `secret` hash to `storedHash`? Compared in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  return constantTimeEqual(hashSecret(secret), storedHash);
}

/** A second 256-bit secret derived from `secret` (HMAC-SHA256 as a PRF, keyed by the secret). */
export function deriveSecret(secret: string, purpose: string): string {
  return createHmac('sha256', secret).update(purpose, 'utf8').digest('base64url');
}

/** Fixed-length random id (no id may be a prefix of another: docs/security.md#printer-credentials-sas-scope). 128 bits, hex. */
export function newId(): string {
  return randomBytes(16).toString('hex');
}
