import type { LogLevel } from '@azure/functions';
import { routeTable } from '../../functions/routes.js';
import { timers } from '../../functions/timers.js';
import { loadConfig } from '../../shared/config/load-config.js';
import type { RouteTable } from '../../shared/http/route-table.js';
import type { Telemetry } from '../../shared/telemetry/telemetry.js';
import { freePort } from '../../tools/free-port.js';
import { localAdapters } from '../../tools/local/adapters.js';
import { startLocalHost, type LocalHost } from '../../tools/local-host.js';

export { freePort };

export interface TestHost extends LocalHost {
  /** Every log line written while the host ran, `level line`. */
  readonly logs: string[];
  /** Moves the server's clock forward (tokens, codes and locks expire without waiting). */
  advanceClock(seconds: number): void;
}

/**
 * The local host on a free port, over its own in-process Cosmos server, broker and Entra/Graph
 * stand-in (unless the env names an endpoint): the same adapters as `npm start`, reached over a
 * real socket with fetch. The URL is `http://localhost:<port>`, which is also the OAuth issuer,
 * so stock clients can discover it.
 */
export async function startTestHost(
  options: { env?: Record<string, string>; table?: RouteTable; telemetry?: Telemetry; webRoot?: string } = {},
): Promise<TestHost> {
  const logs: string[] = [];
  const port = await freePort();
  // A host with a web root serves the web app, as `npm start` does (WEB_APP_SERVED).
  const served = options.webRoot ? { WEB_APP_SERVED: 'on' } : {};
  const config = loadConfig({ PORT: String(port), SERVICEBUS_LOCAL_PORT: '0', MICROSOFT_LOCAL_PORT: '0', ...served, ...options.env });
  let offsetMs = 0;
  const host = await startLocalHost({
    config,
    table: options.table ?? routeTable,
    // Timers run only when a test asks (host.runTimer), never on their own in the middle of another test.
    timers,
    adapters: localAdapters,
    port,
    clock: () => new Date(Date.now() + offsetMs),
    log: (level: LogLevel, line: string) => logs.push(`${level} ${line}`),
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    ...(options.webRoot ? { webRoot: options.webRoot } : {}),
  });
  return Object.assign(host, {
    url: `http://localhost:${port}`,
    logs,
    advanceClock: (seconds: number) => {
      offsetMs += seconds * 1000;
    },
  });
}
