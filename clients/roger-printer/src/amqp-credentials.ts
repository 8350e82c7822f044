import { ServiceBusClient, type ServiceBusReceiver } from '@azure/service-bus';
import { ApiError, apiRequest } from '@roger-cloud/client-kit/http';
import { amqpEndpoint, type Transport } from './amqp-transport.js';
import { Disconnected, type DeviceCredentials } from './contracts.js';

/**
 * The printer's way into Service Bus (docs/clients.md#messaging-credentials): nothing but the SAS token
 * the API gives a connected printer (`POST /api/devices/me/amqp-token`), Listen-only and scoped
 * to its own subscription, valid 20 minutes. The SDK renews a SAS claim only every 45 minutes
 * and cannot be handed a new signature for a connection string, so the receiver connects again
 * with a fresh token before the old one expires (renewAt).
 */
export interface AmqpCredentials {
  readonly amqpUrl: string;
  /** The same namespace over AMQP over WebSockets (443); absent from an API that predates it. */
  readonly amqpWebSocketUrl?: string;
  /** `<topic>/subscriptions/<printerId>` */
  readonly entityPath: string;
  readonly sasToken: string;
  readonly expiresOn: string;
}

const REFUSED = 'Roger no longer gives it release credentials (an administrator disconnected it, or it went unused for 90 days)';

/** A fresh SAS token; Disconnected when the API says this printer is no longer connected. */
export async function fetchAmqpCredentials(credentials: DeviceCredentials, signal: AbortSignal): Promise<AmqpCredentials> {
  const ask = (token: string) =>
    apiRequest<AmqpCredentials>(credentials.apiUrl, '/api/devices/me/amqp-token', { method: 'POST', token, signal });
  const token = await credentials.accessToken();
  try {
    return await ask(token);
  } catch (error) {
    if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 403)) throw error;
    if (error.status === 403) throw new Disconnected(REFUSED);
    // A 401 may be a token that died early (the API's clock ahead of ours, a key rotated): one
    // more try with a refreshed token (whose refresh says Disconnected if the enrollment ended)
    // before calling the printer disconnected.
    try {
      return await ask(await credentials.rejected(token));
    } catch (again) {
      if (again instanceof ApiError && (again.status === 401 || again.status === 403)) throw new Disconnected(REFUSED);
      throw again;
    }
  }
}

/**
 * When to fetch a new token: three quarters into its life (15 minutes of 20), at least 5 s from
 * now. A token that looks expired already (this machine's clock is far ahead) is fetched again
 * only every 30 s, so a wrong clock does not make the printer hammer the API.
 */
export function renewAt(credentials: AmqpCredentials, now = Date.now()): number {
  const lifetime = Date.parse(credentials.expiresOn) - now;
  if (!Number.isFinite(lifetime) || lifetime <= 0) return now + 30_000;
  return now + Math.max(5000, lifetime * 0.75);
}

export interface AmqpSession {
  readonly client: ServiceBusClient;
  readonly receiver: ServiceBusReceiver;
  close(): Promise<void>;
}

/**
 * A client and a peek-lock receiver on the printer's subscription, over AMQP or AMQP over
 * WebSockets (`transport`, amqp-transport.ts says where each goes). The SDK's own retries are kept
 * short: the receiver's loop decides how long to wait (backoff with jitter) and says what happened.
 */
export function openAmqpSession(credentials: AmqpCredentials, transport: Transport): AmqpSession {
  // Checked before the client exists: one made and then thrown away here would never be closed,
  // and the receiver tries again and again.
  const { connectionString, webSocketOptions } = amqpEndpoint(credentials, credentials.sasToken, transport);
  const [topic, , subscription] = credentials.entityPath.split('/');
  if (!topic || !subscription) throw new Error(`the API gave an entity path that is not a subscription: ${credentials.entityPath}`);
  const client = new ServiceBusClient(connectionString, {
    retryOptions: { maxRetries: 1, retryDelayInMs: 200, timeoutInMs: 5000 },
    ...(webSocketOptions ? { webSocketOptions } : {}),
  });
  // Peek-lock: a message stays on the subscription until the document is written (the SDK
  // renews the lock meanwhile, up to its default 5 minutes, for a slow download).
  const receiver = client.createReceiver(topic, subscription, { receiveMode: 'peekLock' });
  return {
    client,
    receiver,
    async close() {
      await receiver.close().catch(() => undefined);
      await client.close().catch(() => undefined);
    },
  };
}
