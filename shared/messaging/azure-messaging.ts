import { DefaultAzureCredential } from '@azure/identity';
import { ServiceBusAdministrationClient, ServiceBusClient } from '@azure/service-bus';
import type { Config } from '../config/load-config.js';
import {
  ADMIN_CALL_TIMEOUT_MS,
  ADMIN_RETRY,
  createSender,
  isQuotaExceeded,
  SEND_RETRY,
  subscriptionDefaults,
  TopicFullError,
  type Messaging,
} from './messaging.js';

/** Azure Service Bus: the managed identity sends and manages subscriptions (no keys in the app). */
export function openAzureMessaging(config: Config): Messaging {
  const namespace = config.serviceBus.namespace;
  if (!namespace) throw new Error('SERVICEBUS_NAMESPACE is not set: there is no Service Bus namespace to open');
  const credential = new DefaultAzureCredential({ managedIdentityClientId: config.managedIdentityClientId });
  const sender = createSender(new ServiceBusClient(namespace, credential, { retryOptions: SEND_RETRY }));
  const admin = new ServiceBusAdministrationClient(namespace, credential, { retryOptions: ADMIN_RETRY });
  return {
    // Both from the region catalog, so the token answer and discovery never disagree
    // (wss://<namespace>/$servicebus/websocket unless ROGER_REGIONS says otherwise: load-config.ts).
    amqpUrl: config.region.amqpUrl,
    amqpWebSocketUrl: config.region.amqpWebSocketUrl,
    resourceBase: `sb://${namespace}/`,
    listenRule: { name: config.serviceBus.listenKeyName, key: config.serviceBus.listenKey! },
    sendBatch: sender.sendBatch,
    subscriptions: {
      async create(topic, deviceId) {
        try {
          await admin.createSubscription(topic, deviceId, {
            abortSignal: AbortSignal.timeout(ADMIN_CALL_TIMEOUT_MS),
            maxDeliveryCount: subscriptionDefaults.maxDeliveryCount,
            lockDuration: `PT${subscriptionDefaults.lockDurationSeconds}S`,
            deadLetteringOnMessageExpiration: true,
            autoDeleteOnIdle: `P${subscriptionDefaults.autoDeleteOnIdleDays}D`,
            // Replaces the $Default (match-all) rule: the printer sees only its own messages.
            defaultRuleOptions: { name: 'printer', filter: { applicationProperties: { printerId: deviceId } } },
          });
        } catch (error) {
          if (isQuotaExceeded(error)) throw new TopicFullError(topic);
          if ((error as { code?: string }).code !== 'MessageEntityAlreadyExistsError') throw error;
        }
      },
      async delete(topic, deviceId) {
        try {
          await admin.deleteSubscription(topic, deviceId, { abortSignal: AbortSignal.timeout(ADMIN_CALL_TIMEOUT_MS) });
        } catch (error) {
          if ((error as { code?: string }).code !== 'MessageEntityNotFoundError') throw error;
        }
      },
    },
    close: sender.close,
  };
}
