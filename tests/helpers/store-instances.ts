import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../shared/config/load-config.js';
import { containerSpecs } from '../../shared/store/containers.js';
import { openStore, type Store } from '../../shared/store/store.js';
import { startLocalCosmosServer, type LocalCosmosServer } from '../../tools/local/cosmos-server.js';

/**
 * Function App instances on one Cosmos DB account, for a test file: each call opens another store
 * (its own SDK client and per-instance state, as a second instance has) on one local Cosmos
 * server with the app's regional containers. The server starts in `beforeAll`; the stores and the
 * server close in `afterAll`.
 */
export function instancesOnOneStore(): () => Promise<Store> {
  const config = loadConfig({ ROGER_OPERATOR_KEY: 'store-instances-test-operator-key-0123456789' });
  let server: LocalCosmosServer;
  const stores: Store[] = [];
  beforeAll(async () => {
    server = await startLocalCosmosServer([
      { database: config.cosmos.database, containers: Object.values(containerSpecs).filter((s) => s.account === 'regional') },
    ]);
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    await server?.close();
  });
  return async () => {
    const account = { endpoint: server.endpoint, key: server.key };
    const store = await openStore({
      regional: { ...config.cosmos, ...account },
      directory: { ...config.directory, ...account },
      managedIdentityClientId: undefined,
      endpointDiscovery: false,
    });
    stores.push(store);
    return store;
  };
}
