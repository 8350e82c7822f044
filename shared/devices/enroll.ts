import { audit, type Actor } from '../audit/audit.js';
import { Invalid, Unavailable } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { DEFAULT_RELEASE_TOPIC } from '../messaging/messaging.js';
import type { RefreshFamily } from '../oauth/refresh-families.js';
import type { Services } from '../services.js';
import { newId } from '../tokens/secrets.js';
import { createDevice, deleteDevice, type DeviceDoc } from './devices.js';

/**
 * Enrollment (docs/flows.md#printer-lifecycle), the start of the life disconnect.ts ends: an
 * admin approves a printer's device code and the printer joins the admin's tenant, with its
 * first refresh family and its own release subscription. The subscription exists before the
 * printer can ask for an AMQP token; if it cannot be made, nothing is left behind.
 *
 * `approve` answers the device code (the OAuth side, approval.ts): only if it succeeds is the
 * printer kept. When another answer to the same code won, the printer and its subscription are
 * removed again and that error is thrown.
 */
export async function enrollPrinter(
  services: Services,
  admin: Actor,
  details: { readonly name?: string; readonly location?: string },
  family: RefreshFamily,
  approve: (device: DeviceDoc) => Promise<void>,
  log: Logger,
): Promise<DeviceDoc> {
  const { store, now } = services;
  const { tenantId } = admin;
  if (!details.name) {
    throw new Invalid('/body/name is required to enroll a printer', {
      errors: [{ pointer: '/body/name', detail: 'is required' }],
    });
  }
  const time = now().toISOString();
  const device: DeviceDoc = {
    id: newId(),
    tenantId,
    type: 'device',
    name: details.name,
    location: details.location ?? '',
    status: 'connected',
    topic: DEFAULT_RELEASE_TOPIC,
    refreshFamilies: [family],
    createdAt: time,
    lastSeenAt: time,
  };
  await createDevice(store, device);
  try {
    await (await services.messaging()).subscriptions.create(device.topic, device.id);
  } catch (error) {
    await deleteDevice(store, tenantId, device.id);
    log.warn('printer-subscription-failed', { deviceId: device.id, error: (error as Error)?.name });
    throw new Unavailable(5, 'the messaging service did not answer; try again');
  }
  try {
    await approve(device);
  } catch (error) {
    await (await services.messaging()).subscriptions.delete(device.topic, device.id).catch(() => undefined);
    await deleteDevice(store, tenantId, device.id);
    throw error;
  }
  await audit(store, log, { tenantId, actorId: admin.userId, action: 'device.enrolled', targetId: device.id, at: now() });
  return device;
}
