import { containerSpecs, type ContainerSpec } from '../../shared/store/containers.js';
import { startLocalCosmosServer, type LocalCosmosServer } from '../../tools/local/cosmos-server.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { startCosmosFaultProxy, type CosmosFaultProxy } from './cosmos-fault-proxy.js';

/**
 * The app over a store that misbehaves on demand: a local Cosmos server of our own, the fault
 * proxy in front of it, and the local host configured with the proxy as its Cosmos account
 * (`COSMOS_ENDPOINT`, `COSMOS_KEY`), as a deployment names a real account. The app's SDK does
 * endpoint discovery against the proxy like against Azure.
 */
export interface FaultyStoreHost {
  readonly host: TestHost;
  readonly proxy: CosmosFaultProxy;
  readonly cosmos: LocalCosmosServer;
  close(): Promise<void>;
}

const specs = (account: ContainerSpec['account']) => Object.values(containerSpecs).filter((spec) => spec.account === account);

export async function startFaultyStoreHost(env: Record<string, string> = {}): Promise<FaultyStoreHost> {
  // The app's default database names (COSMOS_DATABASE, DIRECTORY_COSMOS_DATABASE unset).
  const cosmos = await startLocalCosmosServer([
    { database: 'roger', containers: specs('regional') },
    { database: 'roger-directory', containers: specs('directory') },
  ]);
  const proxy = await startCosmosFaultProxy(cosmos.endpoint);
  try {
    const host = await startTestHost({ env: { ...env, COSMOS_ENDPOINT: proxy.url, COSMOS_KEY: cosmos.key } });
    return {
      host,
      proxy,
      cosmos,
      async close() {
        proxy.clear();
        await host.close();
        await proxy.close();
        await cosmos.close();
      },
    };
  } catch (error) {
    await proxy.close();
    await cosmos.close();
    throw error;
  }
}
