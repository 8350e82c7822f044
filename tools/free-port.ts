import { once } from 'node:events';
import { createServer } from 'node:net';

/**
 * A port that is free right now on loopback. Used where the URL must be known before the
 * server starts: the local host's URL is also the OAuth issuer in its configuration.
 */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
