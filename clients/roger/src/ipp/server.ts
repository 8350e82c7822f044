import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MalformedRequest, decodeRequest, encodeResponse, operationGroup } from './encoding.js';
import { Status } from './operations-supported.js';
import { DocumentsInFlight, MAX_DOCUMENTS_IN_FLIGHT, SMALL_REQUEST_BYTES, type Release } from './documents-in-flight.js';
import { ICON_PATH, ICON_PNG } from './icon.js';
import { MAX_DOCUMENT_BYTES } from './printer-attributes.js';
import { PRINTER_PATH, type IppPrinter } from './printer.js';

/**
 * IPP over HTTP (RFC 8010 §4) for `roger printer`, on this machine's loopback addresses only
 * (docs/clients.md#the-ipp-printer): 127.0.0.1 and, where the machine has IPv6, [::1] — never
 * 0.0.0.0, so nobody else on the network can print as the signed-in user.
 *
 * A web page in the person's browser can reach loopback too; it gets nothing: a request must be
 * `Content-Type: application/ipp` (a page cannot send that without a CORS preflight, which is
 * never answered) and name a loopback host (a DNS name rebound to 127.0.0.1 is refused).
 */
export interface Listening {
  readonly port: number;
  readonly addresses: string[];
  close(): Promise<void>;
}

export async function listenOnLoopback(printer: IppPrinter, port: number): Promise<Listening> {
  const servers: Server[] = [];
  const addresses: string[] = [];
  const first = await listen(printer, '127.0.0.1', port);
  servers.push(first);
  const actualPort = (first.address() as AddressInfo).port;
  addresses.push(`127.0.0.1:${actualPort}`);
  try {
    servers.push(await listen(printer, '::1', actualPort));
    addresses.push(`[::1]:${actualPort}`);
  } catch (error) {
    // A machine without IPv6 on loopback: IPv4 alone is enough (localhost resolves to it too).
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EADDRNOTAVAIL' && code !== 'EAFNOSUPPORT') {
      await Promise.all(servers.map(closeServer));
      throw error;
    }
  }
  return {
    port: actualPort,
    addresses,
    close: () => Promise.all(servers.map(closeServer)).then(() => undefined),
  };
}

function listen(printer: IppPrinter, host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    serve(printer, port === 0 ? (server.address() as AddressInfo).port : port, request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  // IPP clients keep one connection for a whole session and may pause between requests (ipptool
  // polls a job every 5 s), as CUPS allows for 60 s. Node's headersTimeout also cuts a kept-alive
  // connection after 60 s in all (seen with ipptool); only this machine can connect, so no slow
  // client from elsewhere needs cutting off.
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: host === '::1' }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

async function serve(printer: IppPrinter, port: number, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const host = request.headers.host ?? `localhost:${port}`;
  if (!isLoopbackHostHeader(host)) return plain(response, 400, 'This printer answers only requests addressed to localhost.\n');
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (path === ICON_PATH && (request.method === 'GET' || request.method === 'HEAD')) {
    response.writeHead(200, { 'content-type': 'image/png', 'content-length': ICON_PNG.length, 'cache-control': 'max-age=86400' });
    return void response.end(request.method === 'GET' ? ICON_PNG : undefined);
  }
  if (path !== PRINTER_PATH) return plain(response, 404, `No printer here: the printer is ipp://localhost:${port}${PRINTER_PATH}\n`);
  if (request.method !== 'POST') {
    response.setHeader('allow', 'POST');
    return plain(response, 405, 'IPP requests are POSTed.\n');
  }
  if (request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() !== 'application/ipp') {
    return plain(response, 415, 'IPP requests are application/ipp.\n');
  }

  // A request bringing a document of any size takes one of the printer's few places for
  // documents (documents-in-flight.ts) as soon as it is seen to be one, and keeps it until answered.
  const place: { release?: Release; firstBytes?: Buffer } = {};
  try {
    const body = await readBody(request, place, printer.documents);
    if (body === 'too-large') return ipp(response, tooLarge());
    if (body === 'busy') return ipp(response, busy(place.firstBytes));
    let decoded;
    try {
      decoded = decodeRequest(body);
    } catch (error) {
      if (!(error instanceof MalformedRequest)) throw error;
      return ipp(response, badRequest(body));
    }
    // printer-uri-supported names the printer as this client reached it (RFC 8011 §5.4.1).
    const answer = await printer.handle(decoded, `ipp://${host}${PRINTER_PATH}`);
    ipp(response, encodeResponse(answer));
  } finally {
    place.release?.();
  }
}

async function readBody(
  request: IncomingMessage,
  place: { release?: Release; firstBytes?: Buffer },
  documents: DocumentsInFlight,
): Promise<Buffer | 'too-large' | 'busy'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size > SMALL_REQUEST_BYTES && !place.release) {
      place.release = documents.tryHold();
      if (!place.release) {
        // Answered at once; the rest of the bytes are read and dropped.
        place.firstBytes = Buffer.concat(chunks).subarray(0, 8);
        request.resume();
        return 'busy';
      }
    }
    // What is over the limit is the document.
    if (size > MAX_DOCUMENT_BYTES + SMALL_REQUEST_BYTES) {
      request.resume();
      return 'too-large';
    }
  }
  return Buffer.concat(chunks);
}

/** An answer to a request too broken to read: its own version and request-id when those 8 bytes are there. */
function badRequest(body: Buffer): Buffer {
  return errorAnswer(body.length >= 8 ? body.readInt32BE(4) : 0, Status.badRequest, 'the request is not a well-formed IPP message');
}

/** Too many documents at once: the request's own version and request-id, so the client can match the answer and try again. */
const busy = (body: Buffer | undefined) =>
  errorAnswer(
    body && body.length >= 8 ? body.readInt32BE(4) : 0,
    Status.busy,
    `the printer is taking ${MAX_DOCUMENTS_IN_FLIGHT} documents already: send this one again in a moment`,
  );

const tooLarge = () => errorAnswer(0, Status.requestEntityTooLarge, `documents up to ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB`);

function errorAnswer(requestId: number, status: number, message: string): Buffer {
  return encodeResponse({
    version: [2, 0],
    statusCode: status,
    requestId,
    groups: [operationGroup(message)],
  });
}

function ipp(response: ServerResponse, bytes: Buffer): void {
  response.writeHead(200, { 'content-type': 'application/ipp', 'content-length': bytes.length });
  response.end(bytes);
}

function plain(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(message);
}

/** `localhost`, `127.x.x.x` or `[::1]`, with or without a port. */
export function isLoopbackHostHeader(host: string): boolean {
  const name = host.replace(/:\d+$/, '').toLowerCase();
  return name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}
