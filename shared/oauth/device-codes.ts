import { createHash, randomInt } from 'node:crypto';
import type { Store } from '../store/store.js';
import { replaceIfUnchanged } from '../store/conditional-replace.js';
import { isConflict } from '../store/cosmos-errors.js';
import { hashSecret, newSecret, secretMatches } from '../tokens/secrets.js';
import { oauthDefaults } from './defaults.js';

/**
 * RFC 8628 device codes, one item each. The record's id is derived from the user code, so the
 * approval API finds it with one point read; the device code is `dc1.<recordId>.<secret>`: it
 * names the record and proves possession with 256 random bits stored only as a hash. Knowing
 * the user code (it is on the printer's screen) gives the record id, never the secret.
 */
export type DeviceCodeStatus = 'pending' | 'approved' | 'denied' | 'consumed';

export interface DeviceCodeRecord {
  readonly id: string;
  readonly type: 'device-code';
  readonly secretHash: string;
  readonly clientId: string;
  readonly scope: string;
  readonly status: DeviceCodeStatus;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** Cosmos item TTL (seconds); expiry is checked in code as well. */
  readonly ttl: number;
  readonly interval: number;
  readonly lastPolledAt?: string;
  /**
   * Hash of the first refresh token's secret, derived from the device code when it was issued:
   * the approver stores it in the new refresh family, so the successful poll writes nothing
   * but the record itself.
   */
  readonly initialRefreshHash?: string;
  /** Session requests: the printer asking, and its tenant. Set on approval for the others. */
  readonly tenantId?: string;
  readonly deviceId?: string;
  /** Set on approval: the user (session, desktop) or the new printer (enrollment). */
  readonly subjectId?: string;
  readonly roles?: readonly string[];
  readonly refreshFamilyId?: string;
  readonly _etag?: string;
}

/**
 * A session request's printer and its tenant, written when the code was issued
 * (device-authorization.ts). Checked, not asserted: a record without them is corrupt and must
 * not become a token that names no printer.
 */
export function sessionPrinterOf(record: DeviceCodeRecord): { readonly tenantId: string; readonly deviceId: string } {
  if (record.scope !== 'session' || !record.tenantId || !record.deviceId)
    throw new Error(`device code ${record.id} is no printer's session request`);
  return { tenantId: record.tenantId, deviceId: record.deviceId };
}

/** Whom a code was approved for, written by the approval: the user, or the new printer. Checked like the printer. */
export function approvedSubjectOf(record: DeviceCodeRecord): { readonly tenantId: string; readonly subjectId: string } {
  if (!record.tenantId || !record.subjectId) throw new Error(`device code ${record.id} was approved for nobody`);
  return { tenantId: record.tenantId, subjectId: record.subjectId };
}

const DEVICE_CODE = /^dc1\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/;

export function parseDeviceCode(code: string): { recordId: string; secret: string } | undefined {
  const match = DEVICE_CODE.exec(code);
  return match ? { recordId: match[1]!, secret: match[2]! } : undefined;
}

/** Uniform over the alphabet (randomInt has no modulo bias). */
function newUserCode(): string {
  const { userCodeAlphabet: alphabet, userCodeLength: length } = oauthDefaults;
  let code = '';
  for (let i = 0; i < length; i++) code += alphabet[randomInt(alphabet.length)];
  return code;
}

/** `BCDF-GHJK` for display. */
export const formatUserCode = (code: string) => `${code.slice(0, 4)}-${code.slice(4)}`;

/** Case-insensitive input, dashes and spaces ignored; undefined if it cannot be a user code. */
export function normalizeUserCode(input: string): string | undefined {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  const { userCodeAlphabet: alphabet, userCodeLength: length } = oauthDefaults;
  if (code.length !== length || [...code].some((c) => !alphabet.includes(c))) return undefined;
  return code;
}

/** 128 bits of SHA-256 over the normalized user code, domain-separated: the record's id. */
const recordIdFor = (userCode: string) => createHash('sha256').update(`roger user code ${userCode}`).digest('hex').slice(0, 32);

export interface IssuedDeviceCode {
  readonly deviceCode: string;
  readonly secret: string;
  readonly userCode: string;
  readonly record: DeviceCodeRecord;
}

export async function issueDeviceCode(
  store: Store,
  fields: Pick<DeviceCodeRecord, 'clientId' | 'scope' | 'interval' | 'tenantId' | 'deviceId'>,
  lifetimeSeconds: number,
  now: Date,
  refreshHashFor?: (secret: string) => string,
): Promise<IssuedDeviceCode> {
  const container = store.container('deviceCodes');
  const expiresAt = new Date(now.getTime() + lifetimeSeconds * 1000).toISOString();
  const ttl = lifetimeSeconds + 60;
  // 20^8 codes: a collision with a live code (the create fails with 409) is rare; try a few.
  for (let attempt = 0; ; attempt++) {
    const userCode = newUserCode();
    const secret = newSecret();
    const record: DeviceCodeRecord = {
      id: recordIdFor(userCode),
      type: 'device-code',
      secretHash: hashSecret(secret),
      status: 'pending',
      createdAt: now.toISOString(),
      expiresAt,
      ttl,
      ...fields,
      ...(refreshHashFor ? { initialRefreshHash: refreshHashFor(secret) } : {}),
    };
    try {
      await container.items.create(record);
    } catch (error) {
      if (isConflict(error) && attempt < 3) continue;
      throw error;
    }
    return { deviceCode: `dc1.${record.id}.${secret}`, secret, userCode, record };
  }
}

/** The record a device code names, if the code's secret matches it. */
export async function readDeviceCode(store: Store, deviceCode: string): Promise<{ record: DeviceCodeRecord; secret: string } | undefined> {
  const parsed = parseDeviceCode(deviceCode);
  if (!parsed) return undefined;
  const { resource } = await store.container('deviceCodes').item(parsed.recordId, parsed.recordId).read<DeviceCodeRecord>();
  if (!resource || resource.type !== 'device-code' || !secretMatches(parsed.secret, resource.secretHash)) return undefined;
  return { record: resource, secret: parsed.secret };
}

/** The live record behind a user code, or undefined (unknown, expired or already used). */
export async function readByUserCode(store: Store, userCode: string, now: Date): Promise<DeviceCodeRecord | undefined> {
  const id = recordIdFor(userCode);
  const { resource } = await store.container('deviceCodes').item(id, id).read<DeviceCodeRecord>();
  if (!resource || resource.type !== 'device-code' || resource.status !== 'pending' || Date.parse(resource.expiresAt) <= now.getTime()) {
    return undefined;
  }
  return resource;
}

/** The record as it is now (after a 412: what the other writer left). */
export async function rereadDeviceCode(store: Store, record: DeviceCodeRecord): Promise<DeviceCodeRecord | undefined> {
  const { resource } = await store.container('deviceCodes').item(record.id, record.id).read<DeviceCodeRecord>();
  return resource?.type === 'device-code' ? resource : undefined;
}

/** Conditional replace: exactly one of two racing writers wins; the other gets a 412. */
export async function replaceDeviceCode(store: Store, record: DeviceCodeRecord): Promise<DeviceCodeRecord> {
  return replaceIfUnchanged(store.container('deviceCodes'), record, record.id);
}
