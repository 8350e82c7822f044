import type { LogLevel } from '@azure/functions';
import { routeTable } from '../../functions/routes.js';
import { loadConfig } from '../../shared/config/load-config.js';
import type { RouteTable } from '../../shared/http/route-table.js';
import { startLocalHost, type LocalHost } from '../../tools/local-host.js';

export interface TestHost extends LocalHost {
  /** Every log line written while the host ran, `level line`. */
  readonly logs: string[];
}

/**
 * The local host on a free port, over its own in-process Cosmos server (unless the env says
 * otherwise): the same wiring as `npm start`, reached over a real socket with fetch.
 */
export async function startTestHost(
  options: { env?: Record<string, string>; table?: RouteTable } = {},
): Promise<TestHost> {
  const logs: string[] = [];
  const config = loadConfig({ ...options.env });
  const host = await startLocalHost({
    config,
    table: options.table ?? routeTable,
    port: 0,
    log: (level: LogLevel, line: string) => logs.push(`${level} ${line}`),
  });
  return Object.assign(host, { logs });
}
