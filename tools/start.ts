// `npm start`: the whole API on this machine, no Azure account needed. Settings come from the
// environment (docs/operations.md#settings); unset Azure settings fall back to local stand-ins.
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../shared/config/load-config.js';
import { routeTable } from '../functions/routes.js';
import { timers } from '../functions/timers.js';
import { startTelemetry } from '../shared/telemetry/start.js';
import { localAdapters } from './local/adapters.js';
import { describeLocalEntra } from './local/entra-seed.js';
import { startLocalHost } from './local-host.js';

async function main(): Promise<void> {
  let config;
  try {
    // This host serves web/dist under /app/, so QR codes may open its approve screen.
    config = loadConfig({ WEB_APP_SERVED: 'on', ...process.env });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`Roger Cloud did not start: ${error.message}\n`);
    process.exit(1);
  }

  const telemetry = await startTelemetry(config); // TELEMETRY_CONSOLE=on prints it
  const host = await startLocalHost({
    config,
    table: routeTable,
    // As in Azure, every 5 minutes (functions/timers.ts schedules; this host has no cron of its own).
    timers,
    timerIntervalMs: 5 * 60_000,
    adapters: localAdapters,
    port: config.port,
    hostname: 'localhost',
    // The web app as `npm run build` left it (dist/tools/start.js is two levels below the root).
    webRoot: fileURLToPath(new URL('../../web/dist', import.meta.url)),
    telemetry,
  });
  const services = await host.services();
  const messaging = await services.messaging();
  const off = config.microsoft.disabledBecause;
  const onedrive = off ? undefined : await services.onedrive();
  process.stdout.write(
    `Roger Cloud (${config.region.id}) listening on ${host.url}\n` +
      `  Cosmos DB:   ${config.cosmos.endpoint ?? 'in-process local server (memory only)'}\n` +
      `  Service Bus: ${config.serviceBus.namespace ?? `in-process local broker at ${messaging.amqpUrl}, WebSockets at ${messaging.amqpWebSocketUrl}`}\n` +
      `  OneDrive:    ${!onedrive ? `off (${off})` : config.microsoft.clientId ? `Entra ID ${onedrive.endpoints.authority}, Graph ${onedrive.endpoints.graph}` : `in-process Entra ID and Graph stand-in at ${onedrive.endpoints.graph}`}\n` +
      `  Sign-in:     ${host.url}/oauth/authorize (passwords${onedrive ? `, and Sign in with Microsoft at ${onedrive.endpoints.authority}` : ''})\n` +
      (onedrive && !config.microsoft.clientId
        ? describeLocalEntra()
            .map((line) => `  Entra:       ${line}\n`)
            .join('')
        : '') +
      `Try: curl ${host.url}/regions\n`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`${signal}: shutting down\n`);
    host.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Roger Cloud did not start: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});
