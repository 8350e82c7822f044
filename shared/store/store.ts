import { createDefaultHttpClient } from '@azure/core-rest-pipeline';
import { CosmosClient, type Container, type Database } from '@azure/cosmos';
import type { Config, CosmosAccountConfig } from '../config/load-config.js';
import { containerSpecs, type ContainerName, type ContainerSpec } from './containers.js';
import { createCountingHttpClient } from './counting-http-client.js';
import { COSMOS_REQUEST_TIMEOUT_MS, withStoreFailures } from './store-http-client.js';

/** Handles on the app's Cosmos containers: one client per account, for the life of the process. */
export interface Store {
  container(name: ContainerName): Container;
  /** One cheap request (a database read) to prove the regional account answers. */
  ping(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

async function credentialsFor(account: CosmosAccountConfig, managedIdentityClientId: string | undefined) {
  if (account.key) return { key: account.key };
  // Loaded only when used: @azure/identity is large and a local run never needs it.
  const { DefaultAzureCredential } = await import('@azure/identity');
  return { aadCredentials: new DefaultAzureCredential({ managedIdentityClientId }) };
}

function specsFor(account: ContainerSpec['account']): ContainerSpec[] {
  return Object.values(containerSpecs).filter((spec) => spec.account === account);
}

export async function openStore(config: Config): Promise<Store> {
  let regional = config.cosmos;
  let directory = config.directory;
  let endpointDiscovery = true;
  let closeLocalServer: (() => Promise<void>) | undefined;

  if (!regional.endpoint) {
    const { startLocalCosmosServer } = await import('./local-cosmos-server.js');
    const local = await startLocalCosmosServer([
      { database: regional.database, containers: specsFor('regional') },
      { database: directory.database, containers: specsFor('directory') },
    ]);
    regional = { ...regional, endpoint: local.endpoint, key: local.key };
    if (!directory.endpoint) directory = { ...directory, endpoint: local.endpoint, key: local.key };
    // The local server speaks plain HTTP; endpoint discovery would switch the SDK to https.
    endpointDiscovery = false;
    closeLocalServer = local.close;
  }

  // Counted at the wire. A request that hangs fails after the timeout, one that cannot connect
  // fails at once: both as StoreUnavailableError, which the API answers 503 + Retry-After.
  const httpClient = createCountingHttpClient(withStoreFailures(createDefaultHttpClient(), COSMOS_REQUEST_TIMEOUT_MS));
  const clients = new Map<string, CosmosClient>();
  async function clientFor(account: CosmosAccountConfig): Promise<CosmosClient> {
    const endpoint = account.endpoint!;
    let client = clients.get(endpoint);
    if (!client) {
      client = new CosmosClient({
        endpoint,
        ...(await credentialsFor(account, config.managedIdentityClientId)),
        httpClient,
        connectionPolicy: { enableEndpointDiscovery: endpointDiscovery, preferredLocations: [] },
      });
      clients.set(endpoint, client);
    }
    return client;
  }

  const databases: Record<ContainerSpec['account'], Database> = {
    regional: (await clientFor(regional)).database(regional.database),
    directory: (await clientFor(directory)).database(directory.database),
  };
  const containers = new Map<ContainerName, Container>();

  return {
    container(name) {
      let container = containers.get(name);
      if (!container) {
        const spec = containerSpecs[name];
        container = databases[spec.account].container(spec.id);
        containers.set(name, container);
      }
      return container;
    },
    async ping(signal) {
      await databases.regional.read(signal ? { abortSignal: signal } : undefined);
    },
    async close() {
      for (const client of clients.values()) client.dispose();
      await closeLocalServer?.();
    },
  };
}
