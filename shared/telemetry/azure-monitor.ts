import functions from '@azure/functions';
import { AzureFunctionsInstrumentationESM } from '@azure/functions-opentelemetry-instrumentation';
import { ManagedIdentityCredential } from '@azure/identity';
import { useAzureMonitor } from '@azure/monitor-opentelemetry';
import type { Config } from '../config/load-config.js';
import { openTelemetry } from './open-telemetry.js';
import type { Telemetry } from './telemetry.js';

/**
 * Application Insights through the Azure Monitor OpenTelemetry distro, in the Functions host,
 * started after start-up by azure-functions.ts (this module is the large chunk it loads late).
 *
 * - Entra ID, not keys: the Application Insights resource refuses local authentication, so the
 *   exporter signs in as the app's user-assigned managed identity, as
 *   `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` says (`Authorization=AAD;ClientId=…`, else
 *   `AZURE_CLIENT_ID`).
 * - The distro's require-hook instrumentations are off: the app is one esbuild bundle, so they
 *   would see little, and what they saw (raw HTTP URLs) could carry ids. Cosmos DB, Service Bus
 *   and Graph are traced at our own adapters instead (store/dependency-spans.ts, services.ts).
 * - The Functions instrumentation gets `@azure/functions` handed to it (its ESM entry point) for
 *   the same reason: its pre-invocation hook puts each invocation in the trace of the host's
 *   request, so dependencies and log records sit under that request in Application Insights,
 *   and its log hook forwards `context.log` lines as records. Its set-up step (the capability
 *   that tells the host the worker sends its own logs) ran while the entry loaded, when the host
 *   still accepts it (azure-functions.ts); here, long after, `setup` is that step already done.
 *   Built after `useAzureMonitor`, so its logger is the distro's; `enabled: false` because it is
 *   handed the module rather than hooking `require`.
 * - The instruments are created here, after `useAzureMonitor`: OpenTelemetry's metrics API has
 *   no proxy, so a meter taken before the provider is registered would stay a no-op.
 */
export function startAzureMonitor(config: Config, env: NodeJS.ProcessEnv): Telemetry {
  const credential = managedIdentityOf(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING, config.managedIdentityClientId);
  useAzureMonitor({
    azureMonitorExporterOptions: {
      connectionString: env.APPLICATIONINSIGHTS_CONNECTION_STRING,
      ...(credential ? { credential } : {}),
    },
    instrumentationOptions: {
      http: { enabled: false },
      azureSdk: { enabled: false },
      mongoDb: { enabled: false },
      mySql: { enabled: false },
      postgreSql: { enabled: false },
      redis: { enabled: false },
      redis4: { enabled: false },
      bunyan: { enabled: false },
      winston: { enabled: false },
      console: { enabled: false },
    },
  });
  new AzureFunctionsInstrumentationESM({ enabled: false }).registerAzFunc({
    ...functions,
    app: { ...functions.app, setup: () => undefined },
  });
  // The worker told the host it sends its own logs: the logger writes each event once, as a
  // record with attributes, not a second time as a host log line.
  return openTelemetry({ replacesHostLog: true });
}

/** `Authorization=AAD[;ClientId=<id>]` → the managed identity; anything else → none (the connection string's key). */
export function managedIdentityOf(
  authentication: string | undefined,
  fallbackClientId: string | undefined,
): ManagedIdentityCredential | undefined {
  if (!authentication) return undefined;
  const parts = new Map(
    authentication.split(';').map((pair) => {
      const [key = '', value = ''] = pair.split('=', 2);
      return [key.trim().toLowerCase(), value.trim()] as const;
    }),
  );
  if (parts.get('authorization')?.toUpperCase() !== 'AAD') return undefined;
  const clientId = parts.get('clientid') || fallbackClientId;
  return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
}
