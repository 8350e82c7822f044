import { randomUUID } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A fault-injecting HTTP proxy between the app's Cosmos SDK and the local Cosmos server. The
 * app is configured with the proxy's URL as `COSMOS_ENDPOINT`, exactly as it would be with a
 * real account: the SDK is not stubbed, every request crosses two real sockets.
 *
 * Endpoint discovery: with a configured endpoint the SDK first reads the account document
 * (`GET /`) and from then on sends to the endpoints listed there (`writableLocations`,
 * `readableLocations`), switching to whatever scheme they name. The local server lists
 * `https://<its own host>`, which would bypass the proxy (and fail on TLS), so the proxy
 * rewrites those entries to its own URL, as a real account lists its own regional endpoints.
 *
 * Faults are rules, matched in order against each data-plane request (the account document is
 * never faulted); a matching rule answers in place of the server for its next `times` requests:
 * - `throttle`: 429 with `x-ms-retry-after-ms` and sub-status 3200, like Cosmos DB;
 * - `unavailable`: 503 ServiceUnavailable;
 * - `hang`: accepts the request and never answers (until the rule is cleared or the proxy closes);
 * - `reset`: drops the connection without an answer (ECONNRESET at the app);
 * - `precondition`: 412 PreconditionFailed, as if another writer changed the item first, every
 *   time (contention that outlasts the app's re-read-and-write-again).
 * `down()` and `up()` take the whole store off the network and back (ECONNREFUSED meanwhile).
 */
export type CosmosFault =
  | { readonly kind: 'throttle'; readonly retryAfterMs: number }
  | { readonly kind: 'unavailable' }
  | { readonly kind: 'hang' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'precondition' };

export interface FaultRule {
  readonly fault: CosmosFault;
  /** How many matching requests it answers; default: all of them until cleared. */
  readonly times?: number;
  /** Which requests: default every data-plane request. */
  readonly match?: (request: CosmosRequest) => boolean;
}

/** What a rule sees of a request. */
export interface CosmosRequest {
  readonly method: string;
  /** Without the query string, e.g. `/dbs/roger/colls/jobs/docs/<id>`. */
  readonly path: string;
  /** A SQL query (a POST that reads). */
  readonly query: boolean;
  /** A transactional batch: the ids of the items its operations write (a sign-in's user and login record). */
  readonly batchItemIds?: readonly string[];
}

export interface ProxiedRequest extends CosmosRequest {
  /** The status the app received, or 'hung' (never answered). */
  status: number | 'hung' | 'reset' | 'pending';
  /** The fault that answered it, if any. */
  readonly fault?: CosmosFault['kind'];
}

export interface CosmosFaultProxy {
  readonly url: string;
  /** Adds a rule after the others. */
  inject(rule: FaultRule): void;
  /** Removes every rule and releases every hung request (their sockets are closed). */
  clear(): void;
  /** Stops listening and drops every connection: the app's requests are refused (ECONNREFUSED). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /** Everything that reached the proxy, in order. */
  readonly requests: readonly ProxiedRequest[];
  close(): Promise<void>;
}

/** Data-plane writes: create, upsert, replace, patch, delete (queries are POSTs too, but read). */
export const isWrite = (request: CosmosRequest) => request.method !== 'GET' && request.method !== 'HEAD' && !request.query;

/** Requests to one container's items (`/dbs/<db>/colls/<container>/docs...`). */
export const inContainer =
  (container: string) =>
  (request: CosmosRequest): boolean =>
    new RegExp(`/colls/${container}(/|$)`).test(request.path);

const ACCOUNT_DOCUMENT = '/';

/** The item ids a batch body names (`id` of a replace, `resourceBody.id` of a create). */
function batchIds(body: Buffer): string[] {
  try {
    const operations = JSON.parse(body.toString('utf8')) as { id?: string; resourceBody?: { id?: string } }[];
    return operations.flatMap((operation) => {
      const id = operation.id ?? operation.resourceBody?.id;
      return id ? [id] : [];
    });
  } catch {
    return [];
  }
}

function sendCosmosError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}) {
  const body = JSON.stringify({ code, message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-ms-activity-id': randomUUID(),
    'x-ms-request-charge': '0',
    ...headers,
  });
  res.end(body);
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startCosmosFaultProxy(target: string): Promise<CosmosFaultProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const rules: { rule: FaultRule; remaining: number }[] = [];
  const hung = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const requests: ProxiedRequest[] = [];
  let url = '';

  /** The account document with every regional endpoint pointing back at the proxy. */
  function rewriteAccount(body: Buffer): Buffer {
    const account = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    for (const key of ['writableLocations', 'readableLocations']) {
      const locations = account[key];
      if (Array.isArray(locations)) {
        account[key] = locations.map((location: Record<string, unknown>) => ({ ...location, databaseAccountEndpoint: `${url}/` }));
      }
    }
    return Buffer.from(JSON.stringify(account));
  }

  function faultFor(request: CosmosRequest): CosmosFault | undefined {
    if (request.path === ACCOUNT_DOCUMENT) return undefined;
    for (const entry of rules) {
      if (entry.remaining <= 0) continue;
      if (entry.rule.match && !entry.rule.match(request)) continue;
      entry.remaining -= 1;
      return entry.rule.fault;
    }
    return undefined;
  }

  async function forward(req: IncomingMessage, res: ServerResponse, body: Buffer, record: ProxiedRequest) {
    const path = req.url ?? '/';
    const headers = { ...req.headers, host: upstream.host };
    const answer = await new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path, headers, agent }, resolve);
      outgoing.on('error', reject);
      outgoing.end(body);
    });
    let responseBody = await readAll(answer);
    const responseHeaders = { ...answer.headers };
    if (new URL(path, url).pathname === ACCOUNT_DOCUMENT && req.method === 'GET' && answer.statusCode === 200) {
      responseBody = rewriteAccount(responseBody);
    }
    delete responseHeaders['transfer-encoding'];
    responseHeaders['content-length'] = String(responseBody.length);
    res.writeHead(answer.statusCode ?? 502, responseHeaders);
    res.end(responseBody);
    record.status = answer.statusCode ?? 502;
  }

  const server = createServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    const body = await readAll(req);
    const query =
      String(req.headers['x-ms-documentdb-isquery'] ?? '').toLowerCase() === 'true' ||
      Boolean(req.headers['x-ms-cosmos-is-query-plan-request']);
    const batchItemIds = String(req.headers['x-ms-cosmos-is-batch-request'] ?? '').toLowerCase() === 'true' ? batchIds(body) : undefined;
    const fault = faultFor({ method, path, query, ...(batchItemIds ? { batchItemIds } : {}) });
    const record: ProxiedRequest = { method, path, query, status: 'pending', ...(fault ? { fault: fault.kind } : {}) };
    requests.push(record);
    try {
      switch (fault?.kind) {
        case 'throttle':
          record.status = 429;
          return sendCosmosError(res, 429, 'TooManyRequests', 'Request rate is large. More Request Units may be needed (fault proxy).', {
            'x-ms-retry-after-ms': String(fault.retryAfterMs),
            'x-ms-substatus': '3200',
          });
        case 'unavailable':
          record.status = 503;
          return sendCosmosError(res, 503, 'ServiceUnavailable', 'The service is currently unavailable (fault proxy).');
        case 'precondition':
          record.status = 412;
          return sendCosmosError(
            res,
            412,
            'PreconditionFailed',
            'Operation cannot be performed because one of the specified precondition is not met (fault proxy).',
          );
        case 'hang':
          record.status = 'hung';
          hung.add(res);
          res.on('close', () => hung.delete(res));
          return;
        case 'reset':
          record.status = 'reset';
          req.socket.destroy();
          return;
        default:
          break;
      }
      await forward(req, res, body, record);
    } catch {
      if (!res.headersSent) sendCosmosError(res, 502, 'BadGateway', 'fault proxy: upstream failed');
      else res.destroy();
      record.status = 502;
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}`;

  const releaseHung = () => {
    for (const res of hung) res.destroy();
    hung.clear();
  };

  return {
    url,
    requests,
    inject(rule) {
      rules.push({ rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
    },
    clear() {
      rules.length = 0;
      releaseHung();
    },
    async down() {
      releaseHung();
      await stop();
    },
    up: () => listen(port),
    async close() {
      rules.length = 0;
      releaseHung();
      agent.destroy();
      if (server.listening) await stop();
    },
  };
}
