import { randomBytes } from 'node:crypto';
import { ServiceBusClient } from '@azure/service-bus';
import { startLocalServiceBus, type LocalServiceBus } from '@roger-cloud/local-service-bus';
import type { Config } from '../../shared/config/load-config.js';
import {
  createSender,
  isQuotaExceeded,
  releaseTopics,
  SEND_RETRY,
  subscriptionDefaults,
  TopicFullError,
  type Messaging,
} from '../../shared/messaging/messaging.js';

/**
 * Local runs only (SERVICEBUS_NAMESPACE unset): the AMQP broker of tools/service-bus in this
 * process, with the release topics (`releases`, and RELEASE_TOPIC_COUNT more from `releases-00`),
 * a send/manage rule for the app and a Listen-only rule for printer tokens. The app still sends
 * through the real SDK, over TCP. `broker` is there for tests, which pause it and count what it
 * holds.
 */
export async function openLocalMessaging(config: Config): Promise<Messaging & { broker: LocalServiceBus }> {
  const appRule = { name: 'app', key: randomBytes(32).toString('base64'), rights: ['Send', 'Listen', 'Manage'] as const };
  const listenRule = { name: config.serviceBus.listenKeyName, key: randomBytes(32).toString('base64'), rights: ['Listen'] as const };
  const broker = await startLocalServiceBus({ port: config.serviceBus.localPort, rules: [appRule, listenRule] });
  for (const topic of releaseTopics(config.serviceBus.releaseTopicCount)) {
    broker.createTopic(topic.name, { duplicateDetectionWindowMs: topic.duplicateDetectionWindowMinutes * 60_000 });
  }

  const sender = createSender(new ServiceBusClient(broker.connectionString(appRule.name), { retryOptions: SEND_RETRY }));
  return {
    broker,
    amqpUrl: `amqp://${broker.host}:${broker.port}`,
    // The broker takes WebSockets on the same port (tools/service-bus/websocket.ts), without TLS.
    amqpWebSocketUrl: broker.webSocketUrl,
    resourceBase: `sb://${broker.host}:${broker.port}/`,
    listenRule: { name: listenRule.name, key: listenRule.key },
    sendBatch: sender.sendBatch,
    subscriptions: {
      async create(topic, deviceId) {
        if (broker.hasSubscription(topic, deviceId)) return;
        try {
          broker.createSubscription(topic, deviceId, {
            correlationFilter: { applicationProperties: { printerId: deviceId } },
            maxDeliveryCount: subscriptionDefaults.maxDeliveryCount,
            lockDurationMs: subscriptionDefaults.lockDurationSeconds * 1000,
            deadLetteringOnMessageExpiration: true,
          });
        } catch (error) {
          // The broker refuses past Azure's quota with the administration client's error shape.
          if (isQuotaExceeded(error)) throw new TopicFullError(topic);
          throw error;
        }
      },
      async delete(topic, deviceId) {
        broker.deleteSubscription(topic, deviceId);
      },
    },
    async close() {
      await sender.close();
      await broker.close();
    },
  };
}
