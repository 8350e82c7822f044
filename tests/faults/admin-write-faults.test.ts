import type { ItemDefinition } from '@azure/cosmos';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceDoc } from '../../shared/devices/devices.js';
import { jobPartition } from '../../shared/jobs/jobs.js';
import { linkId } from '../../shared/onedrive/links.js';
import { writeLinkFixture } from '../helpers/onedrive.js';
import { allLoginRecords } from '../../shared/users/login-records.js';
import type { UserDoc } from '../../shared/users/users.js';
import { enrollPrinter, type EnrolledPrinter } from '../helpers/printer.js';
import { api, createTenant, mobileSignIn, OPERATOR_KEY, oauthEnv, type Person } from '../helpers/roger.js';
import { pinAttempt, refreshWith } from '../races/race-kit.js';
import { inContainer, isWrite, type CosmosRequest } from './cosmos-fault-proxy.js';
import { expectOAuthUnavailable, expectUnavailableProblem, refreshGrant, timedApi, timedTokenRequest } from './fault-kit.js';
import { startFaultyStoreHost, type FaultyStoreHost } from './faulty-store.js';

/**
 * Admin writes over a store that fails part-way (docs/api.md#when-a-dependency-fails: a clear answer, never a 500, never a
 * half-written change): the write of the item the admin changes answers 503, and then each
 * route is asked again, as an admin would, once the store is back. After the failure the old
 * state stands whole (old credentials work, sessions live, the printer connected); after the
 * retry the admin's intent stands whole. An erasure cut short at any step finishes when run again.
 */
const SLUG = 'brownout';
const admin: Person = { email: 'ops@brownout.test', username: 'ops', fullName: 'Olga Ops', password: 'ops-password-12' };

/** Writes of one item of `accounts` (a user, a printer, a login name, a link). */
// A sign-in that changes the user writes it in a transactional batch with its login record (shared/users/login-records.ts).
const writesOf = (id: string) => (request: CosmosRequest) =>
  isWrite(request) &&
  inContainer('accounts')(request) &&
  (request.path.endsWith(`/docs/${id}`) || Boolean(request.batchItemIds?.includes(id)));

