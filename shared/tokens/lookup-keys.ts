import { createHmac, randomBytes } from 'node:crypto';
import type { Config } from '../config/load-config.js';
import type { LookupKeys } from '../config/settings.js';

/**
 * Keyed hashes that find a short secret (a badge number, a PIN) without storing it in a form
 * anyone holding the database could reverse: docs/security.md#badges. A plain hash of a
 * 10-digit badge number is reversed by trying every number; an HMAC under a key kept in Key
 * Vault (ROGER_LOOKUP_KEYS) is not, without the key.
 */
export type LookupPurpose = 'badge' | 'pin';

export interface LookupHash {
  readonly kid: string;
  /** HMAC-SHA256, lowercase hex. */
  readonly hash: string;
}

/**
 * Local runs (ROGER_LOOKUP_KEYS unset) use one key generated per process, like the local
 * signing key: hashes made with it do not survive a restart, nor does the local store.
 */
let generated: LookupKeys | undefined;
function keysOf(config: Pick<Config, 'lookupKeys'>): LookupKeys {
  if (config.lookupKeys) return config.lookupKeys;
  generated ??= { keys: [{ kid: 'local', key: randomBytes(32).toString('base64') }] };
  return generated;
}

const decoded = new WeakMap<LookupKeys['keys'][number], Buffer>();
function secretOf(entry: LookupKeys['keys'][number]): Buffer {
  let secret = decoded.get(entry);
  if (!secret) {
    secret = Buffer.from(entry.key, 'base64');
    decoded.set(entry, secret);
  }
  return secret;
}

/**
 * The keyed hash of `value` for `purpose` in `tenantId` under every configured key, the
 * current (first) key first: callers store under the first and look up under each (rotation:
 * docs/data.md#badges). Purpose and tenant are part of the message, length-prefixed, so a badge
 * never matches a PIN nor one tenant's value another's, whatever the characters.
 */
export function lookupHashes(config: Pick<Config, 'lookupKeys'>, purpose: LookupPurpose, tenantId: string, value: string): LookupHash[] {
  const message = [purpose, tenantId, value].map((part) => `${Buffer.byteLength(part, 'utf8')}:${part}`).join('');
  return keysOf(config).keys.map((entry) => ({
    kid: entry.kid,
    hash: createHmac('sha256', secretOf(entry)).update(message, 'utf8').digest('hex'),
  }));
}
