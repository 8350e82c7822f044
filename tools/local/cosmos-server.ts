import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CosmosClient, type IndexingPolicy } from '@azure/cosmos';
import type { Config } from '../../shared/config/load-config.js';
import { containerSpecs, type ContainerSpec } from '../../shared/store/containers.js';
import { openStore, type Store } from '../../shared/store/store.js';
import type { Telemetry } from '../../shared/telemetry/telemetry.js';

/**
 * Local runs only (COSMOS_ENDPOINT unset): a Cosmos DB–compatible server in this process, with
 * the databases and containers the app expects. In Azure the containers come from Bicep.
 *
 * `@vercel/cosmosdb-server` is a dev dependency and is loaded only here. Its limits (no TTL,
 * partitionKey option ignored, no OFFSET LIMIT, ...) are listed in docs/testing.md#stand-ins; the app is
 * written not to depend on any of them.
 */
export interface LocalCosmosServer {
  readonly endpoint: string;
  readonly key: string;
  close(): Promise<void>;
}

/** Any key is accepted by the local server; this one only has to be a valid base64 string. */
const LOCAL_KEY = Buffer.from('roger-local-cosmos-key').toString('base64');

export async function startLocalCosmosServer(
  provision: readonly { database: string; containers: readonly ContainerSpec[] }[],
): Promise<LocalCosmosServer> {
  let mod: { createHttpServer?: (o: object) => Server; default?: { createHttpServer: (o: object) => Server } };
  try {
    mod = await import('@vercel/cosmosdb-server');
  } catch {
    throw new Error('COSMOS_ENDPOINT is not set and the local Cosmos server (a dev dependency) is not installed: set COSMOS_ENDPOINT');
  }
  const createHttpServer = mod.createHttpServer ?? mod.default!.createHttpServer;
  const server = createHttpServer({ keepAlive: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;

  const client = new CosmosClient({
    endpoint,
    key: LOCAL_KEY,
    connectionPolicy: { enableEndpointDiscovery: false },
  });
  for (const { database, containers } of provision) {
    const { database: db } = await client.databases.createIfNotExists({ id: database });
    for (const spec of containers) {
      await db.containers.createIfNotExists({
        id: spec.id,
        partitionKey: { paths: [spec.partitionKeyPath] },
        ...(spec.defaultTtl !== undefined ? { defaultTtl: spec.defaultTtl } : {}),
        // As Bicep creates them. The server reads only the composite indexes, and refuses an
        // ORDER BY on two paths that none of them serves, as Cosmos DB does.
        ...(spec.indexingPolicy ? { indexingPolicy: spec.indexingPolicy as IndexingPolicy } : {}),
      });
    }
  }
  client.dispose();

  return {
    endpoint,
    key: LOCAL_KEY,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

const specsFor = (account: ContainerSpec['account']) => Object.values(containerSpecs).filter((spec) => spec.account === account);

/**
 * The app's store on a local server started for it, closed with it. A directory account that
 * configuration names separately (DIRECTORY_COSMOS_ENDPOINT) is still used.
 */
export async function openLocalStore(config: Config, telemetry?: Telemetry): Promise<Store> {
  const server = await startLocalCosmosServer([
    { database: config.cosmos.database, containers: specsFor('regional') },
    { database: config.directory.database, containers: specsFor('directory') },
  ]);
  const local = { endpoint: server.endpoint, key: server.key };
  try {
    const store = await openStore(
      {
        regional: { ...config.cosmos, ...local },
        directory: config.directory.endpoint
          ? { ...config.directory, endpoint: config.directory.endpoint }
          : { ...config.directory, ...local },
        managedIdentityClientId: config.managedIdentityClientId,
        // The local server speaks plain HTTP; endpoint discovery would switch the SDK to https.
        endpointDiscovery: false,
      },
      telemetry,
    );
    return {
      ...store,
      async close() {
        await store.close();
        await server.close();
      },
    };
  } catch (error) {
    await server.close();
    throw error;
  }
}
