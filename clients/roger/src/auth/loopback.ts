import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The loopback redirect of a native app (RFC 8252 §7.3, docs/clients.md#signing-in): a one-shot
 * HTTP listener on 127.0.0.1 and an ephemeral port, where the browser lands after the sign-in
 * page. It listens on the IPv4 loopback address only (never on a network interface, and not on
 * `localhost`, which a resolver might send elsewhere), takes one callback carrying the state it
 * was opened for, answers the browser with a short page once the code has been exchanged, and
 * closes. A callback with another state — an old tab, or a page trying to push its own code into
 * this sign-in (login CSRF) — is refused and the wait goes on.
 */
export interface LoopbackOptions {
  /** The `state` sent in this authorization request. */
  readonly state: string;
  /** How long to wait for the browser before giving up. */
  readonly timeoutMs: number;
  /** Told about each refused callback (one line for the terminal). */
  readonly onRefused?: (why: string) => void;
}

export interface Loopback<T> {
  /** `http://127.0.0.1:<port>/callback`, the redirect_uri of the request. */
  readonly redirectUri: string;
  /** What `exchange` returned for the callback, or why there was none. */
  readonly done: Promise<T>;
  /** Stops listening (the person gave up, or something else failed). */
  close(): void;
}

const CALLBACK_PATH = '/callback';

/** Opens the listener; `exchange` turns the callback URL into tokens (openid-client's authorizationCodeGrant). */
export async function openLoopback<T>(options: LoopbackOptions, exchange: (callback: URL) => Promise<T>): Promise<Loopback<T>> {
  let settle!: { resolve: (value: T) => void; reject: (error: Error) => void };
  const done = new Promise<T>((resolve, reject) => (settle = { resolve, reject }));
  // Whoever closes early no longer waits for `done`: its rejection is expected, not unhandled.
  done.catch(() => undefined);
  let handled = false;

  const server = createServer((request, response) => {
    void answer(request, response).catch((error: Error) => {
      if (!response.headersSent) page(response, 500, 'Sign-in failed', 'Something went wrong. Go back to the terminal.');
      finish(() => settle.reject(error));
    });
  });
  // Keep-alive connections would hold the port open after the one callback.
  server.keepAliveTimeout = 1;

  async function answer(request: IncomingMessage, response: ServerResponse) {
    const port = (server.address() as AddressInfo).port;
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
    if (request.method !== 'GET' || url.pathname !== CALLBACK_PATH) {
      return page(response, 404, 'Not found', 'roger is only waiting for the sign-in to finish here.');
    }
    // A page on another site that rebinds its name to 127.0.0.1 still sends its own Host.
    if (request.headers.host !== `127.0.0.1:${port}`) {
      options.onRefused?.('refused a callback sent to another host name');
      return page(response, 400, 'Not for this sign-in', 'This address only answers to 127.0.0.1.');
    }
    if (handled || !sameState(url.searchParams.get('state'), options.state)) {
      options.onRefused?.('refused a browser callback that belongs to no sign-in started here (unknown state)');
      return page(
        response,
        400,
        'Not this sign-in',
        'This page belongs to another or an older sign-in, so roger ignored it. Go back to the terminal to see where it is.',
      );
    }
    handled = true;
    try {
      const result = await exchange(new URL(`http://127.0.0.1:${port}${CALLBACK_PATH}${url.search}`));
      page(response, 200, 'Signed in to Roger', 'You can close this tab and go back to the terminal.');
      finish(() => settle.resolve(result));
    } catch (error) {
      page(response, 400, 'Sign-in did not finish', 'Go back to the terminal to see why.');
      finish(() => settle.reject(error as Error));
    }
  }

  const timer = setTimeout(() => {
    const seconds = Math.round(options.timeoutMs / 1000);
    const wait = seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
    finish(() =>
      settle.reject(new Error(`no sign-in from the browser within ${wait}: run \`roger login\` again, or \`roger login --device\``)),
    );
  }, options.timeoutMs);

  let closed = false;
  function finish(outcome: () => void) {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    server.close();
    server.closeIdleConnections();
    outcome();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${port}${CALLBACK_PATH}`,
    done,
    close: () => finish(() => settle.reject(new Error('sign-in stopped'))),
  };
}

function sameState(received: string | null, expected: string): boolean {
  if (received === null) return false;
  const a = Buffer.from(received);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A short page for the browser: no script, nothing loaded from elsewhere, not cached, and the code in the URL never sent on as a Referer. */
function page(response: ServerResponse, status: number, title: string, text: string) {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title} · roger</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}</style></head>
<body><h1>${title}</h1><p>${text}</p></body></html>
`;
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    connection: 'close',
  });
  response.end(html);
}
