import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { OneDriveTokenKeys } from '../config/settings.js';

/**
 * Encryption at rest of the Entra refresh tokens (docs/security.md#onedrive-tokens): AES-256-GCM with a fresh
 * 96-bit IV per value. The sealed form names its key (`v1.<kid>.<iv>.<ciphertext>.<tag>`), so
 * keys rotate without downtime: the first configured key seals, every configured key opens.
 *
 * The owner (`tenantId|userId`) is bound as additional authenticated data: a sealed token
 * copied onto another user's record does not open.
 */
export interface TokenCipher {
  /** The kid new values are sealed with. */
  readonly currentKid: string;
  seal(plaintext: string, owner: string): string;
  /** Throws TokenUnreadable for a tampered value, a foreign owner or a key no longer configured. */
  open(sealed: string, owner: string): string;
  /** The kid a sealed value names (to re-seal values of retired keys). */
  kidOf(sealed: string): string | undefined;
}

export class TokenUnreadable extends Error {
  constructor(reason: string) {
    super(`stored token cannot be decrypted: ${reason}`);
    this.name = 'TokenUnreadable';
  }
}

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';
const AAD_PREFIX = 'roger-onedrive-refresh-token|';

export function createTokenCipher(config: OneDriveTokenKeys): TokenCipher {
  const keys = new Map(config.keys.map(({ kid, key }) => [kid, Buffer.from(key, 'base64')]));
  for (const [kid, key] of keys) if (key.length !== 32) throw new Error(`token key ${kid} is not 32 bytes`);
  const current = config.keys[0]!.kid;

  return {
    currentKid: current,
    seal(plaintext, owner) {
      const iv = randomBytes(12);
      const cipher = createCipheriv(ALGORITHM, keys.get(current)!, iv);
      cipher.setAAD(Buffer.from(AAD_PREFIX + owner, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, current, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join(
        '.',
      );
    },
    open(sealed, owner) {
      const parts = sealed.split('.');
      if (parts.length !== 5 || parts[0] !== VERSION) throw new TokenUnreadable('unknown format');
      const [, kid, iv, ciphertext, tag] = parts as [string, string, string, string, string];
      const key = keys.get(kid);
      if (!key) throw new TokenUnreadable(`key ${kid} is not configured`);
      try {
        const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(AAD_PREFIX + owner, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new TokenUnreadable('authentication failed');
      }
    },
    kidOf(sealed) {
      const parts = sealed.split('.');
      return parts.length === 5 && parts[0] === VERSION ? parts[1] : undefined;
    },
  };
}

/** A one-key configuration for local runs (tokens sealed with it do not survive a restart; nor does the local store). */
export function generatedTokenKeys(): OneDriveTokenKeys {
  return { keys: [{ kid: 'local', key: randomBytes(32).toString('base64') }] };
}
