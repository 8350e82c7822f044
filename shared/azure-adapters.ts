import { ConfigError, type Config } from './config/load-config.js';
import type { Adapters } from './services.js';
import { configuredAccounts, openStore } from './store/store.js';

/**
 * The Functions entry's adapters: the Cosmos accounts, Service Bus namespace and app registration
 * that configuration names, reached with the app's managed identity or keys. The Service Bus and
 * Graph SDKs load on first use, so functions that never release a job or touch OneDrive start
 * without them (tests/smoke/lazy-loading.test.ts).
 */
export const azureAdapters: Adapters = {
  store: async (config, telemetry) => openStore(configuredAccounts(config), telemetry),
  messaging: async (config) => (await import('./messaging/azure-messaging.js')).openAzureMessaging(config),
  onedrive: async (config, now) => (await import('./onedrive/onedrive.js')).openOneDrive(config, now),
  microsoft: async (config, now) => (await import('./microsoft/msal.js')).openMicrosoftSignIn(config, now),
};

/** The settings without which the Azure adapters have nothing to connect to. */
const AZURE_ENDPOINTS = [
  ['COSMOS_ENDPOINT', (config: Config) => config.cosmos.endpoint],
  ['SERVICEBUS_NAMESPACE', (config: Config) => config.serviceBus.namespace],
  ['ENTRA_CLIENT_ID', (config: Config) => config.microsoft.clientId],
] as const;

/**
 * The Functions entry runs against Azure only; the local stand-ins belong to `npm start`, which
 * falls back to them for blank settings. Refusing here, when the worker loads the app, says so
 * in one line per setting, instead of every request failing on a store that is not there.
 */
export function requireAzureEndpoints(config: Config): void {
  const problems = AZURE_ENDPOINTS.filter(([, value]) => !value(config)).map(
    ([name]) => `${name}: is not set; the Functions host reaches Azure only (set it, or run \`npm start\` for local stand-ins)`,
  );
  if (problems.length > 0) throw new ConfigError(problems);
}
