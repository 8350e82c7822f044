import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/load-config.js';
import { containerSpecs } from '../../shared/store/containers.js';
import { estimateReadRU, estimateWriteRU, indexedPathsOfItem, isIndexed } from '../../shared/store/cosmos-cost.js';
import { measureCosmosUsage } from '../../shared/store/request-meter.js';
import { openStore, type Store } from '../../shared/store/store.js';
import { startLocalCosmosServer, type LocalCosmosServer } from '../../tools/local/cosmos-server.js';

/**
 * The store's request meter (shared/store/request-meter.ts, cosmos-cost.ts; docs/data.md#what-a-call-costs) on
 * known requests over real sockets to the local server, through the SDK: bytes each way, the
 * index terms a write touches under the `accounts` policy, and the RU estimate.
 */
describe('the Cosmos request meter', () => {
  let server: LocalCosmosServer;
  let store: Store;
  const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');
  const tenantId = 'meter-tenant';
  // Indexed in `accounts`: tenantId, type, username, email (4), plus id and _ts. Not: note, tags, nested.
  const item = {
    id: 'meter-user',
    tenantId,
    type: 'user',
    username: 'ann',
    email: 'ann@example.test',
    note: 'x'.repeat(100),
    tags: ['a', 'b'],
    nested: { deep: 1 },
  };

  beforeAll(async () => {
    const config = loadConfig({ ROGER_OPERATOR_KEY: 'meter-test-operator-key-0123456789abcdef' });
    server = await startLocalCosmosServer([
      { database: config.cosmos.database, containers: Object.values(containerSpecs).filter((s) => s.account === 'regional') },
    ]);
    const account = { ...config.cosmos, endpoint: server.endpoint, key: server.key };
    store = await openStore({ regional: account, directory: account, managedIdentityClientId: undefined, endpointDiscovery: false });
    // The SDK reads the container's partition key definition before its first write: not measured here.
    await store.container('accounts').items.create({ id: 'warm-up', tenantId });
  });
  afterAll(async () => {
    await store?.close();
    await server?.close();
  });

  it('create: the item sent, the item returned, 4 indexed paths + id + _ts, a 1 KB write', async () => {
    const accounts = store.container('accounts');
    const { result, usage } = await measureCosmosUsage(() => accounts.items.create(item));
    expect(usage).toMatchObject({ requests: 1, bytesWritten: bytes(item), bytesRead: bytes(result.resource), indexedPaths: 6 });
    expect(usage.ruEstimate).toBeCloseTo(4.95, 5);
  });

  it('point read: nothing written, the item read, no index terms, 1 RU', async () => {
    const { result, usage } = await measureCosmosUsage(() => store.container('accounts').item(item.id, tenantId).read());
    expect(usage).toMatchObject({ requests: 1, bytesWritten: 0, bytesRead: bytes(result.resource), indexedPaths: 0 });
    expect(usage.ruEstimate).toBeCloseTo(1, 5);
  });

  it('replace of a 3 KB item: its bytes, its indexed paths, the write figure interpolated between 2 and 4 KB', async () => {
    const big = { ...item, note: 'y'.repeat(3 * 1024 - bytes({ ...item, note: '' })) };
    expect(bytes(big)).toBe(3 * 1024);
    const { result, usage } = await measureCosmosUsage(() => store.container('accounts').item(item.id, tenantId).replace(big));
    expect(usage).toMatchObject({ requests: 1, bytesWritten: 3 * 1024, bytesRead: bytes(result.resource), indexedPaths: 6 });
    // The stored item (as returned, with its system properties) is a little over 3 KB.
    expect(usage.ruEstimate).toBeCloseTo(estimateWriteRU(bytes(result.resource)), 5);
    expect(usage.ruEstimate).toBeGreaterThan(6.29 + 0.5 * (6.67 - 6.29) - 0.001);
    expect(usage.ruEstimate).toBeLessThan(6.67);
  });

  it('patch: its operations sent, the indexed paths it sets (username, not note) + _ts', async () => {
    const operations = [
      { op: 'set' as const, path: '/username', value: 'bea' },
      { op: 'set' as const, path: '/note', value: 'short' },
    ];
    const { result, usage } = await measureCosmosUsage(() => store.container('accounts').item(item.id, tenantId).patch(operations));
    expect(usage).toMatchObject({ requests: 1, bytesWritten: bytes(operations), bytesRead: bytes(result.resource), indexedPaths: 2 });
    expect(usage.ruEstimate).toBeCloseTo(estimateWriteRU(bytes(result.resource)), 5);
  });

  it('a failed conditional write indexes nothing; several requests add up', async () => {
    const accounts = store.container('accounts');
    const { usage } = await measureCosmosUsage(async () => {
      await accounts.item(item.id, tenantId).read();
      await accounts
        .item(item.id, tenantId)
        .replace(item, { accessCondition: { type: 'IfMatch', condition: '"stale"' } })
        .catch(() => undefined);
    });
    expect(usage.requests).toBe(2);
    expect(usage.indexedPaths).toBe(0);
    expect(usage.bytesWritten).toBe(bytes(item));
  });

  it('policy paths: the most precise of included and excluded decides; array elements are []', () => {
    const policy = containerSpecs.accounts.indexingPolicy;
    expect(isIndexed(policy, ['userIds', '[]'])).toBe(true);
    expect(isIndexed(policy, ['lockout', 'failures'])).toBe(false);
    expect(isIndexed(undefined, ['anything'])).toBe(true);
    expect(indexedPathsOfItem(policy, { id: 'x', userIds: ['a', 'b', 'c'], lockout: { failures: 1 } })).toBe(3 + 2);
    expect(estimateReadRU(100)).toBe(1);
    expect(estimateWriteRU(2048)).toBeCloseTo(6.29, 5);
  });
});
