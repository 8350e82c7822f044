/**
 * AMQP over WebSockets, the way Service Bus offers it for networks that allow nothing but 443:
 * the same AMQP frames, carried in binary WebSocket messages on `/$servicebus/websocket` with the
 * subprotocol `AMQPWSB10` (docs/flows.md#amqp-over-websockets).
 *
 * The broker takes both transports on its one port and tells them apart by the first bytes a
 * client sends: an AMQP client opens with the protocol header `AMQP…`, a WebSocket client with an
 * HTTP request line. One port keeps one resource URI, `sb://<host>:<port>/…`, for both: a SAS token
 * minted for the namespace works over either transport, as it does in Azure, where the namespace
 * is one host name whatever the port. Two ports would give the local namespace two names, and a
 * printer's token would only cover one of them.
 */
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import type { Container } from 'rhea';
import { WebSocketServer } from 'ws';
import { acceptAmqpSocket } from './rhea-internals.js';

/** The path Service Bus serves AMQP over WebSockets on, and the only one the SDK asks for. */
export const WEBSOCKET_PATH = '/$servicebus/websocket';
/** The WebSocket subprotocol of AMQP 1.0 (OASIS AMQP WebSocket Binding). */
export const AMQP_WEBSOCKET_PROTOCOL = 'AMQPWSB10';

/** Every AMQP 1.0 connection (plain or SASL) begins with these bytes; an HTTP request never does. */
const AMQP_HEADER = Buffer.from('AMQP', 'latin1');

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
}

/** Connections open now, by transport: tests see which way a client came in. */
export class OpenConnections {
  amqp = 0;
  webSockets = 0;
}

/**
 * A TCP server that hands each connection to rhea: directly when it speaks AMQP, through a
 * WebSocket when it asks for an upgrade at WEBSOCKET_PATH. Anything else gets an HTTP error and
 * the connection is closed. `connectionOptions` apply to both kinds alike, as do the broker's SAS
 * checks: they live in the AMQP layer, above the transport.
 */
export function listenForAmqp(container: Container, where: ListenOptions, connectionOptions: object, open: OpenConnections): Server {
  const http = createHttpServer((_request, response) => {
    // A plain HTTP request (no upgrade): this is not a web server.
    response.writeHead(404, { 'content-type': 'text/plain' }).end('AMQP over WebSockets only, at /$servicebus/websocket\n');
  });
  const webSockets = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  http.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    const refusal = upgradeRefusal(request);
    if (refusal) {
      socket.end(`HTTP/1.1 ${refusal}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    webSockets.handleUpgrade(request, socket, head, (webSocket) => {
      open.webSockets += 1;
      webSocket.once('close', () => (open.webSockets -= 1));
      // rhea's WebSocket wrapper passes binary messages through as AMQP bytes.
      container.websocket_accept(webSocket as unknown as Socket, connectionOptions as Parameters<Container['websocket_accept']>[1]);
    });
  });

  const server = createTcpServer((socket) => {
    readFirstBytes(socket, AMQP_HEADER.length, (head) => {
      if (head.equals(AMQP_HEADER)) {
        open.amqp += 1;
        socket.once('close', () => (open.amqp -= 1));
        acceptAmqpSocket(container, connectionOptions, socket);
      } else {
        http.emit('connection', socket);
      }
      socket.resume();
    });
  });
  server.listen({ host: where.host, port: where.port });
  return server;
}

/** Why an upgrade request is not AMQP over WebSockets, as an HTTP status line; undefined when it is. */
function upgradeRefusal(request: IncomingMessage): string | undefined {
  const path = (request.url ?? '').split('?')[0];
  if (path !== WEBSOCKET_PATH) return '404 Not Found';
  const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  // Without the subprotocol the peer would not expect AMQP frames.
  if (!offered.includes(AMQP_WEBSOCKET_PROTOCOL)) return '400 Bad Request';
  return undefined;
}

/**
 * Waits for the first `count` bytes, then puts them back and pauses the socket, so that whoever
 * takes it next reads the stream from its start (its reader calls resume once attached). A client
 * that connects and says nothing is only closed when the broker stops.
 */
function readFirstBytes(socket: Socket, count: number, then: (head: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let length = 0;
  // Until a reader takes the socket, a reset by the client must not be an unhandled 'error'.
  const onError = (): void => undefined;
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk);
    length += chunk.length;
    if (length < count) return;
    socket.off('data', onData);
    socket.off('error', onError);
    socket.pause();
    const received = Buffer.concat(chunks);
    socket.unshift(received);
    then(received.subarray(0, count));
  };
  socket.on('data', onData);
  socket.on('error', onError);
}
