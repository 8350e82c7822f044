import { randomUUID } from 'node:crypto';
import { isWebAppPath, serveWebApp, uploadOrigins, webAppCsp } from './local-web.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIPv6, type AddressInfo } from 'node:net';
// Classes come through the default import: named value imports of @azure/functions fail in
// plain Node ESM (docs/architecture.md#two-hosts-one-app, upstream issue #287).
import azf from '@azure/functions';
import type { LogLevel } from '@azure/functions';
import type { Config } from '../shared/config/load-config.js';
import { createHttpHandler, type PlainResponseInit } from '../shared/http/http-handler.js';
import { HttpProblem } from '../shared/http/problem.js';
import type { RouteTable } from '../shared/http/route-table.js';
import { lazyServices, type Adapters, type ServicesProvider } from '../shared/services.js';
import { LocalHttpRequest } from './local-http-request.js';
import type { Telemetry } from '../shared/telemetry/telemetry.js';
import { timerHandler, type TimerFunction } from '../functions/timers.js';

/**
 * A small stand-in for the Functions host (which cannot be downloaded here): it serves the
 * same route table over node:http, hands each handler an `HttpRequest` (local-http-request.ts:
 * the library's interface, read straight from node:http) and the real `InvocationContext`, and
 * writes the handler's plain answer (PlainResponseInit), so a handler cannot tell the difference.
 */
export interface LocalHostOptions {
  readonly config: Config;
  readonly table: RouteTable;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly hostname?: string;
  /** The services' clock; tests move it forward to reach expiry without waiting. */
  readonly clock?: () => Date;
  /** How the services reach Cosmos DB, Service Bus and Entra/Graph: usually `localAdapters`. */
  readonly adapters: Adapters;
  /** Where counts, spans and log records go (shared/telemetry/start.ts). Default: nowhere. */
  readonly telemetry?: Telemetry;
  /** Where log lines go (the request lines and whatever handlers log). Default: stdout/stderr. */
  readonly log?: (level: LogLevel, line: string) => void;
  /** The built web app (web/dist) to serve under `/app/` (tools/local-web.ts). Default: none. */
  readonly webRoot?: string;
  /**
   * The timer functions (functions/timers.ts), run through the same handler as in Azure. Each
   * runs every `timerIntervalMs` when that is given (`npm start`), and whenever `runTimer` asks.
   */
  readonly timers?: readonly TimerFunction[];
  readonly timerIntervalMs?: number;
}

export interface LocalHost {
  readonly url: string;
  readonly port: number;
  /** The services the handlers use (tests seed and inspect the store through them). */
  readonly services: ServicesProvider;
  /** What reached the host: tests prove with it that documents never pass through the API. */
  readonly traffic: { requests: number; requestBodyBytes: number; largestRequestBody: number };
  /** Runs the timer function `name` once now, as its schedule would (tests: no waiting for the clock). */
  runTimer(name: string): Promise<void>;
  close(): Promise<void>;
}

/** Bodies above this are refused before any handler runs, as the real host does above 100 MB. */
const HOST_BODY_LIMIT = 4 * 1024 * 1024;

/**
 * stdout and stderr, each written once per turn of the event loop: a pipe is written
 * synchronously, and one write per request line was a system call per request (about 3% of a
 * device authorization's CPU under load). Lines keep their order within each stream; whatever is
 * pending is written when the host closes or the process exits.
 */
const pendingLines = { out: [] as string[], err: [] as string[] };
let flushScheduled = false;
function flushLog(): void {
  flushScheduled = false;
  if (pendingLines.out.length > 0) process.stdout.write(pendingLines.out.splice(0).join(''));
  if (pendingLines.err.length > 0) process.stderr.write(pendingLines.err.splice(0).join(''));
}
const defaultLog = (level: LogLevel, line: string) => {
  const pending = level === 'error' || level === 'warning' || level === 'critical' ? pendingLines.err : pendingLines.out;
  pending.push(`${new Date().toISOString()} ${level.padEnd(11)} ${line}\n`);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flushLog);
  }
};
process.once('exit', flushLog);

