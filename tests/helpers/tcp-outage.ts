import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback that can make a server "go away" the way a restart or a network fault
 * does, without stopping the real server behind it: `down()` resets every open connection and
 * stops listening (new connections are refused), `up()` listens again on the same port. Put it
 * in front of the test host and name its URL as the region's API URL (ROGER_REGIONS), so the
 * OAuth issuer is the proxy and every client goes through it.
 */
export interface TcpOutageProxy {
  /** `http://localhost:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Where connections go; set once the server behind is listening. */
  forwardTo(port: number, host?: string): void;
  /** Resets every open connection and refuses new ones until up(). */
  down(): Promise<void>;
  up(): Promise<void>;
  /** down(), then up() after `ms`: resolves when it accepts again. */
  outage(ms: number): Promise<void>;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startTcpOutageProxy(): Promise<TcpOutageProxy> {
  let target: { port: number; host: string } | undefined;
  let accepted = 0;
  let listening = false;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    accepted += 1;
    if (!target) return void client.resetAndDestroy();
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      // One side failing ends both, as a real connection through a dead hop would.
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });

  const listen = async (port: number) => {
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
    listening = true;
  };
  await listen(0);
  const { port } = server.address() as { port: number };

  const down = async () => {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // RST, not FIN: the client sees ECONNRESET, as when the process behind dies.
    for (const socket of open) socket.resetAndDestroy();
    await closed;
  };
  const up = async () => {
    if (!listening) await listen(port);
  };

  return {
    url: `http://localhost:${port}`,
    port,
    forwardTo(targetPort, host = '127.0.0.1') {
      target = { port: targetPort, host };
    },
    down,
    up,
    async outage(ms) {
      await down();
      await new Promise((resolve) => setTimeout(resolve, ms));
      await up();
    },
    get accepted() {
      return accepted;
    },
    async close() {
      await down();
    },
  };
}
