import { audit, type Actor } from '../audit/audit.js';
import { Invalid, Unavailable } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { TopicFullError } from '../messaging/messaging.js';
import { markTopicFull, releaseTopicPlace, reserveReleaseTopic } from '../messaging/topic-allocation.js';
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
 * The subscription goes on the first release topic with room (topic-allocation.ts), which the
 * printer keeps for life (its `topic`). A topic Service Bus finds full after all is marked full
 * and the next is tried; when every topic is full the admin is told the region needs more
 * (503 `release-topics-full`) and nothing was written.
 *
 * `approve` answers the device code (the OAuth side, approval.ts): only if it succeeds is the
 * printer kept. When another answer to the same code won, the printer and its subscription are
 * removed again (and its place on the topic given back) and that error is thrown.
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
  const deviceId = newId();
  const topic = await subscribeOnReleaseTopic(services, deviceId, log);
  const time = now().toISOString();
  const device: DeviceDoc = {
    id: deviceId,
    tenantId,
    type: 'device',
    name: details.name,
    location: details.location ?? '',
    status: 'connected',
    topic,
    refreshFamilies: [family],
    createdAt: time,
    lastSeenAt: time,
  };
  try {
    await createDevice(store, device);
    await approve(device);
  } catch (error) {
    await deleteDevice(store, tenantId, device.id);
    await unsubscribe(services, topic, deviceId);
    throw error;
  }
  await audit(store, log, { tenantId, actorId: admin.userId, action: 'device.enrolled', targetId: device.id, at: now() });
  return device;
}

/** Adding topics takes a deployment (docs/operations.md#adding-release-topics): not worth retrying soon. */
const TOPICS_FULL_RETRY_AFTER_SECONDS = 3600;

/** A place on a release topic and the printer's subscription there; on failure, neither. */
async function subscribeOnReleaseTopic(services: Services, deviceId: string, log: Logger): Promise<string> {
  const { store, config } = services;
  const limits = { count: config.serviceBus.releaseTopicCount, capacity: config.serviceBus.releaseTopicCapacity };
  const refusedBy = new Set<string>();
  for (;;) {
    const topic = await reserveReleaseTopic(store, limits, refusedBy);
    if (!topic) {
      // One record per refused enrollment, whatever the number of topics: what an alert counts.
      log.error('release-topics-full', { topics: limits.count, capacity: limits.capacity, refusedByServiceBus: refusedBy.size });
      throw new Unavailable(
        TOPICS_FULL_RETRY_AFTER_SECONDS,
        `every release topic of this region holds as many printers as it may (${limits.count} topics); the region's operator must add release topics before another printer can be enrolled`,
        {},
        'release-topics-full',
      );
    }
    try {
      await (await services.messaging()).subscriptions.create(topic, deviceId);
      return topic;
    } catch (error) {
      if (error instanceof TopicFullError) {
        // Subscriptions made outside this count: Service Bus is the judge. Not given back: full.
        log.warn('release-topic-full', { topic });
        refusedBy.add(topic);
        await markTopicFull(store, topic, limits.capacity);
        continue;
      }
      await releaseTopicPlace(store, topic).catch(() => undefined);
      log.warn('printer-subscription-failed', { deviceId, error: (error as Error)?.name });
      throw new Unavailable(5, 'the messaging service did not answer; try again');
    }
  }
}

/** Best effort, as at disconnection: a subscription left behind is deleted when idle. */
async function unsubscribe(services: Services, topic: string, deviceId: string): Promise<void> {
  await services
    .messaging()
    .then((messaging) => messaging.subscriptions.delete(topic, deviceId))
    .catch(() => undefined);
  await releaseTopicPlace(services.store, topic).catch(() => undefined);
}
