import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshTenant, individual } from '../helpers/fixtures.js';
import { api, lastCosmosRequests, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * GET /api/audit with `action`, `from` and `to` (docs/api.md#audit-log): the admin console's
 * filter. The filters stay inside the tenant's partition and are validated like any query.
 */
const admin: Person = { email: 'ada@audit.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-12' };
const other: Person = { email: 'oto@audit.test', username: 'oto', fullName: 'Oto Other', password: 'oto-password-12' };

type Row = { id: string; at: string; action: string; targetId?: string };

describe('GET /api/audit filters', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
  });
  afterAll(() => host.close());

  /** One admin action one millisecond after the last, on the host's clock: every record its own `at`. */
  const policyChange = async (token: string, days: number) => {
    host.advanceClock(0.001);
    expect((await api(host, token, 'PATCH', '/api/tenant', { policy: { jobRetentionDays: days } })).status).toBe(200);
  };

  it('keeps one action, a time window, or both; newest first; another tenant’s records never show', async () => {
    const t = await freshTenant(host, 'audit', individual(admin));
    const neighbour = await freshTenant(host, 'audit', individual(other));
    const list = async (query: string, token = t.admin.token): Promise<Row[]> => {
      const response = await api(host, token, 'GET', `/api/audit${query}`);
      expect(response.status, JSON.stringify(response.body)).toBe(200);
      return response.body.items;
    };

    await policyChange(t.admin.token, 3);
    host.advanceClock(0.001);
    const created = await api(host, t.admin.token, 'POST', '/api/scan-profiles', {
      name: 'Invoices',
      format: 'pdf',
      resolution: 300,
      color: 'color',
      duplex: false,
      roles: ['user'],
      userIds: [],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await policyChange(t.admin.token, 4);
    await policyChange(neighbour.admin.token, 5);

    const all = await list('');
    expect(all.map((r) => r.action)).toEqual(['tenant.policy-changed', 'scan-profile.created', 'tenant.policy-changed']);
    const [second, profile, first] = all as [Row, Row, Row];

    const policy = await list('?action=tenant.policy-changed');
    expect(policy.map((r) => r.id)).toEqual([second.id, first.id]);

    // [from, to): the scan profile's own time is in, the next millisecond is the end.
    const window = `from=${encodeURIComponent(profile.at)}&to=${encodeURIComponent(new Date(Date.parse(profile.at) + 1).toISOString())}`;
    expect((await list(`?${window}`)).map((r) => r.id)).toEqual([profile.id]);
    expect((await list(`?from=${encodeURIComponent(profile.at)}`)).map((r) => r.id)).toEqual([second.id, profile.id]);
    expect((await list(`?to=${encodeURIComponent(profile.at)}`)).map((r) => r.id)).toEqual([first.id]);
    expect(await list(`?action=tenant.policy-changed&${window}`)).toEqual([]);
    // An offset is a time too: the same instant written in UTC+01:00.
    const plusOne = new Date(Date.parse(profile.at) + 3_600_000).toISOString().replace('Z', '+01:00');
    expect((await list(`?to=${encodeURIComponent(plusOne)}`)).map((r) => r.id)).toEqual([first.id]);

    // Paging keeps the filter.
    const page1 = await api(host, t.admin.token, 'GET', '/api/audit?action=tenant.policy-changed&limit=1');
    expect(page1.body.items.map((r: Row) => r.id)).toEqual([second.id]);
    const page2 = await api(
      host,
      t.admin.token,
      'GET',
      `/api/audit?action=tenant.policy-changed&limit=1&continuationToken=${encodeURIComponent(page1.body.continuationToken)}`,
    );
    expect(page2.body.items.map((r: Row) => r.id)).toEqual([first.id]);

    expect((await list('?action=tenant.policy-changed', neighbour.admin.token)).map((r) => r.action)).toEqual(['tenant.policy-changed']);
  });

  it('a page of a rare action among many records costs the Cosmos requests a plain page does', async () => {
    // 24 policy changes after one scan profile: the filtered page's one record is the oldest. A
    // listing that read the tenant's records and filtered them itself would need more than one
    // request (the page size is 5) to reach it. The local server charges 1 RU per request and
    // keeps no index, so it cannot show what the composite index saves in Azure; it does refuse,
    // as Cosmos DB does, an ORDER BY on two paths that no composite index serves.
    const t = await freshTenant(host, 'audit', individual(admin));
    host.advanceClock(0.001);
    const profile = await api(host, t.admin.token, 'POST', '/api/scan-profiles', {
      name: 'Rare',
      format: 'pdf',
      resolution: 300,
      color: 'color',
      duplex: false,
      roles: ['user'],
      userIds: [],
    });
    expect(profile.status, JSON.stringify(profile.body)).toBe(201);
    for (let days = 1; days <= 24; days += 1) await policyChange(t.admin.token, days);

    const plain = await api(host, t.admin.token, 'GET', '/api/audit?limit=5');
    expect(plain.body.items).toHaveLength(5);
    const plainRequests = lastCosmosRequests(host, '/api/audit');
    const rare = await api(host, t.admin.token, 'GET', '/api/audit?action=scan-profile.created&limit=5');
    expect(rare.body.items.map((r: Row) => r.action)).toEqual(['scan-profile.created']);
    expect(rare.body.continuationToken).toBeNull();
    // The same count (the caller's checks plus one query), although the plain page stopped at the
    // fifth newest record and the filtered one had to get past all 24.
    expect(lastCosmosRequests(host, '/api/audit')).toBe(plainRequests);
  });

  it('refuses an unknown action, a time that is not RFC 3339, a window that ends before it starts, and unknown parameters', async () => {
    const t = await freshTenant(host, 'audit', individual(admin));
    const refused = async (query: string, pointer: string) => {
      const response = await api(host, t.admin.token, 'GET', `/api/audit${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body.type).toMatch(/validation-failed$/);
      expect(response.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    };
    await refused('?action=tenant.everything', '/query/action');
    await refused('?from=yesterday', '/query/from');
    await refused('?to=2026-13-01T00:00:00Z', '/query/to');
    await refused('?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', '/query/from');
    await refused('?from=2026-12-01T00:00:00Z&to=2026-12-01T00:00:00Z', '/query/from');
    // RFC 3339 allows a leap second and the format check lets it through; a Date cannot hold it.
    await refused('?from=2016-12-31T23:59:60Z', '/query/from');
    await refused('?to=2016-12-31T23:59:60Z', '/query/to');
    await refused('?actor=someone', '/query/actor');
  });

  it('is for admins only, filtered or not', async () => {
    const t = await freshTenant(host, 'audit', individual(admin), [individual(other)]);
    expect((await api(host, t.users[0]!.token, 'GET', '/api/audit?action=tenant.policy-changed')).status).toBe(403);
  });
});
