import type { Telemetry } from '../telemetry/telemetry.js';
import type { Messaging } from './messaging.js';

/**
 * Service Bus calls as dependency spans, at the boundary the services hand out (services.ts):
 * the operation and the topic, never a message's content. Other properties (the local broker a
 * test reads) pass through unchanged.
 */
export function tracedMessaging<M extends Messaging>(messaging: M, telemetry: Telemetry): M {
  const { subscriptions } = messaging;
  return {
    ...messaging,
    sendBatch: (topic, messages) =>
      telemetry.dependency(
        { system: 'servicebus', operation: 'send', target: topic },
        () => messaging.sendBatch(topic, messages),
        () => ({ messageCount: messages.length }),
      ),
    subscriptions: {
      create: (topic, deviceId) =>
        telemetry.dependency({ system: 'servicebus', operation: 'createSubscription', target: topic }, () =>
          subscriptions.create(topic, deviceId),
        ),
      delete: (topic, deviceId) =>
        telemetry.dependency({ system: 'servicebus', operation: 'deleteSubscription', target: topic }, () =>
          subscriptions.delete(topic, deviceId),
        ),
    },
  } satisfies Messaging;
}
