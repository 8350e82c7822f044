/**
 * AMQP over WebSockets on the broker's own port, driven by the real @azure/service-bus SDK with
 * `webSocketOptions` and the `ws` package, as a printer behind a 443-only firewall connects.
 * The SDK always builds `wss://<host>:<port>/$servicebus/websocket`; the broker here has no TLS,
 * so the WebSocket class handed to the SDK opens the same URL with `ws:` (nothing else changes).
 */
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { ServiceBusClient } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startLocalServiceBus, type LocalServiceBus } from '../broker.js';

const ROOT = { name: 'RootManageSharedAccessKey', key: 'root-key-0123456789', rights: ['Manage'] } as const;
const LISTEN = { name: 'printer-listen', key: 'listen-key-0123456789', rights: ['Listen'] } as const;
const TOPIC = 'releases-00';

let bus: LocalServiceBus;
const clients: ServiceBusClient[] = [];

/** The URLs the SDK asked WebSockets for, to see that it went that way. */
const opened: string[] = [];

/** `ws`'s WebSocket, made to open the SDK's wss:// URL as ws:// (the local broker speaks no TLS). */
class PlainWebSocket extends WebSocket {
  constructor(address: string, protocols?: string | string[], options?: WebSocket.ClientOptions) {
    opened.push(address);
    super(address.replace(/^wss:/, 'ws:'), protocols, options);
  }
}

type Transport = 'amqp' | 'websockets';

/** A printer's client: nothing but a SAS token, over the given transport; no retries, so refusals come back at once. */
function printerClient(token: string, transport: Transport): ServiceBusClient {
  const client = new ServiceBusClient(`Endpoint=sb://127.0.0.1:${bus.port}/;SharedAccessSignature=${token};UseDevelopmentEmulator=true`, {
    retryOptions: { maxRetries: 0, timeoutInMs: 3000 },
    ...(transport === 'websockets' ? { webSocketOptions: { webSocket: PlainWebSocket } } : {}),
  });
  clients.push(client);
  return client;
}

function sasToken(resourceUri: string, rule: { name: string; key: string }, expiresInSeconds = 600): string {
  const sr = encodeURIComponent(resourceUri);
  const se = Math.floor(Date.now() / 1000) + expiresInSeconds;
  const sig = createHmac('sha256', rule.key).update(`${sr}\n${se}`).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${se}&skn=${encodeURIComponent(rule.name)}`;
}

const subscriptionUri = (printer: string) => `sb://127.0.0.1:${bus.port}/${TOPIC}/subscriptions/${printer}`;

async function send(printerId: string, body: string): Promise<void> {
  const root = new ServiceBusClient(bus.connectionString(ROOT.name));
  clients.push(root);
  await root.createSender(TOPIC).sendMessages({ body, applicationProperties: { printerId } });
}

/** What the SDK reports for a refused receive: the code and message a printer's log would show. */
async function refusal(token: string, transport: Transport, printer = 'A'): Promise<{ code: unknown; message: string }> {
  const receiver = printerClient(token, transport).createReceiver(TOPIC, printer);
  const error = await receiver.receiveMessages(1, { maxWaitTimeInMs: 500 }).then(
    () => new Error('received'),
    (thrown: unknown) => thrown as Error & { code?: unknown },
  );
  return { code: (error as { code?: unknown }).code, message: error.message };
}

/** An HTTP request to the broker's port, as a browser or a probe would make it: the status line back. */
function httpStatus(path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const call = request({ host: '127.0.0.1', port: bus.port, path, headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    call.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 0);
    });
    call.on('error', reject);
    call.end();
  });
}

beforeAll(async () => {
  bus = await startLocalServiceBus({ rules: [ROOT, LISTEN] });
  bus.createTopic(TOPIC);
  for (const printer of ['A', 'B'])
    bus.createSubscription(TOPIC, printer, { correlationFilter: { applicationProperties: { printerId: printer } } });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await bus.close();
});

describe('AMQP over WebSockets', () => {
  test('its URL is the broker port at /$servicebus/websocket', () => {
    expect(bus.webSocketUrl).toBe(`ws://127.0.0.1:${bus.port}/$servicebus/websocket`);
  });

  test('a printer receives and settles over WebSockets with only its subscription-scoped SAS token', async () => {
    await send('A', 'over websockets');
    const token = sasToken(subscriptionUri('A'), LISTEN);
    const receiver = printerClient(token, 'websockets').createReceiver(TOPIC, 'A');
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 3000 });
    expect(message?.body).toBe('over websockets');
    expect(message?.applicationProperties?.printerId).toBe('A');
    await receiver.completeMessage(message!);
    expect(bus.countMessages(TOPIC, 'A')).toEqual({ active: 0, deadLetter: 0 });
    // The SDK's own URL: the endpoint's host and port, its fixed path, always wss.
    expect(opened).toEqual([`wss://127.0.0.1:${bus.port}/$servicebus/websocket`]);
    expect(bus.openConnections()).toEqual({ amqp: 1, webSockets: 1 }); // the sender's and the printer's
  });

  test('the same token works over TCP: one namespace name, one resource URI for both transports', async () => {
    await send('A', 'over tcp');
    const token = sasToken(subscriptionUri('A'), LISTEN);
    const [message] = await printerClient(token, 'amqp')
      .createReceiver(TOPIC, 'A', { receiveMode: 'receiveAndDelete' })
      .receiveMessages(1, { maxWaitTimeInMs: 3000 });
    expect(message?.body).toBe('over tcp');
  });

  test('a wrong signature, an expired token and another printer’s subscription are refused as over TCP', async () => {
    const good = sasToken(subscriptionUri('A'), LISTEN);
    const wrongKey = sasToken(subscriptionUri('A'), { name: LISTEN.name, key: 'not-the-key' });
    const expired = sasToken(subscriptionUri('A'), LISTEN, -60);
    for (const [token, printer] of [
      [wrongKey, 'A'],
      [expired, 'A'],
      [good, 'B'],
    ] as const) {
      const overWebSockets = await refusal(token, 'websockets', printer);
      expect(overWebSockets.code).toBe('UnauthorizedAccess');
      expect(overWebSockets).toEqual(await refusal(token, 'amqp', printer));
    }
    expect(bus.countMessages(TOPIC, 'B')).toEqual({ active: 0, deadLetter: 0 });
  });

  test('anything but an AMQP upgrade at /$servicebus/websocket gets an HTTP error', async () => {
    const upgrade = {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    };
    expect(await httpStatus('/')).toBe(404);
    expect(await httpStatus('/other', { ...upgrade, 'sec-websocket-protocol': 'AMQPWSB10' })).toBe(404);
    expect(await httpStatus('/$servicebus/websocket', upgrade)).toBe(400); // no AMQP subprotocol
    expect(await httpStatus('/$servicebus/websocket', { ...upgrade, 'sec-websocket-protocol': 'AMQPWSB10' })).toBe(101);
  });

  test('pause() drops WebSocket connections too, and resume() serves them again', async () => {
    const token = sasToken(subscriptionUri('B'), LISTEN);
    const receiver = printerClient(token, 'websockets').createReceiver(TOPIC, 'B');
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
    await bus.pause();
    await expect(receiver.receiveMessages(1, { maxWaitTimeInMs: 200 })).rejects.toThrow();
    await bus.resume();
    await send('B', 'after the outage');
    const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 3000 });
    expect(message?.body).toBe('after the outage');
  });
});
