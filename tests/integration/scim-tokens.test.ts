import { describe, expect, it } from 'vitest';
import type { Services } from '../../shared/services.js';
import { authenticateScimToken } from '../../shared/scim/tokens.js';
import { freshTenant, individual } from '../helpers/fixtures.js';
import { api, type Person } from '../helpers/roger.js';
import { scimTestHost } from '../helpers/scim.js';
import type { TestHost } from '../helpers/test-host.js';

/** SCIM tokens (docs/security.md#scim-tokens): an admin's, shown once, stored hashed, revocable, each naming its tenant. */
const admin: Person = { email: 'ada@scim.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-12' };
const user: Person = { email: 'uma@scim.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12' };

describe('SCIM tokens', () => {
  let host: TestHost;
  let services: Services;
  scimTestHost((started) => ({ host, services } = started));

  const tenant = () => freshTenant(host, 'scim', individual(admin), [individual(user)]);

  it('an admin creates, lists and revokes; the token is shown once and never logged; revoked tokens are refused', async () => {
    const t = await tenant();
    const created = await api(host, t.admin.token, 'POST', '/api/tenant/scim-tokens', { name: 'Entra provisioning', expiresInDays: 30 });
    expect(created.status).toBe(201);
    const { id, token, name, createdAt, expiresAt } = created.body;
    expect(name).toBe('Entra provisioning');
    expect(token).toMatch(new RegExp(`^scim1\\.${t.id}\\.${id}\\.[A-Za-z0-9_-]{43}$`));
    expect(Date.parse(expiresAt) - Date.parse(createdAt)).toBe(30 * 86_400_000);

    const listed = await api(host, t.admin.token, 'GET', '/api/tenant/scim-tokens');
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([{ id, name, createdAt, expiresAt }]);
    expect(JSON.stringify(listed.body)).not.toContain(token.split('.')[3]);
    expect(host.logs.join('\n')).not.toContain(token.split('.')[3]);

    expect(await authenticateScimToken(services, token)).toEqual({ tenantId: t.id, tokenId: id });
    expect(await authenticateScimToken(services, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();

    expect((await api(host, t.admin.token, 'DELETE', `/api/tenant/scim-tokens/${id}`)).status).toBe(204);
    expect((await api(host, t.admin.token, 'DELETE', `/api/tenant/scim-tokens/${id}`)).status).toBe(204);
    expect(await authenticateScimToken(services, token)).toBeUndefined();
    const after = (await api(host, t.admin.token, 'GET', '/api/tenant/scim-tokens')).body.items;
    expect(after).toHaveLength(1);
    expect(after[0].revokedAt).toBeDefined();

    const actions = (await api(host, t.admin.token, 'GET', '/api/audit')).body.items.map((r: { action: string }) => r.action);
    expect(actions.filter((a: string) => a === 'tenant.scim-token-created')).toHaveLength(1);
    expect(actions.filter((a: string) => a === 'tenant.scim-token-revoked')).toHaveLength(1);
  });

  it('is for admins only', async () => {
    const t = await tenant();
    const carol = t.users[0]!.token;
    expect((await api(host, carol, 'POST', '/api/tenant/scim-tokens', {})).status).toBe(403);
    expect((await api(host, carol, 'GET', '/api/tenant/scim-tokens')).status).toBe(403);
    const { id } = (await api(host, t.admin.token, 'POST', '/api/tenant/scim-tokens', {})).body;
    expect((await api(host, carol, 'DELETE', `/api/tenant/scim-tokens/${id}`)).status).toBe(403);
    expect((await api(host, t.admin.token, 'GET', '/api/tenant/scim-tokens')).body.items[0].revokedAt).toBeUndefined();
  });

  it('refuses bodies out of range', async () => {
    const t = await tenant();
    for (const body of [{ expiresInDays: 0 }, { expiresInDays: 731 }, { expiresInDays: 1.5 }, { name: 'x'.repeat(101) }, { other: 1 }]) {
      expect((await api(host, t.admin.token, 'POST', '/api/tenant/scim-tokens', body)).status).toBe(400);
    }
  });

  it('a token of tenant A authenticates as A only; B cannot revoke it', async () => {
    const [a, b] = await Promise.all([tenant(), tenant()]);
    const { id, token } = (await api(host, a.admin.token, 'POST', '/api/tenant/scim-tokens', {})).body;
    const secret = token.split('.')[3];
    expect(await authenticateScimToken(services, token)).toEqual({ tenantId: a.id, tokenId: id });
    expect(await authenticateScimToken(services, `scim1.${b.id}.${id}.${secret}`)).toBeUndefined();
    expect((await api(host, b.admin.token, 'DELETE', `/api/tenant/scim-tokens/${id}`)).status).toBe(204);
    expect((await api(host, b.admin.token, 'GET', '/api/tenant/scim-tokens')).body.items).toEqual([]);
    expect(await authenticateScimToken(services, token)).toEqual({ tenantId: a.id, tokenId: id });
  });

  it('expires after expiresInDays (365 by default)', async () => {
    const t = await tenant();
    const short = (await api(host, t.admin.token, 'POST', '/api/tenant/scim-tokens', { expiresInDays: 1 })).body;
    const year = (await api(host, t.admin.token, 'POST', '/api/tenant/scim-tokens', {})).body;
    expect(Date.parse(year.expiresAt) - Date.parse(year.createdAt)).toBe(365 * 86_400_000);
    host.advanceClock(86_400 + 1);
    expect(await authenticateScimToken(services, short.token)).toBeUndefined();
    expect(await authenticateScimToken(services, year.token)).toBeDefined();
  });

  it('marks lastUsedAt, at most once a minute', async () => {
    const t = await tenant();
    const { token } = (await api(host, t.admin.token, 'POST', '/api/tenant/scim-tokens', {})).body;
    const lastUsed = async () => (await api(host, t.admin.token, 'GET', '/api/tenant/scim-tokens')).body.items[0].lastUsedAt;
    expect(await lastUsed()).toBeUndefined();
    await authenticateScimToken(services, token);
    const first = await lastUsed();
    expect(first).toBeDefined();
    host.advanceClock(30);
    await authenticateScimToken(services, token);
    expect(await lastUsed()).toBe(first);
    host.advanceClock(31);
    await authenticateScimToken(services, token);
    expect(Date.parse(await lastUsed())).toBeGreaterThan(Date.parse(first));
  });

  it('allows 10 live tokens; a revoked one frees its place', async () => {
    const t = await tenant();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const created = await api(host, t.admin.token, 'POST', '/api/tenant/scim-tokens', { name: `t${i}` });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
    }
    expect((await api(host, t.admin.token, 'POST', '/api/tenant/scim-tokens', {})).status).toBe(409);
    await api(host, t.admin.token, 'DELETE', `/api/tenant/scim-tokens/${ids[0]}`);
    expect((await api(host, t.admin.token, 'POST', '/api/tenant/scim-tokens', {})).status).toBe(201);
  });
});
