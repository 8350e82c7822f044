import { azureAdapters } from '../../shared/azure-adapters.js';
import type { Adapters } from '../../shared/services.js';

/**
 * What `npm start`, the demo, the bench and the tests pass to `lazyServices`: for each service
 * whose endpoint setting is blank, a stand-in started in this process; for one that is set, the
 * Azure adapter, so a local host can still talk to a real account (or to a test's own stand-in
 * or fault proxy). Stand-ins load on first use, as the SDKs do in Azure.
 */
export const localAdapters: Adapters = {
  store: async (config, telemetry) =>
    config.cosmos.endpoint
      ? azureAdapters.store(config, telemetry)
      : (await import('./cosmos-server.js')).openLocalStore(config, telemetry),
  messaging: async (config) =>
    config.serviceBus.namespace ? azureAdapters.messaging(config) : (await import('./messaging.js')).openLocalMessaging(config),
  onedrive: async (config, now) =>
    config.microsoft.clientId ? azureAdapters.onedrive(config, now) : (await import('./microsoft.js')).openLocalOneDrive(config, now),
  microsoft: async (config, now) =>
    config.microsoft.clientId
      ? azureAdapters.microsoft(config, now)
      : (await import('./microsoft.js')).openLocalMicrosoftSignIn(config, now),
};
