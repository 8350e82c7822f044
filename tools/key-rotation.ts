import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { loadConfig, type ConfigError } from '../shared/config/load-config.js';
import type { LookupKeys, OneDriveTokenKeys, SettingName, SigningKeys } from '../shared/config/settings.js';

/**
 * The generated secrets of a deployment, and their rotation without downtime. Each kind is the
 * value of one app setting (a Key Vault secret in Azure). Rotation goes in three steps, each
 * followed by a restart so every instance holds the same set:
 *   stage   — a new key is added last: published and able to verify/decrypt, not yet used;
 *   promote — the newest key moves first: it now signs/encrypts; the old one still verifies;
 *   retire  — only the first key is kept, once nothing made with the others is still in use.
 */
export const secretKinds = {
  'signing-keys': { setting: 'ROGER_SIGNING_KEYS', rotates: true },
  'onedrive-token-keys': { setting: 'ONEDRIVE_TOKEN_KEYS', rotates: true },
  'lookup-keys': { setting: 'ROGER_LOOKUP_KEYS', rotates: true },
  'operator-key': { setting: 'ROGER_OPERATOR_KEY', rotates: false },
} as const satisfies Record<string, { setting: SettingName; rotates: boolean }>;
export type SecretKind = keyof typeof secretKinds;
export type RotationStep = 'stage' | 'promote' | 'retire';

type KeySet = SigningKeys | OneDriveTokenKeys | LookupKeys;

/** `20261121-3fa9c2`: sortable by creation, unique enough, fits both kid formats. */
function newKid(now: Date): string {
  return `${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
}

function newSigningKey(now: Date): SigningKeys['keys'][number] {
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return { kty: 'EC', crv: 'P-256', kid: newKid(now), x: jwk.x!, y: jwk.y!, d: jwk.d!, alg: 'ES256', use: 'sig' };
}

/** A 256-bit symmetric key: the OneDrive token keys (AES-256-GCM) and the lookup keys (HMAC-SHA256) alike. */
function newTokenKey(now: Date): OneDriveTokenKeys['keys'][number] {
  return { kid: newKid(now), key: randomBytes(32).toString('base64') };
}

function newKey(kind: SecretKind, now: Date) {
  return kind === 'signing-keys' ? newSigningKey(now) : newTokenKey(now);
}

/** Validates a value with the app's own loadConfig, so a tool never writes what the app would refuse. */
function checked(kind: SecretKind, value: string): string {
  const setting = secretKinds[kind].setting;
  try {
    loadConfig({ [setting]: value });
  } catch (error) {
    throw new Error(`the ${kind} value would be refused by the app: ${(error as ConfigError).problems?.join('; ') ?? error}`, {
      cause: error,
    });
  }
  return value;
}

export function newSecret(kind: SecretKind, now = new Date()): string {
  if (kind === 'operator-key') return checked(kind, randomBytes(32).toString('base64url'));
  return checked(kind, JSON.stringify({ keys: [newKey(kind, now)] }));
}

export function rotateSecret(kind: SecretKind, step: RotationStep, current: string, now = new Date()): string {
  if (!secretKinds[kind].rotates) throw new Error(`${kind} is replaced, not rotated: use "new"`);
  const keys = (JSON.parse(checked(kind, current.trim())) as KeySet).keys as KeySet['keys'][number][];
  let next: typeof keys;
  switch (step) {
    case 'stage':
      if (keys.length > 1) throw new Error(`${kind} already holds ${keys.length} keys: promote or retire before staging another`);
      next = [...keys, newKey(kind, now)];
      break;
    case 'promote':
      if (keys.length < 2) throw new Error(`${kind} holds one key: stage a new one first`);
      next = [keys[keys.length - 1]!, ...keys.slice(0, -1)];
      break;
    case 'retire':
      next = keys.slice(0, 1);
      break;
  }
  return checked(kind, JSON.stringify({ keys: next }));
}
