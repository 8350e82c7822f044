import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollPrinter } from '../../shared/devices/enroll.js';
import { readDevice, type DeviceDoc } from '../../shared/devices/devices.js';
import { Unavailable } from '../../shared/errors.js';
import { shardedReleaseTopics, type Messaging } from '../../shared/messaging/messaging.js';
import { TOPIC_ALLOCATION_ID, type TopicAllocationDoc } from '../../shared/messaging/topic-allocation.js';
import type { Services } from '../../shared/services.js';
import { STANDARD_TIER_QUOTAS, type LocalServiceBus } from '../../tools/service-bus/broker.js';
import { approvedSession, enrolledPrinter, freshTenant } from '../helpers/fixtures.js';
import { amqpCredentials, printerClient, receiveReleases, type EnrolledPrinter } from '../helpers/printer.js';
import { api, lastCosmosRequests, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Release topic sharding (docs/flows.md#release-to-printers) against the local broker, which
 * refuses a topic's 2,001st subscription as Service Bus does: printers enrolled through the API
 * land on the first topic under capacity (1,900 by default), a release reaches the printer on its
 * own topic and nobody else, a topic Service Bus finds full is skipped, and when every topic is
 * full the admin gets 503 release-topics-full with nothing written.
 *
 * 2,001 enrollments through the API would take minutes: the printers before the ones under test
 * are made as enrollment would leave them in Service Bus and in the allocation item (a
 * subscription each through the app's own messaging adapter, and the topic's count), so the
 * printers under test take the real path, with the real quota, at the real boundary.
 */
const admin: Person = { email: 'ops@fabrikam.test', username: 'ops', fullName: 'Olga Ops', password: 'ops-password-12' };
const user: Person = { email: 'uma@fabrikam.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12', pin: '5150' };

const [TOPIC_0, TOPIC_1, TOPIC_2] = shardedReleaseTopics(3) as [string, string, string];

describe('release topics: a region of 2,001 printers', () => {
  let host: TestHost;
  let services: Services;
  let messaging: Messaging & { broker: LocalServiceBus };
  let adminToken: string;
  let userToken: string;
  let tenantId: string;
  /** The stand-ins for printers enrolled earlier, per topic. */
  const others = new Map<string, string[]>();

  beforeAll(async () => {
    host = await startTestHost({ env: { ...oauthEnv, RELEASE_TOPIC_COUNT: '3' } });
    services = await host.services();
    messaging = (await services.messaging()) as Messaging & { broker: LocalServiceBus };
    const tenant = await freshTenant(host, 'fabrikam', admin, [user]);
    adminToken = tenant.admin.token;
    userToken = tenant.users[0]!.token;
    tenantId = tenant.id;
  });
  afterAll(() => host?.close());

  const allocation = async () =>
    (await services.store.container('tenants').item(TOPIC_ALLOCATION_ID, TOPIC_ALLOCATION_ID).read<TopicAllocationDoc>()).resource
      ?.counts ?? {};

  /** `count` printers enrolled earlier on `topic`: their subscriptions, and the topic's count. */
  async function enrolledEarlier(topic: string, count: number) {
    const ids = Array.from({ length: count }, (_, i) => `earlier-${topic}-${String(i).padStart(4, '0')}`.padEnd(32, 'x'));
    for (const id of ids) await messaging.subscriptions.create(topic, id);
    others.set(topic, [...(others.get(topic) ?? []), ...ids]);
    const counts = await allocation();
    await services.store.container('tenants').items.upsert({
      id: TOPIC_ALLOCATION_ID,
      type: 'releaseTopicAllocation',
      counts: { ...counts, [topic]: (counts[topic] ?? 0) + count },
    });
  }

  const topicOf = async (printer: EnrolledPrinter) => (await readDevice(services.store, tenantId, printer.deviceId))?.topic;

  async function submit(fileName: string) {
    const created = await api(host, userToken, 'POST', '/api/jobs', { fileName, size: 4096, options: { copies: 1, color: false } });
    expect(created.status).toBe(201);
    expect((await api(host, userToken, 'POST', `/api/jobs/${created.body.id}/ready`)).body.state).toBe('queued');
    return created.body.id as string;
  }

  let printerA: EnrolledPrinter;
  let printerB: EnrolledPrinter;

  it('the 1,900th printer goes on releases-00, the 2,001st on releases-01, and each gets its releases on its own topic only', async () => {
    await enrolledEarlier(TOPIC_0, 1899);
    printerA = await enrolledPrinter(host, adminToken, 'Printer A'); // the 1,900th
    await enrolledEarlier(TOPIC_1, 100);
    printerB = await enrolledPrinter(host, adminToken, 'Printer B'); // the 2,001st
    // The approval that enrolls it: 9 Cosmos requests, 2 of them the place on a topic (a point read
    // and a conditional patch: docs/data.md#release-topic-allocation).
    expect(lastCosmosRequests(host, '/api/device-codes/approve')).toBe(9);
    expect(await allocation()).toEqual({ [TOPIC_0]: 1900, [TOPIC_1]: 101 });
    expect(messaging.broker.hasSubscription(TOPIC_0, printerA.deviceId)).toBe(true);
    expect(messaging.broker.hasSubscription(TOPIC_1, printerB.deviceId)).toBe(true);

    // The printer's AMQP token names its topic, and with only that token it receives its release.
    const jobId = await submit('For B.pdf');
    expect((await approvedSession(host, printerB, userToken)).release).toEqual({ released: 1, queued: 0, dispatched: true });
    const credentialsB = await amqpCredentials(host, printerB.access);
    expect(credentialsB.entityPath).toBe(`${TOPIC_1}/subscriptions/${printerB.deviceId}`);
    const clientB = printerClient(credentialsB);
    try {
      const received = await receiveReleases(clientB, credentialsB.entityPath, 2, 500);
      expect(received.map((m) => (m.body as { jobId: string }).jobId)).toEqual([jobId]);
    } finally {
      await clientB.close();
    }
    // Nobody else holds it: not printer A on the other topic, not one of the 1,999 earlier printers.
    const credentialsA = await amqpCredentials(host, printerA.access);
    expect(credentialsA.entityPath).toBe(`${TOPIC_0}/subscriptions/${printerA.deviceId}`);
    const clientA = printerClient(credentialsA);
    try {
      expect(await receiveReleases(clientA, credentialsA.entityPath, 1, 300)).toEqual([]);
    } finally {
      await clientA.close();
    }
    for (const [topic, ids] of others) {
      for (const id of ids) expect(messaging.broker.countMessages(topic, id), `${topic}/${id}`).toEqual({ active: 0, deadLetter: 0 });
    }
  });

  it('a topic Service Bus finds full (subscriptions made outside the count) is marked full and the next one is used', async () => {
    // releases-01 holds 101 of ours; someone made enough others to reach Service Bus's 2,000.
    const outside = STANDARD_TIER_QUOTAS.subscriptionsPerTopic - 101;
    for (let i = 0; i < outside; i++) messaging.broker.createSubscription(TOPIC_1, `outside-${i}`);
    const printerC = await enrolledPrinter(host, adminToken, 'Printer C');
    expect(await topicOf(printerC)).toBe(TOPIC_2);
    expect(await allocation()).toEqual({ [TOPIC_0]: 1900, [TOPIC_1]: 1900, [TOPIC_2]: 1 });
    expect(host.logs.filter((line) => line.includes('release-topic-full'))).toHaveLength(1);
  });

  it('every topic full: 503 release-topics-full, logged once, and nothing written', async () => {
    await enrolledEarlier(TOPIC_2, 1899);
    const logsBefore = host.logs.length;
    const authorization = (await (
      await fetch(`${host.url}/oauth/device_authorization`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: 'roger-emb', scope: 'device' }).toString(),
      })
    ).json()) as { user_code: string; device_code: string };
    const refused = await api(host, adminToken, 'POST', '/api/device-codes/approve', {
      user_code: authorization.user_code,
      name: 'Printer D',
    });
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ type: 'tag:roger.cloud,2026:problems/release-topics-full', status: 503 });
    expect(refused.body.detail).toMatch(/add release topics/);
    const newLogs = host.logs.slice(logsBefore);
    expect(newLogs.filter((line) => line.includes('release-topics-full'))).toHaveLength(1);
    expect(newLogs.find((line) => line.includes('release-topics-full'))).toMatch(/^error /);
    // The code is still unanswered (the printer's poll waits), no printer item, no new subscription.
    const poll = await fetch(`${host.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
        client_id: 'roger-emb',
        device_code: authorization.device_code,
      }).toString(),
    });
    expect(((await poll.json()) as { error: string }).error).toBe('authorization_pending');
    const printers = await api(host, adminToken, 'GET', '/api/devices');
    expect((printers.body.items as { name: string }[]).map((p) => p.name).sort()).toEqual(['Printer A', 'Printer B', 'Printer C']);
    expect(await allocation()).toEqual({ [TOPIC_0]: 1900, [TOPIC_1]: 1900, [TOPIC_2]: 1900 });
  });

  it('disconnecting a printer frees its place, once', async () => {
    expect((await api(host, adminToken, 'DELETE', `/api/devices/${printerA.deviceId}`)).status).toBe(204);
    expect((await api(host, adminToken, 'DELETE', `/api/devices/${printerA.deviceId}`)).status).toBe(204);
    expect((await allocation())[TOPIC_0]).toBe(1899);
    expect(messaging.broker.hasSubscription(TOPIC_0, printerA.deviceId)).toBe(false);
    const printerE = await enrolledPrinter(host, adminToken, 'Printer E');
    expect(await topicOf(printerE)).toBe(TOPIC_0);
    expect((await allocation())[TOPIC_0]).toBe(1900);
  });

  it('a printer enrolled before sharding keeps working on `releases`: its token, its releases, its disconnection', async () => {
    // As such a printer is stored: its subscription on `releases`, its record naming that topic.
    const setCount = async (topic: string, count: number) =>
      services.store
        .container('tenants')
        .items.upsert({ id: TOPIC_ALLOCATION_ID, type: 'releaseTopicAllocation', counts: { ...(await allocation()), [topic]: count } });
    await setCount(TOPIC_0, 1899); // room for it, the region being full
    const legacy = await enrolledPrinter(host, adminToken, 'Printer L');
    const topic = await topicOf(legacy);
    await messaging.subscriptions.delete(topic!, legacy.deviceId);
    await messaging.subscriptions.create('releases', legacy.deviceId);
    const stored = (await readDevice(services.store, tenantId, legacy.deviceId))!;
    await services.store.container('accounts').items.upsert({ ...stored, topic: 'releases' });
    await setCount(topic!, 1899); // it never had a place
    const countsBefore = await allocation();

    const jobId = await submit('For L.pdf');
    expect((await approvedSession(host, legacy, userToken)).release).toEqual({ released: 1, queued: 0, dispatched: true });
    const credentials = await amqpCredentials(host, legacy.access);
    expect(credentials.entityPath).toBe(`releases/subscriptions/${legacy.deviceId}`);
    const client = printerClient(credentials);
    try {
      const received = await receiveReleases(client, credentials.entityPath, 2, 500);
      expect(received.map((m) => (m.body as { jobId: string }).jobId)).toEqual([jobId]);
    } finally {
      await client.close();
    }
    // Disconnected: its subscription on `releases` goes, and no topic's count moves (it never had a place).
    expect((await api(host, adminToken, 'DELETE', `/api/devices/${legacy.deviceId}`)).status).toBe(204);
    expect(messaging.broker.hasSubscription('releases', legacy.deviceId)).toBe(false);
    expect(await allocation()).toEqual(countsBefore);
  });
});

describe('release topics: enrollments at once', () => {
  let host: TestHost;
  let services: Services;

  beforeAll(async () => {
    host = await startTestHost({ env: { RELEASE_TOPIC_COUNT: '3', RELEASE_TOPIC_CAPACITY: '4' } });
    services = await host.services();
  });
  afterAll(() => host?.close());

  it('never put more printers on a topic than its capacity, and refuse the rest whole', async () => {
    const actor = { tenantId: 'concurrent-tenant', userId: 'concurrent-admin' } as Parameters<typeof enrollPrinter>[1];
    const family = (i: number) => ({
      id: `family-${i}`,
      clientId: 'roger-emb',
      scope: 'device',
      currentHash: `hash-${i}`,
      rotatedHashes: [],
      createdAt: new Date().toISOString(),
      lastUsedAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => enrollPrinter(services, actor, { name: `Printer ${i}` }, family(i), async () => undefined, log)),
    );
    const enrolled = outcomes.filter((o): o is PromiseFulfilledResult<DeviceDoc> => o.status === 'fulfilled').map((o) => o.value);
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason);
    expect(enrolled).toHaveLength(12);
    expect(refused).toHaveLength(8);
    for (const error of refused) expect(error).toMatchObject({ constructor: Unavailable, code: 'release-topics-full' });
    const messaging = (await services.messaging()) as Messaging & { broker: LocalServiceBus };
    for (const topic of shardedReleaseTopics(3)) {
      const onTopic = enrolled.filter((device) => device.topic === topic);
      expect(onTopic, topic).toHaveLength(4);
      for (const device of onTopic) expect(messaging.broker.hasSubscription(topic, device.id)).toBe(true);
    }
    const { resource } = await services.store
      .container('tenants')
      .item(TOPIC_ALLOCATION_ID, TOPIC_ALLOCATION_ID)
      .read<TopicAllocationDoc>();
    expect(resource?.counts).toEqual(Object.fromEntries(shardedReleaseTopics(3).map((topic) => [topic, 4])));
  });
});
