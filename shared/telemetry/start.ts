import type { Config } from '../config/load-config.js';
import { noTelemetry, type Telemetry } from './telemetry.js';

/**
 * Where telemetry goes, chosen once when a host starts:
 *  - Azure Monitor when the Functions host has `APPLICATIONINSIGHTS_CONNECTION_STRING` (the Bicep
 *    sets it with `APPLICATIONINSIGHTS_AUTHENTICATION_STRING`: Entra ID, no key) — a host setting,
 *    read here and by the distro, not by loadConfig;
 *  - the console when a local run sets `TELEMETRY_CONSOLE=on`;
 *  - nowhere otherwise.
 * OpenTelemetry is imported only in the first two cases, so a host without telemetry starts
 * without it; in Azure only the small Functions instrumentation loads with the app, the distro
 * after start-up (docs/benchmarks.md, tests/smoke/lazy-loading.test.ts).
 */
export async function startTelemetry(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<Telemetry> {
  if (env.APPLICATIONINSIGHTS_CONNECTION_STRING) {
    try {
      // Returns at once: the distro itself starts after start-up (azure-functions.ts).
      return (await import('./azure-functions.js')).startAzureFunctionsTelemetry(config, env).telemetry;
    } catch (error) {
      // Telemetry that cannot start must not take the API down with it.
      console.error(`telemetry-start-failed error=${(error as Error)?.name ?? 'Error'}`);
      return noTelemetry;
    }
  }
  if (config.telemetry.console) return (await import('./console.js')).startConsoleTelemetry();
  return noTelemetry;
}
