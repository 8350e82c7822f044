import { ServiceBusClient, type ServiceBusReceivedMessage } from '@azure/service-bus';
import * as oauth from 'openid-client';
import type { TestHost } from './test-host.js';
import { api, oauthClient, tokenRequest } from './roger.js';

export interface EnrolledPrinter {
  access: string;
  refresh: string;
  deviceId: string;
}

/** Enrollment (docs/flows.md#sign-in): the printer shows a code, an admin approves it from the app, the printer's poll gets device tokens. */
export async function enrollPrinter(host: TestHost, adminToken: string, name: string): Promise<EnrolledPrinter> {
  const emb = await oauthClient(host, 'roger-emb');
  const authorization = await oauth.initiateDeviceAuthorization(emb, { scope: 'device' });
  const polling = oauth.pollDeviceAuthorizationGrant(emb, authorization);
  const approved = await api(host, adminToken, 'POST', '/api/device-codes/approve', { user_code: authorization.user_code, name });
  if (approved.status !== 200) throw new Error(`enrollment approval: ${approved.status}`);
  const tokens = await polling;
  return { access: tokens.access_token, refresh: tokens.refresh_token!, deviceId: approved.body.deviceId as string };
}

/** A user's PIN at the printer's panel gives a session token (the printer authenticates with its own token; docs/flows.md#sign-in). */
export async function pinSession(
  host: TestHost,
  printer: { access: string },
  username: string,
  pin: string,
  scope = 'jobs:submit',
): Promise<string> {
  const response = await tokenRequest(
    host,
    { grant_type: 'password', client_id: 'roger-emb', username, password: pin, scope },
    printer.access,
  );
  if (response.status !== 200) throw new Error(`PIN sign-in: ${response.status}`);
  return response.body.access_token as string;
}

/** A session at the printer (docs/flows.md#sign-in) approved from the user's phone: the approval's release outcome and the session token. */
export async function startSession(host: TestHost, printer: { access: string }, userToken: string) {
  const emb = await oauthClient(host, 'roger-emb', () => printer.access);
  const authorization = await oauth.initiateDeviceAuthorization(emb, { scope: 'session' });
  const polling = oauth.pollDeviceAuthorizationGrant(emb, authorization);
  const approved = await api(host, userToken, 'POST', '/api/device-codes/approve', { user_code: authorization.user_code });
  if (approved.status !== 200) throw new Error(`session approval: ${approved.status}`);
  return {
    release: approved.body.release as { released: number; queued: number; dispatched: boolean },
    token: (await polling).access_token,
    userCode: authorization.user_code,
  };
}

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
