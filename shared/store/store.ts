import { createDefaultHttpClient } from '@azure/core-rest-pipeline';
import { CosmosClient, type ConnectionPolicy, type Container, type Database } from '@azure/cosmos';
import type { Config, CosmosAccountConfig } from '../config/load-config.js';
import { containerSpecs, type ContainerName, type ContainerSpec } from './containers.js';
import { noTelemetry, type Telemetry } from '../telemetry/telemetry.js';
import { createCountingHttpClient } from './counting-http-client.js';
import { createTracedHttpClient } from './dependency-spans.js';
import { COSMOS_REQUEST_TIMEOUT_MS, withStoreFailures } from './store-http-client.js';

/** Handles on the app's Cosmos containers: one client per account, for the life of the process. */
export interface Store {
  container(name: ContainerName): Container;
  /** One cheap request (a database read) to prove the regional account answers. */
  ping(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** One Cosmos account, as the store reaches it. */
export interface CosmosAccount extends CosmosAccountConfig {
  readonly endpoint: string;
}

/**
 * Where the app's two accounts are: what configuration names (`configuredAccounts`), or a
 * Cosmos-compatible server a local host started (tools/local/). The store does not know which.
 */
export interface StoreAccounts {
  readonly regional: CosmosAccount;
  /** May be the regional account itself. */
  readonly directory: CosmosAccount;
  /** For accounts without a key: the user-assigned managed identity (unset: DefaultAzureCredential's choice). */
  readonly managedIdentityClientId?: string;
  /**
   * Off for a server that speaks plain HTTP only: discovery would switch the SDK to the https
   * endpoints the server advertises.
   */
  readonly endpointDiscovery: boolean;
}

async function credentialsFor(account: CosmosAccount, managedIdentityClientId: string | undefined) {
  if (account.key) return { key: account.key };
  // Loaded only when used: @azure/identity is large and a keyed account never needs it.
  const { DefaultAzureCredential } = await import('@azure/identity');
  return { aadCredentials: new DefaultAzureCredential({ managedIdentityClientId }) };
}

/**
 * The SDK's own limits, explicit: a request is given up by the store's HTTP client after
 * COSMOS_REQUEST_TIMEOUT_MS (5 s; the SDK's timeout above it is never reached, see
 * store-http-client.ts), and throttling (429) is retried at most 9 times within 30 s, the
 * service's Retry-After respected. So one Cosmos call ends well inside the function's time limit
 * (host.json `functionTimeout`) and the API answers 503 instead of the host cutting it off.
 */
export function cosmosConnectionPolicy(endpointDiscovery: boolean): Partial<ConnectionPolicy> {
  return {
    enableEndpointDiscovery: endpointDiscovery,
    preferredLocations: [],
    requestTimeout: 2 * COSMOS_REQUEST_TIMEOUT_MS,
    retryOptions: { maxRetryAttemptCount: 9, maxWaitTimeInSeconds: 30 },
  };
}

/** The accounts COSMOS_ENDPOINT and DIRECTORY_COSMOS_ENDPOINT name. */
export function configuredAccounts(config: Config): StoreAccounts {
  const regional = config.cosmos;
  const directory = config.directory;
  if (!regional.endpoint || !directory.endpoint) throw new Error('COSMOS_ENDPOINT is not set: there is no Cosmos DB account to open');
  return {
    regional: { ...regional, endpoint: regional.endpoint },
    directory: { ...directory, endpoint: directory.endpoint },
    managedIdentityClientId: config.managedIdentityClientId,
    endpointDiscovery: true,
  };
}

export async function openStore(
  { regional, directory, managedIdentityClientId, endpointDiscovery }: StoreAccounts,
  telemetry: Telemetry = noTelemetry,
): Promise<Store> {
  // Counted and traced at the wire. A request that hangs fails after the timeout, one that cannot
  // connect fails at once: both as StoreUnavailableError, which the API answers 503 + Retry-After.
  const httpClient = createCountingHttpClient(
    createTracedHttpClient(withStoreFailures(createDefaultHttpClient(), COSMOS_REQUEST_TIMEOUT_MS), telemetry),
  );
  const clients = new Map<string, CosmosClient>();
  async function clientFor(account: CosmosAccount): Promise<CosmosClient> {
    const { endpoint } = account;
    let client = clients.get(endpoint);
    if (!client) {
      client = new CosmosClient({
        endpoint,
        ...(await credentialsFor(account, managedIdentityClientId)),
        httpClient,
        connectionPolicy: cosmosConnectionPolicy(endpointDiscovery),
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
    },
  };
}
