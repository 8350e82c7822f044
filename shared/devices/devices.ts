import { Type } from '@sinclair/typebox';
import { audit, type Actor } from '../audit/audit.js';
import { NotFound } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { RefreshFamily } from '../oauth/refresh-families.js';
import type { Services } from '../services.js';
import { replaceIfUnchanged, writeOnLatest } from '../store/conditional-replace.js';
import { queryPage, type PageRequest } from '../store/paging.js';
import type { Store } from '../store/store.js';

/** An enrolled printer and its refresh-token family: one item in its tenant's partition. */
export interface DeviceDoc {
  readonly id: string;
  readonly tenantId: string;
  readonly type: 'device';
  readonly name: string;
  readonly location: string;
  /** `disconnected`: its refresh token lapsed (90 days unused) or an admin disconnected it. */
  readonly status: 'connected' | 'disconnected';
  /** Service Bus topic of its release subscription, given at enrollment for life: `releases-NN`, or `releases` if enrolled before sharding (topic-allocation.ts). */
  readonly topic: string;
  readonly refreshFamilies: readonly RefreshFamily[];
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly _etag?: string;
}

export const DeviceNameSchema = Type.String({ minLength: 1, maxLength: 100 });
export const DeviceLocationSchema = Type.String({ minLength: 0, maxLength: 200 });

export async function readDevice(store: Store, tenantId: string, deviceId: string): Promise<DeviceDoc | undefined> {
  const { resource } = await store.container('accounts').item(deviceId, tenantId).read<DeviceDoc>();
  return resource?.type === 'device' ? resource : undefined;
}

export async function createDevice(store: Store, device: DeviceDoc): Promise<void> {
  await store.container('accounts').items.create(device);
}

export async function deleteDevice(store: Store, tenantId: string, deviceId: string): Promise<void> {
  await store
    .container('accounts')
    .item(deviceId, tenantId)
    .delete()
    .catch(() => undefined);
}

/** Conditional on the ETag the device was read with (see replaceIfUnchanged). */
export async function replaceDevice(store: Store, device: DeviceDoc): Promise<DeviceDoc> {
  return replaceIfUnchanged(store.container('accounts'), device, device.tenantId);
}

/** The printer refreshes its token every 20 minutes; an admin or two may edit it at once. */
const DEVICE_WRITE_ATTEMPTS = 10;

/**
 * Applies `change` to the printer as stored when it is written: a refresh (which rotates its
 * token and records when it was seen) or another admin's edit that came first is read again and
 * kept, and `change` is applied on top. Undefined when the printer is gone.
 */
export function updateDevice(store: Store, device: DeviceDoc, change: (current: DeviceDoc) => DeviceDoc): Promise<DeviceDoc | undefined> {
  const reread = (current: DeviceDoc) => readDevice(store, current.tenantId, current.id);
  return writeOnLatest(device, (current) => replaceDevice(store, change(current)), reread, DEVICE_WRITE_ATTEMPTS);
}

/**
 * An admin renames or moves a printer; audited (the fields, not their values). Applied on top of
 * whatever the printer's own refresh wrote meanwhile (its token, when it was seen).
 */
export async function changePrinter(
  { store, now }: Pick<Services, 'store' | 'now'>,
  admin: Actor,
  deviceId: string,
  changes: { readonly name?: string; readonly location?: string },
  log: Logger,
): Promise<DeviceDoc> {
  const device = await readDevice(store, admin.tenantId, deviceId);
  const updated = device && (await updateDevice(store, device, (current) => ({ ...current, ...changes })));
  if (!updated) throw new NotFound('no such printer');
  await audit(store, log, {
    tenantId: admin.tenantId,
    actorId: admin.userId,
    action: 'device.changed',
    targetId: updated.id,
    details: { fields: Object.keys(changes) },
    at: now(),
  });
  return updated;
}

/** The tenant's printers by name, a page at a time. */
export function listDevices(store: Store, tenantId: string, page: PageRequest) {
  const query = {
    query: "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type = 'device' ORDER BY c.name",
    parameters: [{ name: '@tenantId', value: tenantId }],
  };
  return queryPage<DeviceDoc>(store.container('accounts'), query, tenantId, page);
}

/** What admins see of a printer: never its tokens. */
export function publicDevice({ id, name, location, status, createdAt, lastSeenAt }: DeviceDoc) {
  return { id, name, location, status, createdAt, lastSeenAt };
}

export const PublicDeviceSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  location: Type.String(),
  status: Type.Union([Type.Literal('connected'), Type.Literal('disconnected')]),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time', description: 'Its last token refresh.' }),
});
