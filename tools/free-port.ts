import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/**
 * A port that is free right now on loopback. Used where the URL must be known before the
 * server starts: the local host's URL is also the OAuth issuer in its configuration.
 *
 * Picked below the system's ephemeral range (Linux: 32768-60999), where the kernel never puts
 * the local end of an outgoing connection: a port asked from the kernel (`listen(0)`) comes from
 * that range, and between closing it here and the server's own listen, any process's next
 * outgoing connection could take it (EADDRINUSE; the test suite makes thousands).
 */
export async function freePort(): Promise<number> {
  const [low] = await ephemeralRange();
  const bottom = 20_000;
  const top = Math.max(bottom + 1000, low - 1);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = bottom + Math.floor(Math.random() * (top - bottom));
    if (await isFree(port)) return port;
  }
  return kernelPort();
}

async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    if (server.listening) await new Promise((resolve) => server.close(resolve));
  }
}

async function kernelPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The ephemeral range where the system says (Linux), else IANA's (49152-65535). */
async function ephemeralRange(): Promise<[number, number]> {
  const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '');
  const [low, high] = text.trim().split(/\s+/).map(Number);
  return low && high ? [low, high] : [49_152, 65_535];
}
