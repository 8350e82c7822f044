import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { amqpEndpoint } from '../src/amqp-transport.js';

/** docs/clients.md#amqp-over-websockets: what the SDK is given for each transport, from the amqp-token answer. */
const TOKEN = 'SharedAccessSignature sr=x&sig=y&se=1&skn=printer-listen';
const azure = {
  amqpUrl: 'amqps://roger-eu-bus.servicebus.windows.net',
  amqpWebSocketUrl: 'wss://roger-eu-bus.servicebus.windows.net/$servicebus/websocket',
};
const local = { amqpUrl: 'amqp://127.0.0.1:5672', amqpWebSocketUrl: 'ws://127.0.0.1:5672/$servicebus/websocket' };

describe('amqpEndpoint', () => {
  it('amqp: the namespace with the SAS token, TLS unless the broker is on this machine', () => {
    expect(amqpEndpoint(azure, TOKEN, 'amqp')).toEqual({
      connectionString: `Endpoint=sb://roger-eu-bus.servicebus.windows.net/;SharedAccessSignature=${TOKEN}`,
    });
    expect(amqpEndpoint(local, TOKEN, 'amqp').connectionString).toBe(
      `Endpoint=sb://127.0.0.1:5672/;SharedAccessSignature=${TOKEN};UseDevelopmentEmulator=true`,
    );
  });

  it("websockets in Azure: the same namespace (so the token's audience), ws's WebSocket, and the SDK's own wss URL on 443", () => {
    const endpoint = amqpEndpoint(azure, TOKEN, 'websockets');
    expect(endpoint.connectionString).toBe(`Endpoint=sb://roger-eu-bus.servicebus.windows.net/;SharedAccessSignature=${TOKEN}`);
    expect(endpoint.webSocketOptions?.webSocket).toBe(WebSocket);
  });

  it('websockets to a local broker: the endpoint keeps its port, and the WebSocket opens the ws:// URL the API gave', async () => {
    const endpoint = amqpEndpoint(local, TOKEN, 'websockets');
    expect(endpoint.connectionString).toBe(`Endpoint=sb://127.0.0.1:5672/;SharedAccessSignature=${TOKEN}`);
    const Plain = endpoint.webSocketOptions!.webSocket as unknown as typeof WebSocket;
    // What the SDK would build; nothing listens on port 9, so the socket only shows where it went.
    const socket = new Plain('wss://127.0.0.1:9/$servicebus/websocket', ['AMQPWSB10']);
    socket.on('error', () => undefined);
    expect(socket.url).toBe('ws://127.0.0.1:5672/$servicebus/websocket');
    socket.terminate();
  });

  it('refuses what would leak the token or what the SDK cannot use', () => {
    expect(() => amqpEndpoint({ ...local, amqpWebSocketUrl: 'ws://printers.example/$servicebus/websocket' }, TOKEN, 'websockets')).toThrow(
      /plain ws:\/\/ URL for another machine/,
    );
    expect(() =>
      amqpEndpoint({ ...azure, amqpWebSocketUrl: 'wss://roger-eu-bus.servicebus.windows.net/amqp' }, TOKEN, 'websockets'),
    ).toThrow(/connects at \/\$servicebus\/websocket only/);
    expect(() => amqpEndpoint({ ...azure, amqpWebSocketUrl: 'https://x.example/$servicebus/websocket' }, TOKEN, 'websockets')).toThrow(
      /not ws\(s\)/,
    );
    expect(() => amqpEndpoint({ amqpUrl: azure.amqpUrl }, TOKEN, 'websockets')).toThrow(/use --transport amqp/);
  });
});