/** The body, read with stream events (an async iterator per request cost about 1% of the host's CPU). */
function readBody(request: IncomingMessage, traffic: LocalHost['traffic']): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      traffic.requestBodyBytes += chunk.length;
      traffic.largestRequestBody = Math.max(traffic.largestRequestBody, size);
      if (size > HOST_BODY_LIMIT) {
        request.off('data', onData).off('end', onEnd).off('error', reject);
        request.pause(); // the rest is never read: the answer closes the connection
        resolve('too-large');
      } else chunks.push(chunk);
    };
    const onEnd = () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    request.on('data', onData).once('end', onEnd).once('error', reject);
  });
}

/**
 * The request's headers as the Functions host hands them on, with the caller's socket address
 * appended to X-Forwarded-For (`ip:port`, IPv6 in brackets) as App Service's front end does
 * in Azure: clientIp then trusts one hop here as there (TRUSTED_PROXY_HOPS=1), and a local run
 * shows what a client's own X-Forwarded-For amounts to.
 */
function headerRecord(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const { remoteAddress, remotePort } = request.socket;
  if (remoteAddress) {
    const peer = `${isIPv6(remoteAddress) ? `[${remoteAddress}]` : remoteAddress}:${remotePort}`;
    headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${peer}` : peer;
  }
  return headers;
}

/**
 * Handler answers (PlainResponseInit) are written as they are, with the text/plain type
 * @azure/functions' HttpResponse would give an untyped string body. Going through that
 * web-stream Response instead cost the local host about a sixth of its CPU under load.
 */
function writeResponse(res: ServerResponse, init: PlainResponseInit, method: string): void {
  // A string body: node:http then sends it with the head in one write, where a Buffer needs a writev.
  const body = init.body;
  // One writeHead with the whole list: cheaper than a setHeader (validated, kept in a map) per header.
  const headers: string[] = [];
  let typed = false;
  let sized = false;
  for (const name in init.headers) {
    const lower = name.toLowerCase();
    typed ||= lower === 'content-type';
    sized ||= lower === 'content-length';
    headers.push(name, init.headers[name]!);
  }
  if (body !== undefined && !typed) headers.push('content-type', 'text/plain;charset=UTF-8');
  if (!sized && init.status !== 204 && init.status !== 304)
    headers.push('content-length', String(body === undefined ? 0 : Buffer.byteLength(body)));
  res.writeHead(init.status, headers);
  if (method === 'HEAD' || body === undefined) res.end();
  else res.end(body, 'utf8');
}

/**
 * The request's URL, its path taken as sent: a target like `//x/y` is a path (origin-form,
 * RFC 9112 §3.2.1), not an authority, and `//` alone must not make `new URL` throw. A Host
 * header that is not a valid authority does not break routing either.
 */
function requestUrl(target: string, host: string | undefined): URL {
  const path = target.startsWith('/') ? target : `/${target}`;
  try {
    return new URL(`http://${host ?? 'localhost'}${path}`);
  } catch {
    return new URL(`http://localhost${path}`);
  }
}

/** The host's own answers (before any handler runs) are problem+json, like the handlers'. */
function problemResponse(problem: HttpProblem): PlainResponseInit {
  return {
    status: problem.status,
    headers: {
      ...problem.headers,
      'Content-Type': 'application/problem+json',
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
    },
    body: JSON.stringify(problem.toJSON()),
  };
}

export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const log = options.log ?? defaultLog;
  const { telemetry } = options;
  const services = lazyServices(options.config, options.adapters, options.clock, telemetry);
  // Open the store and messaging now: a local run fails at start (a busy port, say), not on
  // some later request, and printers can connect to the local broker at once.
  await (await services()).messaging();
  const handlers = new Map(
    options.table.routes.map((route) => [route, createHttpHandler(route, { services, table: options.table, telemetry })]),
  );

  // The web app's policy lets the browser reach OneDrive's upload URLs: the local stand-in's origin
  // once it runs (asked for at the first page served, as OneDrive starts lazily), or Microsoft's.
  let webCsp: Promise<string> | undefined;
  const webAppPolicy = () =>
    (webCsp ??= (async () => {
      const { microsoft } = options.config;
      const local = !microsoft.disabledBecause && !microsoft.clientId;
      const graph = local ? (await (await services()).onedrive()).endpoints.graph : undefined;
      return webAppCsp(uploadOrigins(microsoft, graph));
    })().catch(() => {
      webCsp = undefined; // OneDrive did not start: no upload origin this time, ask again next page
      return webAppCsp();
    }));

  const traffic = { requests: 0, requestBodyBytes: 0, largestRequestBody: 0 };
  const server = createServer(async (req, res) => {
    const method = (req.method ?? 'GET').toUpperCase();
    traffic.requests += 1;
    try {
      const url = requestUrl(req.url ?? '/', req.headers.host);
      const body = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : await readBody(req, traffic);
      if (body === 'too-large') {
        const problem = new HttpProblem('payload-too-large', 'the body is larger than the host accepts');
        log('warning', `request method=${method} status=413 host-limit=${HOST_BODY_LIMIT}`);
        res.setHeader('connection', 'close');
        writeResponse(res, problemResponse(problem), method);
        return;
      }
      if (options.webRoot && isWebAppPath(url.pathname)) {
        await serveWebApp(options.webRoot, method, url.pathname, res, await webAppPolicy());
        return;
      }
      const match = options.table.find(method, url.pathname);
      if (!match) {
        // A method no function is registered for (TRACE, PROPFIND, ...): no handler runs, as in
        // Azure; answer as the catch-all does for the other methods, not with a 500.
        const allowed = options.table.allowedMethods(url.pathname);
        const problem =
          allowed.length > 0
            ? new HttpProblem('method-not-allowed', `${method} is not allowed here`, {}, { Allow: allowed.join(', ') })
            : new HttpProblem('not-found', 'there is nothing at this path');
        log('information', `request method=${method} status=${problem.status} unregistered-method`);
        writeResponse(res, problemResponse(problem), method);
        return;
      }
      const request = new LocalHttpRequest({ method, url: url.toString(), headers: headerRecord(req), params: match.params, body });
      const context = new azf.InvocationContext({
        functionName: match.route.name,
        invocationId: randomUUID(),
        logHandler: (level, ...args) => log(level, args.map(String).join(' ')),
      });
      const handler = handlers.get(match.route)!;
      writeResponse(res, await handler(request, context), method);
    } catch (error) {
      // Only a bug in this host lands here: handlers turn their own errors into problems.
      log('error', `local-host-error error=${(error as Error)?.name ?? typeof error}`);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('content-type', 'application/problem+json');
        res.end(JSON.stringify(new HttpProblem('internal-error', 'local host error').toJSON()));
      } else {
        res.destroy();
      }
    }
  });
  server.keepAliveTimeout = 5000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.hostname ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const timerRuns = new Map(
    (options.timers ?? []).map((timer) => {
      const handler = timerHandler(timer, services, telemetry);
      return [
        timer.name,
        () =>
          handler(
            new azf.InvocationContext({
              functionName: timer.name,
              invocationId: randomUUID(),
              logHandler: (level, ...args) => log(level, args.map(String).join(' ')),
            }),
          ),
      ] as const;
    }),
  );
  // A run still going when its next is due is not started twice, as the Functions host does not.
  const running = new Set<string>();
  const intervals = options.timerIntervalMs
    ? [...timerRuns].map(([name, run]) =>
        setInterval(() => {
          if (running.has(name)) return;
          running.add(name);
          run()
            .catch(() => undefined) // logged by the handler
            .finally(() => running.delete(name));
        }, options.timerIntervalMs).unref(),
      )
    : [];

  return {
    port,
    services,
    traffic,
    url: `http://${options.hostname === '0.0.0.0' ? 'localhost' : (options.hostname ?? '127.0.0.1')}:${port}`,
    runTimer: async (name) => {
      const run = timerRuns.get(name);
      if (!run) throw new Error(`no timer function ${name} on this host`);
      await run();
    },
    close: async () => {
      for (const interval of intervals) clearInterval(interval);
      flushLog();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await services.close();
    },
  };
}
