import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COSMOS_REQUEST_TIMEOUT_MS } from '../../shared/store/store-http-client.js';
import { api, createTenant, mobileSignIn, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost } from '../helpers/test-host.js';
import { inContainer, isWrite, type CosmosRequest } from './cosmos-fault-proxy.js';
import { expectOAuthUnavailable, expectUnavailableProblem, refreshGrant, timedApi, timedTokenRequest } from './fault-kit.js';
import { startFaultyStoreHost, type FaultyStoreHost } from './faulty-store.js';

/**
 * The Cosmos store misbehaves (docs/api.md#when-a-dependency-fails: a clear answer, never a 500, a hang or a partial
 * write): throttling within and past the SDK's retry budget, 503s, a store that never answers,
 * one that refuses connections and one that drops them. The app reaches the store through the
 * real @azure/cosmos SDK over HTTP, with endpoint discovery on as in Azure; the fault proxy in
 * between answers for the store (tests/faults/cosmos-fault-proxy.ts).
 */
const admin: Person = { email: 'ops@northwind.test', username: 'ops', fullName: 'Olga Ops', password: 'ops-password-12' };
const user: Person = { email: 'uma@northwind.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12' };

const jobWrites = (request: CosmosRequest) => isWrite(request) && inContainer('jobs')(request);
const jobReads = (request: CosmosRequest) => !isWrite(request) && inContainer('jobs')(request);

