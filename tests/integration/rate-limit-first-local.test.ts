import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/load-config.js';
import { RateLimited } from '../../shared/errors.js';
import { reserve, type LimitRule } from '../../shared/rate-limit.js';
import { containerSpecs } from '../../shared/store/containers.js';
import { measureCosmosUsage } from '../../shared/store/request-meter.js';
import { openStore, type Store } from '../../shared/store/store.js';
import { startLocalCosmosServer } from '../../tools/local/cosmos-server.js';
import { instancesOnOneStore } from '../helpers/store-instances.js';
import { lastCosmosRequests, oauthEnv } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * `reserve` with `firstLocal` (device authorizations, docs/security.md#rate-limits): a key's
 * first event on an instance costs no store request, and is folded into the shared count with
 * that instance's next one. Two stores on one Cosmos server are two instances.
 */
describe('rate limits: the first event on an instance counted locally', () => {
  const now = new Date();
  const newInstance = instancesOnOneStore();
  const instance = async () => {
    const store = await newInstance();
    // The SDK reads a container's definition before its first create: not what is counted here.
    await store.container('rateLimits').items.upsert({ id: 'warm-up' });
    return store;
  };
  const ask = (store: Store, key: string, rule: LimitRule) =>
    reserve(store, key, rule, now, { firstLocal: true }).then(
      () => true,
      (error: unknown) => {
        if (error instanceof RateLimited) return false;
        throw error;
      },
    );
  /** The shared count of the key's current window, as stored. */
  const sharedCount = async (store: Store, key: string, rule: LimitRule) => {
    const id = `${key}@${Math.floor(now.getTime() / (rule.windowSeconds * 1000))}`;
    return (await store.container('rateLimits').item(id, id).read<{ count: number }>()).resource?.count;
  };

  it('the first costs no store request; the second writes both', async () => {
    const store = await instance();
    const rule = { limit: 5, windowSeconds: 600 };
    const first = await measureCosmosUsage(() => ask(store, 'first-free', rule));
    expect(first).toMatchObject({ result: true, usage: { requests: 0 } });
    expect(await sharedCount(store, 'first-free', rule)).toBeUndefined();
    const second = await measureCosmosUsage(() => ask(store, 'first-free', rule));
    expect(second).toMatchObject({ result: true, usage: { requests: 1 } }); // created with 2
    expect(await sharedCount(store, 'first-free', rule)).toBe(2);
  });

  it('50 at once on one instance: the first is claimed once, the limit holds exactly, and the shared count has every one', async () => {
    const store = await instance();
    const rule = { limit: 30, windowSeconds: 600 };
    const { result: answers, usage } = await measureCosmosUsage(() =>
      Promise.all(Array.from({ length: 50 }, () => ask(store, 'burst', rule))),
    );
    expect(answers.filter(Boolean)).toHaveLength(30);
    expect(await sharedCount(store, 'burst', rule)).toBe(50); // 49 increments, one of them folding the first in
    // 49 writes, plus a retry as a patch for each create that lost the race to create the item.
    expect(usage.requests).toBeGreaterThanOrEqual(49);
    expect(await ask(store, 'burst', rule)).toBe(false);
  });

  it('across instances a key passes its limit by at most one per instance, and is stopped once any instance folds', async () => {
    const [a, b] = [await instance(), await instance()];
    const rule = { limit: 3, windowSeconds: 600 };
    expect(await ask(a, 'spread', rule)).toBe(true); // a's first: a knows, the shared count does not
    for (let i = 0; i < 3; i++) expect(await ask(b, 'spread', rule)).toBe(true); // b's first, then 2 and 3
    expect(await sharedCount(b, 'spread', rule)).toBe(3);
    expect(await ask(a, 'spread', rule)).toBe(false); // a folds its first: 5 > 3
    expect(await sharedCount(a, 'spread', rule)).toBe(5);
    expect(await ask(b, 'spread', rule)).toBe(false);
  });

  it('a key dropped from the instance memory has its unshared first written, so cycling through more keys than it keeps is still counted', async () => {
    const store = await instance();
    const rule = { limit: 1, windowSeconds: 600 };
    // The oldest key's first, then 10,000 other keys' firsts (the most an instance keeps): the
    // oldest is dropped, and its first goes to the shared count instead of being forgotten.
    expect(await ask(store, 'cycled-0', rule)).toBe(true);
    for (let i = 1; i <= 10_000; i++) expect(await ask(store, `cycled-${i}`, rule)).toBe(true);
    await expect.poll(() => sharedCount(store, 'cycled-0', rule)).toBe(1);
    // Back again: its limit of one is used up, whatever this instance remembers.
    expect(await ask(store, 'cycled-0', rule)).toBe(true); // a new first here...
    expect(await ask(store, 'cycled-0', rule)).toBe(false); // ...folded with this one: 3 > 1
  });

  it('a fold that cannot be written fails its own request only, and leaves the first to fold again', async () => {
    const config = loadConfig({ ROGER_OPERATOR_KEY: 'rate-limit-test-operator-key-0123456789' });
    const own = await startLocalCosmosServer([
      { database: config.cosmos.database, containers: Object.values(containerSpecs).filter((s) => s.account === 'regional') },
    ]);
    const store = await openStore({
      regional: { ...config.cosmos, endpoint: own.endpoint, key: own.key },
      directory: { ...config.directory, endpoint: own.endpoint, key: own.key },
      managedIdentityClientId: undefined,
      endpointDiscovery: false,
    });
    try {
      const rule = { limit: 5, windowSeconds: 600 };
      expect(await ask(store, 'unwritten', rule)).toBe(true);
      await own.close(); // the store is gone: the fold's write fails
      // One after the other: a fold nobody else waits for must not leave a rejection unhandled.
      const answers = [
        await Promise.allSettled([ask(store, 'unwritten', rule)]),
        await Promise.allSettled([ask(store, 'unwritten', rule)]),
      ].flat();
      expect(answers.map((a) => a.status)).toEqual(['rejected', 'rejected']);
      expect(answers.every((a) => a.status === 'rejected' && !(a.reason instanceof RateLimited))).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('a first given back before it was folded costs nothing and frees its place', async () => {
    const store = await instance();
    const rule = { limit: 2, windowSeconds: 600 };
    const slot = await reserve(store, 'given-back', rule, now, { firstLocal: true });
    const { usage } = await measureCosmosUsage(() => slot.giveBack());
    expect(usage.requests).toBe(0);
    expect(await ask(store, 'given-back', rule)).toBe(true); // folds nothing: count 1
    expect(await ask(store, 'given-back', rule)).toBe(true);
    expect(await ask(store, 'given-back', rule)).toBe(false);
    expect(await sharedCount(store, 'given-back', rule)).toBe(3);
  });
});

/**
 * The request budget of a device authorization (docs/data.md#cosmos-db-requests-per-operation):
 * the record's one write for an address's first on this instance in a window; its later ones add
 * the shared count's write. The host trusts one proxy in front of it, so each test address is a client.
 */
describe('device authorization: Cosmos requests', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost({ env: { ...oauthEnv, TRUSTED_PROXY_HOPS: '2' } });
  });
  afterAll(async () => host.close());

  const ask = async (from: string) => {
    const response = await fetch(`${host.url}/oauth/device_authorization`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': from },
      body: 'client_id=roger-desktop&scope=jobs',
    });
    expect(response.status).toBe(200);
    return lastCosmosRequests(host, '/oauth/device_authorization');
  };

  it('1 for an address first seen here in the window, 2 for its next ones (the first folded into the count)', async () => {
    // The SDK reads a container's definition before its first create there: the record's, then the count's.
    for (let i = 0; i < 2; i++) await ask('2001:db8:1:1::1');
    expect(await ask('2001:db8:1:2::1')).toBe(1);
    expect(await ask('2001:db8:1:2::2')).toBe(2); // the same /64: its count created with 2
    expect(await ask('2001:db8:1:2::3')).toBe(2); // one patch
    expect(await ask('198.51.100.20')).toBe(1);
  });
});
