import { audit, type Actor } from '../audit/audit.js';
import { NotFound } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import { releaseTopicPlace } from '../messaging/topic-allocation.js';
import { readDevice, updateDevice, type DeviceDoc } from './devices.js';

/**
 * A disconnected printer (docs/flows.md#printer-lifecycle) has no refresh tokens and no release subscription; it must
 * be enrolled again. Its last access token dies within its 20 minutes, and cannot mint an AMQP
 * token meanwhile (that checks the printer is connected). The subscription is deleted best
 * effort: if Service Bus is down, auto-delete-on-idle removes it later. Its place on its release
 * topic is given back (topic-allocation.ts), so a new printer can take it.
 *
 * The printer's own refresh may write the item at the same moment: the disconnection is then
 * applied on top of it (updateDevice), so the token it just rotated is revoked too and the
 * admin's disconnect neither fails nor leaves the printer connected.
 */
export async function disconnectDevice(services: Services, device: DeviceDoc, log: Logger): Promise<void> {
  let wasConnected = false;
  const written = await updateDevice(services.store, device, (current) => {
    wasConnected = current.status === 'connected'; // of the write that lands: the last call
    return { ...current, status: 'disconnected', refreshFamilies: [] };
  });
  try {
    await (await services.messaging()).subscriptions.delete(device.topic, device.id);
  } catch (error) {
    log.warn('printer-subscription-delete-failed', { deviceId: device.id, error: (error as Error)?.name });
  }
  // Its place on the release topic, once: a second disconnection finds it disconnected already.
  if (written && wasConnected) {
    await releaseTopicPlace(services.store, device.topic).catch((error: unknown) => {
      log.warn('release-topic-place-not-given-back', { topic: device.topic, error: (error as Error)?.name });
    });
  }
  log.info('printer-disconnected', { deviceId: device.id });
}

/** An admin disconnects a printer of their tenant at once (also when it already was); audited. */
export async function disconnectPrinter(services: Services, admin: Actor, deviceId: string, log: Logger): Promise<void> {
  const device = await readDevice(services.store, admin.tenantId, deviceId);
  if (!device) throw new NotFound('no such printer');
  await disconnectDevice(services, device, log);
  await audit(services.store, log, {
    tenantId: admin.tenantId,
    actorId: admin.userId,
    action: 'device.disconnected',
    targetId: device.id,
    at: services.now(),
  });
}
