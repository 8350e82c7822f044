import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * How a high-entropy secret becomes a stored value, in one place (handlers never hash or
 * compare secrets themselves). Refresh tokens and device codes carry 256 random bits, so a
 * plain SHA-256 is enough to store them (docs/flows.md#tokens); PINs and passwords use argon2id instead.
 */
export function newSecret(bytes = 32): string {
  return randomBytesFromPool(bytes).toString('base64url');
}

/**
 * Random bytes from the CSPRNG, drawn 4 KiB at a time and handed out once each, as node's own
 * randomUUID does: one call into OpenSSL per hundred-odd ids and secrets instead of one each
 * (a token refresh makes three). Requests larger than the pool go to the CSPRNG directly.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;
function randomBytesFromPool(size: number): Buffer {
  if (size > POOL_BYTES / 4) return randomBytes(size);
  if (poolOffset + size > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + size);
  poolOffset += size;
  return bytes;
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
  return randomBytesFromPool(16).toString('hex');
}
