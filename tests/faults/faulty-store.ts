import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Services } from '../../shared/services.js';
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

/**
 * The file's faulty-store host, started before its tests and closed after them, each test's
 * faults cleared after it. `started` is given the host and its services once they exist:
 * `faultyStoreHostForFile(env, (started) => ({ faulty, services } = started))`.
 */
export function faultyStoreHostForFile(
  env: Record<string, string>,
  started: (world: { faulty: FaultyStoreHost; services: Services }) => void,
): void {
  let faulty: FaultyStoreHost | undefined;
  beforeAll(async () => {
    faulty = await startFaultyStoreHost(env);
    started({ faulty, services: await faulty.host.services() });
  });
  afterEach(() => faulty?.proxy.clear());
  afterAll(() => faulty?.close());
}
