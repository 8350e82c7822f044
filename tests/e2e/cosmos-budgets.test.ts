import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/services.js';
import { defaultTenantPolicy } from '../../shared/tenants/policy.js';
import { LOGINS_SHOWN, writeLoginRecord, type LoginRecordDoc } from '../../shared/users/login-records.js';
import type { LoginRecord, UserDoc } from '../../shared/users/users.js';
import { enrolledPrinter, freshTenant, individual, type FreshTenant } from '../helpers/fixtures.js';
import type { EnrolledPrinter } from '../helpers/printer.js';
import { api, oauthEnv, tokenRequest, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * What the hot paths cost in Cosmos DB (docs/data.md#byte-budgets), measured as the request log
 * line reports it (shared/store/request-meter.ts, over real sockets to the local server): a
 * refresh and a PIN sign-in each write at most 2 KB; a sign-in writes a small login record, and
 * the user item only when its state changes. And the login records themselves
 * (docs/data.md#login-records): TTL set, listed newest first and bounded, exported, erased; a
 * user stored with its history inside keeps it, and it is never added to.
 */
const BUDGET_BYTES = 2048;

interface Usage {
  requests: number;
  bytesRead: number;
  bytesWritten: number;
  indexedPaths: number;
  ruEstimate: number;
}

/** The Cosmos fields of the last request line for `route`. */
function lastUsage(host: TestHost, route: string): Usage {
  const line = [...host.logs].reverse().find((l) => l.includes(`route=${route} `));
  const field = (name: string) => Number(new RegExp(`\\b${name}=([\\d.]+)`).exec(line ?? '')?.[1] ?? NaN);
  return {
    requests: field('cosmosRequests'),
    bytesRead: field('cosmosBytesRead'),
    bytesWritten: field('cosmosBytesWritten'),
    indexedPaths: field('cosmosIndexedPaths'),
    ruEstimate: field('cosmosRUEstimate'),
  };
}

const admin: Person = { email: 'olive@budget.test', username: 'olive', fullName: 'Olive Ops', password: 'olive-password-1' };
const paula: Person = {
  email: 'paula@budget.test',
  username: 'paula',
  fullName: 'Paula Printer',
  password: 'paula-password-1',
  pin: '5813',
};
const legacy: Person = { email: 'leo@budget.test', username: 'leo', fullName: 'Leo Legacy', password: 'leo-password-12', pin: '7391' };

let host: TestHost;
let services: Services;
let tenant: FreshTenant;
let printer: EnrolledPrinter;

beforeAll(async () => {
  host = await startTestHost({ env: oauthEnv });
  services = await host.services();
  tenant = await freshTenant(host, 'budget', admin, [individual(paula), individual(legacy)]);
  printer = await enrolledPrinter(host, tenant.admin.token, 'Budget MFP');
});
afterAll(() => host?.close());

const pinAtPrinter = (username: string, pin: string) =>
  tokenRequest(host, { grant_type: 'password', client_id: 'roger-emb', username, password: pin, scope: 'jobs:submit' }, printer.access);
const mobileRefresh = (refreshToken: string) =>
  tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-mobile', refresh_token: refreshToken });
const mobilePassword = (person: Person) =>
  tokenRequest(host, {
    grant_type: 'password',
    client_id: 'roger-mobile',
    tenant: tenant.slug,
    username: person.username,
    password: person.password,
    scope: 'jobs offline_access',
  });

const userItem = async (id: string) => (await services.store.container('accounts').item(id, tenant.id).read<UserDoc>()).resource!;
async function recordsOf(userId: string): Promise<LoginRecordDoc[]> {
  const { resources } = await services.store
    .container('accounts')
    .items.query<LoginRecordDoc>({
      query: "SELECT * FROM c WHERE c.tenantId = @t AND c.type = 'login-record' AND c.userId = @u",
      parameters: [
        { name: '@t', value: tenant.id },
        { name: '@u', value: userId },
      ],
    })
    .fetchAll();
  return resources;
}

describe('byte budgets next to the request counts (docs/data.md#byte-budgets)', () => {
  it('a refresh writes ≤ 2 KB: a typical user (PIN, password, two sessions, each rotated past the 10 fingerprints kept) and a printer', async () => {
    const paulaId = tenant.users[0]!.id;
    const phones = [tenant.users[0]!.refresh, (await mobilePassword(tenant.users[0]!.person)).body.refresh_token as string];
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < phones.length; i++) {
        const answer = await mobileRefresh(phones[i]!);
        expect(answer.status).toBe(200);
        phones[i] = answer.body.refresh_token;
      }
    }
    const user = lastUsage(host, '/oauth/token');
    const stored = await userItem(paulaId);
    expect(stored.refreshFamilies).toHaveLength(2);
    expect(stored.refreshFamilies.every((f) => f.rotatedHashes.length === 10 && f.rotatedHashes.every((h) => h.length === 16))).toBe(true);

    const emb = { refresh: printer.refresh };
    for (let round = 0; round < 12; round++) {
      const answer = await tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-emb', refresh_token: emb.refresh });
      expect(answer.status).toBe(200);
      emb.refresh = answer.body.refresh_token;
    }
    const device = lastUsage(host, '/oauth/token');
    console.info(`refresh: user ${JSON.stringify(user)}; printer ${JSON.stringify(device)}`);
    for (const usage of [user, device]) {
      expect(usage.requests).toBeLessThanOrEqual(2);
      expect(usage.bytesWritten).toBeLessThanOrEqual(BUDGET_BYTES);
      expect(usage.indexedPaths).toBeGreaterThan(0);
      expect(usage.ruEstimate).toBeGreaterThan(0);
    }
  });

  it('a PIN sign-in at a printer writes ≤ 2 KB: a right PIN on a clean account writes only its login record', async () => {
    const paulaId = tenant.users[0]!.id; // two app sessions (the test above)
    const before = await userItem(paulaId);
    expect((await pinAtPrinter(tenant.users[0]!.person.username, paula.pin!)).status).toBe(200);
    expect((await pinAtPrinter(tenant.users[0]!.person.username, paula.pin!)).status).toBe(200);
    const right = lastUsage(host, '/oauth/token');
    // The printer's record, the user (the name seen before: no look-up), the user again (no failure
    // locked it meanwhile: the ETag check a user write used to make), the login record.
    expect(right.requests).toBe(4);
    expect(right.bytesWritten).toBeLessThanOrEqual(BUDGET_BYTES);
    expect(right.bytesWritten).toBeLessThan(400);
    expect((await userItem(paulaId))._etag).toBe(before._etag); // the user item was not written

    // A wrong PIN counts toward the lock: the user and the record in one transactional batch, and
    // the printer's failure count (shared/rate-limit.ts), as before login records. The user goes
    // whole (a conditional replace): within 2 KB with one app session; with two (Paula) a little
    // over (docs/data.md#byte-budgets).
    const wrongAt = async (username: string) => {
      expect((await pinAtPrinter(username, '0000')).status).toBe(400);
      expect((await pinAtPrinter(username, '0001')).status).toBe(400);
      return lastUsage(host, '/oauth/token');
    };
    const oneSession = tenant.users[1]!; // Leo: the fixture's one app session
    const wrong = await wrongAt(oneSession.person.username);
    expect(wrong.requests).toBe(4);
    expect(wrong.bytesWritten).toBeLessThanOrEqual(BUDGET_BYTES);
    const wrongTwoSessions = await wrongAt(tenant.users[0]!.person.username);
    expect(wrongTwoSessions.bytesWritten).toBeLessThan(2 * BUDGET_BYTES);
    expect((await userItem(paulaId)).lockout.failures).toBe(2);
    expect((await pinAtPrinter(tenant.users[0]!.person.username, paula.pin!)).status).toBe(200); // clears the count
    expect((await pinAtPrinter(oneSession.person.username, legacy.pin!)).status).toBe(200);
    console.info(
      `PIN grant: right ${JSON.stringify(right)}; wrong, one session ${JSON.stringify(wrong)}; wrong, two ${JSON.stringify(wrongTwoSessions)}`,
    );
  });
});

describe('login records (docs/data.md#login-records)', () => {
  it('each attempt is an item of its own with the tenant’s TTL; the user item holds none', async () => {
    const paulaId = tenant.users[0]!.id;
    const records = await recordsOf(paulaId);
    expect(records.length).toBeGreaterThanOrEqual(5);
    for (const record of records) {
      expect(record.id.startsWith('sign-in:')).toBe(true);
      expect(record.ttl).toBe(defaultTenantPolicy.loginHistoryDays * 86_400);
    }
    expect(await userItem(paulaId)).not.toHaveProperty('logins');
  });

  it('listed newest first, at most 50; exported; erased with the user', async () => {
    const { person, id } = await (async () => {
      const person: Person = { email: 'nina@budget.test', username: 'nina', fullName: 'Nina New', password: 'nina-password-1' };
      const created = await api(host, tenant.admin.token, 'POST', '/api/users', person);
      expect(created.status).toBe(201);
      return { person, id: created.body.id as string };
    })();
    const t0 = services.now().getTime() - 3600_000;
    for (let i = 0; i < LOGINS_SHOWN + 5; i++) {
      const record: LoginRecord = {
        at: new Date(t0 + i * 1000).toISOString(),
        clientId: 'roger-mobile',
        success: i % 3 !== 0,
        method: 'password',
      };
      await writeLoginRecord(services.store, { id, tenantId: tenant.id }, record, defaultTenantPolicy);
    }
    const signedIn = await mobilePassword(person);
    expect(signedIn.status).toBe(200);
    const mine = await api(host, signedIn.body.access_token, 'GET', '/api/me/logins');
    expect(mine.status).toBe(200);
    const items = mine.body.items as LoginRecord[];
    expect(items).toHaveLength(LOGINS_SHOWN);
    expect(items[0]).toMatchObject({ clientId: 'roger-mobile', method: 'password', success: true });
    expect(items.map((l) => l.at)).toEqual([...items.map((l) => l.at)].sort().reverse());
    expect(items.at(-1)!.at).toBe(new Date(t0 + 6 * 1000).toISOString()); // the 6 oldest are not shown

    const exported = await api(host, tenant.admin.token, 'GET', `/api/users/${id}/export`);
    expect(exported.status).toBe(200);
    expect(exported.body.logins).toHaveLength(LOGINS_SHOWN + 6);
    expect(JSON.stringify(exported.body.logins)).not.toMatch(/sign-in:|"ttl"/);

    expect((await api(host, tenant.admin.token, 'DELETE', `/api/users/${id}`)).status).toBe(204);
    expect(await recordsOf(id)).toEqual([]);
  });

  it('a user stored with its history inside keeps it: listed with the records, aged entries dropped, never added to', async () => {
    const leoId = tenant.users[1]!.id;
    const now = services.now().getTime();
    const old: LoginRecord[] = [
      { at: new Date(now - 200 * 86_400_000).toISOString(), clientId: 'roger-emb', success: false, method: 'pin' }, // past the 90 days
      { at: new Date(now - 2 * 86_400_000).toISOString(), clientId: 'roger-emb', success: true, method: 'pin' },
    ];
    const accounts = services.store.container('accounts');
    const { _etag, ...stored } = await userItem(leoId);
    void _etag;
    await accounts.item(leoId, tenant.id).replace({ ...stored, logins: old });

    expect((await pinAtPrinter(tenant.users[1]!.person.username, legacy.pin!)).status).toBe(200); // a clean account: the record alone
    expect((await userItem(leoId)).logins).toEqual(old); // not added to
    const listed = (await api(host, tenant.admin.token, 'GET', `/api/users/${leoId}/logins`)).body.items as LoginRecord[];
    expect(listed[0]).toMatchObject({ clientId: 'roger-emb', method: 'pin', success: true }); // the PIN just now: a record
    expect(listed.some((l) => l.clientId === 'roger-mobile')).toBe(true); // the fixture's sign-in: a record
    expect(listed.at(-1)!.at).toBe(old[1]!.at); // 2 days ago, from the stored array: the oldest shown
    expect(listed.some((l) => l.at === old[0]!.at)).toBe(false); // older than the tenant keeps
    expect(listed.some((l) => l.at === old[1]!.at)).toBe(true);

    // A write of the user (a wrong PIN counts toward the lock) drops what aged out, and adds nothing.
    expect((await pinAtPrinter(tenant.users[1]!.person.username, '0000')).status).toBe(400);
    expect((await userItem(leoId)).logins).toEqual([old[1]]);
    const exported = await api(host, tenant.admin.token, 'GET', `/api/users/${leoId}/export`);
    expect((exported.body.logins as LoginRecord[]).some((l) => l.at === old[1]!.at)).toBe(true);
  });
});
