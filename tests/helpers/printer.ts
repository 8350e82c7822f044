import { ServiceBusClient, type ServiceBusReceivedMessage } from '@azure/service-bus';
import type { TestHost } from './test-host.js';
import { api } from './roger.js';

/**
 * A printer as it would really receive releases: it asks the API for AMQP credentials with its
 * device token, then connects with ONLY that SAS token through the real Service Bus SDK.
 */
export interface AmqpCredentials {
  amqpUrl: string;
  entityPath: string;
  sasToken: string;
  expiresOn: string;
}

export async function amqpCredentials(host: TestHost, deviceAccessToken: string): Promise<AmqpCredentials> {
  const response = await api(host, deviceAccessToken, 'POST', '/api/devices/me/amqp-token');
  if (response.status !== 200) throw new Error(`amqp-token: ${response.status}`);
  return response.body as AmqpCredentials;
}

export function printerClient(credentials: Pick<AmqpCredentials, 'amqpUrl' | 'sasToken'>): ServiceBusClient {
  const { host } = new URL(credentials.amqpUrl);
  return new ServiceBusClient(`Endpoint=sb://${host};SharedAccessSignature=${credentials.sasToken};UseDevelopmentEmulator=true`, {
    retryOptions: { maxRetries: 0, timeoutInMs: 3000, retryDelayInMs: 100 },
  });
}

/** Receives up to `count` messages from an entity path `<topic>/subscriptions/<name>`, completing them. */
export async function receiveReleases(
  client: ServiceBusClient,
  entityPath: string,
  count: number,
  maxWaitTimeInMs = 1500,
): Promise<ServiceBusReceivedMessage[]> {
  const [topic, , subscription] = entityPath.split('/');
  const receiver = client.createReceiver(topic!, subscription!);
  try {
    const received: ServiceBusReceivedMessage[] = [];
    while (received.length < count) {
      const batch = await receiver.receiveMessages(count - received.length, { maxWaitTimeInMs });
      if (batch.length === 0) break;
      for (const message of batch) {
        await receiver.completeMessage(message);
        received.push(message);
      }
    }
    return received;
  } finally {
    await receiver.close();
  }
}
