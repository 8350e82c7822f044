import type { WebSocketOptions } from '@azure/service-bus';
import { isLoopbackHost } from '@roger-cloud/client-kit/discovery';
import { WebSocket, type ClientOptions } from 'ws';

/**
 * How the printer reaches Service Bus (docs/clients.md#amqp-over-websockets): AMQP over TLS on
 * port 5671, or the same AMQP carried in WebSocket messages over TLS on 443 for networks that let
 * nothing else out. Either way the same SDK, the same SAS token and the same subscription; only
 * the SDK's `webSocketOptions` differ.
 */
export const TRANSPORTS = ['amqp', 'websockets'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** Where the API says to connect: its amqp-token answer. */
export interface AmqpUrls {
  readonly amqpUrl: string;
  /** Absent from an API older than AMQP over WebSockets. */
  readonly amqpWebSocketUrl?: string;
}

/** What the SDK is given: a connection string carrying only the SAS token, and the WebSocket class when it goes that way. */
export interface AmqpEndpoint {
  readonly connectionString: string;
  readonly webSocketOptions?: WebSocketOptions;
}

/** The one path at which Service Bus, and so the SDK, speaks AMQP over WebSockets. */
const WEBSOCKET_PATH = '/$servicebus/websocket';

export function amqpEndpoint(urls: AmqpUrls, sasToken: string, transport: Transport): AmqpEndpoint {
  return transport === 'websockets' ? overWebSockets(urls, sasToken) : overAmqp(urls, sasToken);
}

/**
 * `amqps://` in Azure; plain `amqp://` only to this machine (a local run's broker), which the SDK
 * calls its development emulator mode.
 */
function overAmqp({ amqpUrl }: AmqpUrls, sasToken: string): AmqpEndpoint {
  const url = new URL(amqpUrl);
  const plain = url.protocol === 'amqp:';
  if (!plain && url.protocol !== 'amqps:') throw new Error(`the API gave an AMQP URL that is not amqp(s): ${url.protocol}`);
  if (plain && !isLoopbackHost(url.hostname))
    throw new Error('the API gave a plain amqp:// URL for another machine; refusing to send the token unencrypted');
  return { connectionString: `Endpoint=sb://${url.host}/;SharedAccessSignature=${sasToken}${plain ? ';UseDevelopmentEmulator=true' : ''}` };
}

/**
 * The SDK opens `wss://<endpoint host>:<endpoint port, else 443>/$servicebus/websocket` with the
 * WebSocket class it is given, so the endpoint is the WebSocket URL's host and port. The token's
 * audience is `sb://<that host>/<entity>`, what the API minted it for: Azure names the namespace
 * the same on 5671 and 443, and the local broker takes both on one port.
 *
 * A local run's broker speaks no TLS (`ws://`, to this machine only). The SDK has no switch for a
 * plain WebSocket, but the class is ours to give: one that opens the URL the API gave instead of
 * the SDK's wss:// one, which differs only in the scheme. Nothing of the SDK changes.
 */
function overWebSockets({ amqpWebSocketUrl }: AmqpUrls, sasToken: string): AmqpEndpoint {
  if (!amqpWebSocketUrl) throw new Error('the API gives no AMQP-over-WebSockets URL (it predates them): use --transport amqp');
  const url = new URL(amqpWebSocketUrl);
  const plain = url.protocol === 'ws:';
  if (!plain && url.protocol !== 'wss:') throw new Error(`the API gave a WebSocket URL that is not ws(s): ${url.protocol}`);
  if (plain && !isLoopbackHost(url.hostname))
    throw new Error('the API gave a plain ws:// URL for another machine; refusing to send the token unencrypted');
  if (url.pathname !== WEBSOCKET_PATH || url.search) {
    throw new Error(`the API gave a WebSocket URL the Service Bus SDK cannot use (it connects at ${WEBSOCKET_PATH} only): ${url.pathname}`);
  }
  return {
    connectionString: `Endpoint=sb://${url.host}/;SharedAccessSignature=${sasToken}`,
    webSocketOptions: { webSocket: plain ? plainWebSocketTo(url.href) : WebSocket },
  };
}

/** `ws`'s WebSocket, opening `url` whatever URL the SDK built (wss://, same host, port and path). */
function plainWebSocketTo(url: string): WebSocketOptions['webSocket'] {
  return class PlainWebSocket extends WebSocket {
    constructor(_sdkUrl: string, protocols?: string | string[], options?: ClientOptions) {
      super(url, protocols, options);
    }
  };
}
