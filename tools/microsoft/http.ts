/** Small HTTP helpers shared by the local Entra and Graph doubles. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { NameConflictError } from './drive-store.js';

/** Opaque secrets (codes, tokens, upload and download URLs): 8 bits of entropy per byte. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Secrets are kept only as their SHA-256, so a heap dump of the double leaks nothing usable. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The whole body, or undefined when it is larger than `limit`. An oversized body is still read
 * to its end (and dropped) so the answer reaches a client that is still sending.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= limit ? Buffer.concat(chunks, size) : undefined));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** A Graph failure, answered as `{ "error": { "code", "message", "innerError" } }`. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: OutgoingHttpHeaders = {},
  ) {
    super(message);
  }
}

const GRAPH_JSON = 'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8';

/** Graph answers carry a request-id and echo the caller's client-request-id, which SDK logs quote. */
function graphHeaders(req: IncomingMessage, requestId: string): OutgoingHttpHeaders {
  const clientRequestId = req.headers['client-request-id'];
  return {
    'Content-Type': GRAPH_JSON,
    'request-id': requestId,
    'client-request-id': typeof clientRequestId === 'string' ? clientRequestId : requestId,
  };
}

export function sendGraph(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  sendJson(res, status, body, { ...graphHeaders(req, randomUUID()), ...headers });
}

export function sendGraphError(req: IncomingMessage, res: ServerResponse, error: GraphError, nowMs: number): void {
  const requestId = randomUUID();
  const headers = graphHeaders(req, requestId);
  const innerError = {
    date: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'request-id': requestId,
    'client-request-id': headers['client-request-id'],
  };
  sendJson(res, error.status, { error: { code: error.code, message: error.message, innerError } }, { ...headers, ...error.headers });
}

/** Runs a drive change, answering a name conflict as Graph does: 409 nameAlreadyExists. */
export function placeOrConflict<T>(place: () => T): T {
  try {
    return place();
  } catch (error) {
    if (error instanceof NameConflictError) throw new GraphError(409, 'nameAlreadyExists', error.message);
    throw error;
  }
}