describe('Cosmos DB faults, over the wire', () => {
  let faulty: FaultyStoreHost;
  let userToken: string;
  let refreshToken: string;
  /** Queued before any fault: it must come out of every scenario untouched. */
  let queuedJobId: string;

  const host = () => faulty.host;
  const proxy = () => faulty.proxy;
  const jobIds = async () =>
    ((await api(host(), userToken, 'GET', '/api/jobs?limit=100')).body.items as { id: string }[]).map((job) => job.id).sort();
  const faultsSeen = (from: number, kind: string) =>
    proxy()
      .requests.slice(from)
      .filter((request) => request.fault === kind).length;

  async function expectNothingLost(before: string[]) {
    expect(await jobIds()).toEqual(before);
    const job = await api(host(), userToken, 'GET', `/api/jobs/${queuedJobId}`);
    expect(job.status).toBe(200);
    expect(job.body).toMatchObject({ id: queuedJobId, state: 'queued', fileName: 'Before the storm.pdf' });
  }

  beforeAll(async () => {
    faulty = await startFaultyStoreHost(oauthEnv);
    await createTenant(host(), 'northwind', admin);
    const adminToken = (await mobileSignIn(host(), 'northwind', admin)).access_token;
    expect((await api(host(), adminToken, 'POST', '/api/users', user)).status).toBe(201);
    const tokens = await mobileSignIn(host(), 'northwind', user);
    userToken = tokens.access_token;
    refreshToken = tokens.refresh_token!;
    const created = await api(host(), userToken, 'POST', '/api/jobs', { fileName: 'Before the storm.pdf', size: 2048 });
    queuedJobId = created.body.id;
    expect((await api(host(), userToken, 'POST', `/api/jobs/${queuedJobId}/ready`)).body.state).toBe('queued');
  });
  afterEach(() => proxy().clear());
  afterAll(async () => {
    // No scenario may end in a 500 (an unhandled error): each is a retryable 503 or a success.
    expect(host().logs.filter((line) => line.includes('unhandled-error'))).toEqual([]);
    await faulty?.close();
  });

  it('goes through the proxy with endpoint discovery on (the account document points back at it)', async () => {
    const paths = proxy().requests.map((request) => `${request.method} ${request.path}`);
    expect(paths[0]).toBe('GET /');
    expect(paths).toContain('POST /dbs/roger/colls/jobs/docs');
    // The proxy tells a query (a POST that reads) from a write, so rules can target either.
    const from = proxy().requests.length;
    await jobIds();
    expect(proxy().requests.slice(from)).toContainEqual(
      expect.objectContaining({ method: 'POST', path: '/dbs/roger/colls/jobs/docs', query: true }),
    );
  });

  it('429 within the SDK’s retry budget: waited out, the request succeeds and writes once', async () => {
    const before = await jobIds();
    const from = proxy().requests.length;
    proxy().inject({ fault: { kind: 'throttle', retryAfterMs: 50 }, times: 3, match: jobWrites });
    const created = await timedApi(host(), userToken, 'POST', '/api/jobs', { fileName: 'Throttled.pdf', size: 10 });
    expect(created.status).toBe(201);
    expect(faultsSeen(from, 'throttle')).toBe(3);
    expect(created.ms).toBeLessThan(2000);
    proxy().inject({ fault: { kind: 'throttle', retryAfterMs: 20 }, times: 2, match: jobReads });
    expect((await api(host(), userToken, 'GET', `/api/jobs/${created.body.id}`)).body.state).toBe('registered');
    expect(await jobIds()).toEqual([...before, created.body.id].sort());
  });

  it('429 past the budget: 503 problem+json carrying Cosmos’s retry hint, nothing written', async () => {
    const before = await jobIds();
    const from = proxy().requests.length;
    // The SDK retries 9 times by default; the 10th answer is the one the app sees.
    proxy().inject({ fault: { kind: 'throttle', retryAfterMs: 10 }, times: 9, match: jobWrites });
    proxy().inject({ fault: { kind: 'throttle', retryAfterMs: 2500 }, times: 1, match: jobWrites });
    const answer = await timedApi(host(), userToken, 'POST', '/api/jobs', { fileName: 'Never.pdf', size: 10 });
    expectUnavailableProblem(answer, '3');
    expect(answer.ms).toBeLessThan(2000);
    expect(faultsSeen(from, 'throttle')).toBe(10);
    await expectNothingLost(before);
  });

  it('429 past the budget on /oauth/token: RFC 6749 temporarily_unavailable with Retry-After', async () => {
    proxy().inject({ fault: { kind: 'throttle', retryAfterMs: 10 } });
    const password = await timedTokenRequest(host(), {
      grant_type: 'password',
      client_id: 'roger-mobile',
      tenant: 'northwind',
      username: user.username,
      password: user.password,
      scope: 'jobs',
    });
    expectOAuthUnavailable(password, '1');
    expect(password.ms).toBeLessThan(3000);
    proxy().clear();
    // Once the store answers, the same sign-in works.
    expect((await mobileSignIn(host(), 'northwind', user)).access_token).toEqual(expect.any(String));
  });

  it('503 from the store: 503 at once on /api and /oauth; the refresh token is not burnt', async () => {
    const before = await jobIds();
    proxy().inject({ fault: { kind: 'unavailable' } });
    const read = await timedApi(host(), userToken, 'GET', `/api/jobs/${queuedJobId}`);
    expectUnavailableProblem(read);
    expect(read.ms).toBeLessThan(2000);
    const write = await timedApi(host(), userToken, 'POST', '/api/jobs', { fileName: 'Never.pdf', size: 10 });
    expectUnavailableProblem(write);
    const refresh = await refreshGrant(host(), refreshToken);
    expectOAuthUnavailable(refresh);
    expect(refresh.ms).toBeLessThan(2000);
    proxy().clear();

    const rotated = await refreshGrant(host(), refreshToken);
    expect(rotated.status).toBe(200);
    refreshToken = rotated.body.refresh_token;
    await expectNothingLost(before);
  });

  it(`a store that never answers: 503 after ${COSMOS_REQUEST_TIMEOUT_MS} ms (reads, writes, /oauth), not a hang; nothing half-written`, async () => {
    const before = await jobIds();
    proxy().inject({ fault: { kind: 'hang' }, match: isWrite });
    proxy().inject({ fault: { kind: 'hang' }, match: jobReads });
    // At once: a read of the job, a job creation (its reads pass, the write hangs) and a
    // refresh (the rotation's write hangs).
    const [read, write, refresh] = await Promise.all([
      timedApi(host(), userToken, 'GET', `/api/jobs/${queuedJobId}`),
      timedApi(host(), userToken, 'POST', '/api/jobs', { fileName: 'Hung.pdf', size: 10 }),
      refreshGrant(host(), refreshToken),
    ]);
    expectUnavailableProblem(read);
    expectUnavailableProblem(write);
    expectOAuthUnavailable(refresh);
    for (const answer of [read, write, refresh]) {
      expect(answer.ms).toBeGreaterThanOrEqual(COSMOS_REQUEST_TIMEOUT_MS - 100);
      expect(answer.ms).toBeLessThan(COSMOS_REQUEST_TIMEOUT_MS + 2500);
    }
    const hung = proxy().requests.filter((request) => request.status === 'hung');
    // One attempt each: a timed-out request is not retried (the SDK would retry a read 120 times).
    expect(hung.map((request) => request.method).sort()).toEqual(['GET', 'POST', 'PUT']);
    proxy().clear();

    await expectNothingLost(before);
    // The rotation never reached the store: the same refresh token still works, once.
    const rotated = await refreshGrant(host(), refreshToken);
    expect(rotated.status).toBe(200);
    refreshToken = rotated.body.refresh_token;
  });

  it('a store that refuses connections: 503 at once, /health says so; back up, all is as before', async () => {
    const before = await jobIds();
    await proxy().down();
    try {
      const read = await timedApi(host(), userToken, 'GET', `/api/jobs/${queuedJobId}`);
      expectUnavailableProblem(read);
      expect(read.ms).toBeLessThan(2000);
      const refresh = await refreshGrant(host(), refreshToken);
      expectOAuthUnavailable(refresh);
      expect(refresh.ms).toBeLessThan(2000);
      const health = await timedApi(host(), undefined, 'GET', '/health');
      expectUnavailableProblem(health);
      expect(health.body.checks).toEqual({ store: 'failed', onedrive: 'configured' });
    } finally {
      await proxy().up();
    }
    expect((await api(host(), undefined, 'GET', '/health')).status).toBe(200);
    await expectNothingLost(before);
  });

  it('a dropped connection: a read is retried by the SDK and succeeds; a write answers 503 and writes nothing', async () => {
    const before = await jobIds();
    proxy().inject({ fault: { kind: 'reset' }, times: 1, match: jobReads });
    const read = await timedApi(host(), userToken, 'GET', `/api/jobs/${queuedJobId}`);
    expect(read.status).toBe(200);
    expect(read.ms).toBeLessThan(3000);

    proxy().inject({ fault: { kind: 'reset' }, match: jobWrites });
    const write = await timedApi(host(), userToken, 'POST', '/api/jobs', { fileName: 'Dropped.pdf', size: 10 });
    expectUnavailableProblem(write);
    expect(write.ms).toBeLessThan(2000);
    proxy().clear();
    await expectNothingLost(before);
  });
});

describe('a store whose host name does not resolve', () => {
  it('answers 503 at once, not after the SDK’s 120 endpoint-discovery retries', async () => {
    // RFC 6761: .invalid never resolves.
    const host = await startTestHost({ env: { ...oauthEnv, COSMOS_ENDPOINT: 'http://roger-store.invalid:8081', COSMOS_KEY: 'bG9jYWw=' } });
    try {
      const lookup = await timedApi(host, undefined, 'GET', '/tenants/northwind/region');
      expectUnavailableProblem(lookup);
      expect(lookup.ms).toBeLessThan(COSMOS_REQUEST_TIMEOUT_MS + 1000);
      const token = await timedTokenRequest(host, {
        grant_type: 'password',
        client_id: 'roger-mobile',
        tenant: 'northwind',
        username: 'uma',
        password: 'x',
        scope: 'jobs',
      });
      expectOAuthUnavailable(token);
      expect(host.logs.filter((line) => line.includes('unhandled-error'))).toEqual([]);
    } finally {
      await host.close();
    }
  });
});
