import { CosmosClient, type Container } from '@azure/cosmos';
import { startLocalCosmosServer } from '../local/cosmos-server.js';

/**
 * oidc-provider's storage adapter on the same store our local host uses: the Cosmos SDK
 * against the in-process Cosmos-compatible server. With it the peer pays what we pay per
 * storage operation, so the bench can tell server logic from storage.
 *
 * One item per stored model instance (`<Model>-<id>`), with the item TTL oidc-provider asks
 * for; user codes and session uids get a look-up item, as in oidc-provider's memory adapter.
 */
type Payload = Record<string, unknown> & { userCode?: string; uid?: string; grantId?: string };

interface StoredItem {
  id: string;
  payload: Payload;
  grantId?: string;
  ttl?: number;
}

export async function cosmosAdapter(): Promise<{ adapter: unknown; close(): Promise<void> }> {
  const server = await startLocalCosmosServer([
    { database: 'peer', containers: [{ id: 'oidc', account: 'regional', partitionKeyPath: '/id', defaultTtl: -1 }] },
  ]);
  const client = new CosmosClient({ endpoint: server.endpoint, key: server.key, connectionPolicy: { enableEndpointDiscovery: false } });
  const container: Container = client.database('peer').container('oidc');
  const notFound = (error: unknown) => (error as { code?: number }).code === 404;
  const read = async (id: string) => (await container.item(id, id).read<StoredItem>()).resource;
  /** Through a look-up item `{ id: <index id>, ref: <item id> }` to the payload it names. */
  const findByIndex = async (indexId: string) => {
    const entry = (await container.item(indexId, indexId).read<{ ref: string }>()).resource;
    return entry ? (await read(entry.ref))?.payload : undefined;
  };

  class CosmosAdapter {
    constructor(private readonly model: string) {}

    private key(id: string) {
      return `${this.model}-${id}`;
    }

    async upsert(id: string, payload: Payload, expiresIn?: number) {
      const ttl = expiresIn ? { ttl: Math.ceil(expiresIn) } : {};
      await container.items.upsert<StoredItem>({ id: this.key(id), payload, ...(payload.grantId ? { grantId: payload.grantId } : {}), ...ttl });
      if (payload.userCode) await container.items.upsert({ id: `UserCode-${payload.userCode}`, ref: this.key(id), ...ttl });
      if (this.model === 'Session' && payload.uid) await container.items.upsert({ id: `SessionUid-${payload.uid}`, ref: this.key(id), ...ttl });
    }

    async find(id: string) {
      return (await read(this.key(id)))?.payload;
    }

    findByUserCode(userCode: string) {
      return findByIndex(`UserCode-${userCode}`);
    }

    findByUid(uid: string) {
      return findByIndex(`SessionUid-${uid}`);
    }

    async consume(id: string) {
      const item = await read(this.key(id));
      if (item) await container.item(item.id, item.id).replace({ ...item, payload: { ...item.payload, consumed: Math.floor(Date.now() / 1000) } });
    }

    async destroy(id: string) {
      await container.item(this.key(id), this.key(id)).delete().catch((error: unknown) => {
        if (!notFound(error)) throw error;
      });
    }

    async revokeByGrantId(grantId: string) {
      const { resources } = await container.items.query<{ id: string }>({ query: 'SELECT c.id FROM c WHERE c.grantId = @grantId', parameters: [{ name: '@grantId', value: grantId }] }).fetchAll();
      await Promise.all(resources.map(({ id }) => container.item(id, id).delete().catch(() => undefined)));
    }
  }

  return {
    adapter: CosmosAdapter,
    async close() {
      client.dispose();
      await server.close();
    },
  };
}