describe('admin writes when the store fails part-way', () => {
  let faulty: FaultyStoreHost;
  let tenantId: string;
  let adminToken: string;
  let printer: EnrolledPrinter;
  let serial = 0;

  const host = () => faulty.host;
  const proxy = () => faulty.proxy;
  const read = async <T extends ItemDefinition>(id: string) =>
    (await (await host().services()).store.container('accounts').item(id, tenantId).read<T>()).resource;

  beforeAll(async () => {
    faulty = await startFaultyStoreHost(oauthEnv);
    tenantId = (await createTenant(host(), SLUG, admin)).id;
    adminToken = (await mobileSignIn(host(), SLUG, admin)).access_token;
    printer = await enrollPrinter(host(), adminToken, 'MFP-1');
  });
  afterEach(() => proxy().clear());
  afterAll(async () => {
    expect(host().logs.filter((line) => line.includes('unhandled-error'))).toEqual([]);
    await faulty?.close();
  });

  async function newUser() {
    const n = ++serial;
    const person: Person = {
      email: `ursula${n}@brownout.test`,
      username: `ursula${n}`,
      fullName: `Ursula ${n}`,
      password: `ursula-password-${n}`,
      pin: '3141',
    };
    const created = await api(host(), adminToken, 'POST', '/api/users', person);
    expect(created.status).toBe(201);
    const { refresh_token } = await mobileSignIn(host(), SLUG, person);
    return { person, id: created.body.id as string, refresh: refresh_token! };
  }

  it('PUT /api/users/{id}/credentials: 503 leaves the old PIN and the sessions as they were; the retry resets both', async () => {
    const { person, id, refresh } = await newUser();
    proxy().inject({ fault: { kind: 'unavailable' }, match: writesOf(id) });
    expectUnavailableProblem(await timedApi(host(), adminToken, 'PUT', `/api/users/${id}/credentials`, { pin: '2718' }));
    proxy().clear();
    expect((await pinAttempt(host(), printer.access, person.username, person.pin!)).status).toBe(200);
    const kept = await refreshWith(host(), 'roger-mobile', refresh);
    expect(kept.status).toBe(200);

    expect((await api(host(), adminToken, 'PUT', `/api/users/${id}/credentials`, { pin: '2718' })).status).toBe(204);
    expect((await pinAttempt(host(), printer.access, person.username, person.pin!)).status).toBe(400);
    expect((await pinAttempt(host(), printer.access, person.username, '2718')).status).toBe(200);
    expect((await refreshWith(host(), 'roger-mobile', kept.body.refresh_token!)).body.error).toBe('invalid_grant');
  });

  it('POST /api/users/{id}/pin-reset: 503 hands out no PIN and changes nothing; the retry’s PIN works', async () => {
    const { person, id } = await newUser();
    proxy().inject({ fault: { kind: 'unavailable' }, match: writesOf(id) });
    const failed = await timedApi(host(), adminToken, 'POST', `/api/users/${id}/pin-reset`);
    expectUnavailableProblem(failed);
    expect(failed.body).not.toHaveProperty('pin');
    proxy().clear();
    expect((await pinAttempt(host(), printer.access, person.username, person.pin!)).status).toBe(200);

    const reset = await api(host(), adminToken, 'POST', `/api/users/${id}/pin-reset`);
    expect(reset.status).toBe(200);
    expect((await pinAttempt(host(), printer.access, person.username, reset.body.pin)).status).toBe(200);
  });

  it('PATCH /api/users/{id} (a new email): 503 leaves the old email the user’s and the new one free; the retry moves it', async () => {
    const { person, id } = await newUser();
    const email = `moved${serial}@brownout.test`;
    proxy().inject({ fault: { kind: 'unavailable' }, match: writesOf(id) });
    expectUnavailableProblem(await timedApi(host(), adminToken, 'PATCH', `/api/users/${id}`, { email }));
    proxy().clear();
    expect(await read<UserDoc>(id)).toMatchObject({ email: person.email });
    expect((await api(host(), adminToken, 'PATCH', `/api/users/${id}`, { email })).status).toBe(200);
    expect(await read<UserDoc>(id)).toMatchObject({ email });
    expect((await api(host(), adminToken, 'POST', '/api/users', { ...person, username: `taker${serial}`, fullName: 'Taker' })).status).toBe(
      201,
    ); // the old email is free
  });

  it('DELETE /api/devices/{id}: 503 leaves the printer connected and working; the retry disconnects it', async () => {
    const doomed = await enrollPrinter(host(), adminToken, `Doomed ${serial}`);
    proxy().inject({ fault: { kind: 'unavailable' }, match: writesOf(doomed.deviceId) });
    expectUnavailableProblem(await timedApi(host(), adminToken, 'DELETE', `/api/devices/${doomed.deviceId}`));
    proxy().clear();
    expect(await read<DeviceDoc>(doomed.deviceId)).toMatchObject({ status: 'connected' });
    const refreshed = await refreshWith(host(), 'roger-emb', doomed.refresh);
    expect(refreshed.status).toBe(200);

    expect((await api(host(), adminToken, 'DELETE', `/api/devices/${doomed.deviceId}`)).status).toBe(204);
    expect(await read<DeviceDoc>(doomed.deviceId)).toMatchObject({ status: 'disconnected', refreshFamilies: [] });
    expect((await refreshWith(host(), 'roger-emb', refreshed.body.refresh_token!)).body.error).toBe('invalid_grant');
  });

  it('an item whose every conditional write loses (412 each time): 503 to admins, sign-ins and refreshes alike, after a bounded number of tries; nothing changed', async () => {
    const { person, id, refresh } = await newUser();
    const before = await read<UserDoc>(id);
    const { store } = await host().services();
    const loginRecords = async () => (await allLoginRecords(store, tenantId, id)).length;
    const recordsBefore = await loginRecords();
    proxy().inject({ fault: { kind: 'precondition' }, match: writesOf(id) });
    for (const answer of [
      await timedApi(host(), adminToken, 'PUT', `/api/users/${id}/credentials`, { pin: '2718' }),
      await timedApi(host(), adminToken, 'POST', `/api/users/${id}/pin-reset`),
      await timedApi(host(), adminToken, 'PATCH', `/api/users/${id}`, { fullName: 'Never' }),
      await timedApi(host(), adminToken, 'DELETE', `/api/users/${id}`),
    ]) {
      expectUnavailableProblem(answer);
    }
    expectOAuthUnavailable(await refreshGrant(host(), refresh));
    const pin = await timedTokenRequest(host(), {
      grant_type: 'password',
      client_id: 'roger-mobile',
      tenant: SLUG,
      username: person.username,
      password: person.password,
      scope: 'jobs offline_access',
    });
    expectOAuthUnavailable(pin);
    const tries = proxy().requests.filter((request) => request.fault === 'precondition').length;
    expect(tries).toBeLessThanOrEqual(6 * 20); // each gives up after its re-read-and-write-again budget
    proxy().clear();

    const after = await read<UserDoc>(id);
    expect(after).toMatchObject({
      fullName: before!.fullName,
      pinHash: before!.pinHash,
      refreshFamilies: before!.refreshFamilies,
    });
    // The sign-in's login record went in one batch with the user write that never won: not written either.
    expect(await loginRecords()).toBe(recordsBefore);
    expect((await refreshWith(host(), 'roger-mobile', refresh)).status).toBe(200); // the session was never touched
  });

  it('DELETE /api/users/{id} cut short at each of its writes (before and after the user item goes): run again, it finishes', async () => {
    const { store } = await host().services();
    const steps: [string, (id: string, person: Person) => (request: CosmosRequest) => boolean][] = [
      ['its sessions', (id) => writesOf(id)],
      ['its jobs', () => (request) => isWrite(request) && inContainer('jobs')(request)],
      ['its OneDrive link', (id) => writesOf(linkId(id))],
      ['its login names', (_id, person) => writesOf(`login:${person.username}`)],
    ];
    const erasures = async () =>
      ((await api(host(), adminToken, 'GET', '/api/audit?limit=100')).body.items as { action: string }[]).filter(
        (r) => r.action === 'user.erased',
      ).length;
    for (const [step, match] of steps) {
      const { person, id, refresh } = await newUser();
      const token = (await mobileSignIn(host(), SLUG, person)).access_token;
      expect((await api(host(), token, 'POST', '/api/jobs', { fileName: 'mine.pdf', size: 1 })).status).toBe(201);
      await writeLinkFixture(store, tenantId, id);

      const audited = await erasures();
      proxy().inject({ fault: { kind: 'unavailable' }, match: match(id, person) });
      expectUnavailableProblem(await timedApi(host(), adminToken, 'DELETE', `/api/users/${id}`));
      proxy().clear();
      expect((await api(host(), adminToken, 'DELETE', `/api/users/${id}`)).status, step).toBe(204);
      expect(await erasures(), `${step}: audited once, by the run that finished`).toBe(audited + 1);

      expect(await read(id), step).toBeUndefined();
      expect(await read(linkId(id)), step).toBeUndefined();
      const pk = jobPartition(tenantId, id);
      expect(
        (
          await store
            .container('jobs')
            .items.query({ query: 'SELECT * FROM c WHERE c.pk = @pk', parameters: [{ name: '@pk', value: pk }] })
            .fetchAll()
        ).resources,
        step,
      ).toEqual([]);
      expect((await refreshWith(host(), 'roger-mobile', refresh)).body.error, step).toBe('invalid_grant');
      expect(
        (await api(host(), adminToken, 'POST', '/api/users', { ...person, fullName: 'Someone else' })).status,
        `${step}: the names are free`,
      ).toBe(201);
    }
  });

  it('POST /api/tenants with email domains: the tenant write fails (503), and the slug and every domain are free again', async () => {
    const operator = { 'content-type': 'application/json', 'x-operator-key': OPERATOR_KEY };
    const body = JSON.stringify({
      slug: 'brownout-two',
      name: 'Brownout Two',
      admin: { ...admin, email: 'ops@two.test' },
      emailDomains: ['two.test', 'two.example'],
    });
    proxy().inject({ fault: { kind: 'unavailable' }, match: (request) => isWrite(request) && inContainer('tenants')(request) });
    const failed = await fetch(`${host().url}/api/tenants`, { method: 'POST', headers: operator, body });
    expect(failed.status).toBe(503);
    proxy().clear();
    const directory = (await host().services()).store.container('tenantDirectory');
    for (const id of ['brownout-two', '@two.test', '@two.example']) expect((await directory.item(id, id).read()).resource).toBeUndefined();

    const retried = await fetch(`${host().url}/api/tenants`, { method: 'POST', headers: operator, body });
    expect(retried.status).toBe(201);
    const { id: tenantOfRetry } = (await retried.json()) as { id: string };
    for (const id of ['brownout-two', '@two.test', '@two.example']) {
      expect((await directory.item(id, id).read<{ tenantId: string }>()).resource?.tenantId).toBe(tenantOfRetry);
    }
  });
});
