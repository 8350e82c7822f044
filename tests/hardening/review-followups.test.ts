import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollPrinter } from '../helpers/printer.js';
import { api, createTenant, mobileSignIn, oauthEnv, tokenRequest, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/** What a security review of the issue-13 fixes found: each case failed before its fix. */
const admin: Person = { email: 'ann@followup.test', username: 'ann', fullName: 'Ann Admin', password: 'ann-password-12' };

describe('issue 13 review follow-ups', () => {
  let host: TestHost;
  let tenantId: string;
  let adminToken: string;

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
    tenantId = (await createTenant(host, 'followup', admin)).id;
    adminToken = (await mobileSignIn(host, 'followup', admin)).access_token;
  });
  afterAll(() => host.close());

  it('two admins renaming one user at once: the name that lost signs nobody in and is free again', async () => {
    const xena: Person = { email: 'xena@followup.test', username: 'xena', fullName: 'Xena Example', password: 'xena-password-1' };
    const xenaId = (await api(host, adminToken, 'POST', '/api/users', xena)).body.id as string;
    for (let round = 0; round < 6; round++) {
      const names = [`xena-a${round}`, `xena-b${round}`];
      const answers = await Promise.all(names.map((username) => api(host, adminToken, 'PATCH', `/api/users/${xenaId}`, { username })));
      expect(
        answers.every((a) => a.status === 200 || a.status === 409),
        JSON.stringify(answers.map((a) => a.status)),
      ).toBe(true);
      const stored = (await api(host, adminToken, 'GET', `/api/users/${xenaId}`)).body.username as string;
      for (const name of names.filter((n) => n !== stored)) {
        const signIn = await tokenRequest(host, {
          grant_type: 'password',
          client_id: 'roger-mobile',
          tenant: 'followup',
          username: name,
          password: xena.password,
          scope: 'jobs',
        });
        expect(signIn.status, `${name} (stored ${stored})`).toBe(400);
      }
    }
  });

  it('a tenant whose stored policy predates "password" keeps passwords at its printers', async () => {
    const pat: Person = { email: 'pat@followup.test', username: 'pat', fullName: 'Pat Example', password: 'pat-password-12', pin: '7391' };
    expect((await api(host, adminToken, 'POST', '/api/users', pat)).status).toBe(201);
    const printer = await enrollPrinter(host, adminToken, 'MFP-legacy');
    // The policy as a tenant created before this change stored it.
    const { store } = await host.services();
    const { resource: tenant } = await store.container('tenants').item(tenantId, tenantId).read();
    const { printerFailedSignInLimit: _, ...legacy } = tenant.policy;
    await store
      .container('tenants')
      .item(tenantId, tenantId)
      .replace({ ...tenant, policy: { ...legacy, allowedLoginMethods: ['qr', 'pin'] } });
    // Read fresh (GET /api/tenant skips the per-instance cache), then used at the panel.
    expect((await api(host, adminToken, 'GET', '/api/tenant')).body.policy.allowedLoginMethods).toEqual(['qr', 'pin', 'password']);
    const atPanel = (password: string) =>
      tokenRequest(
        host,
        { grant_type: 'password', client_id: 'roger-emb', username: 'pat', password, scope: 'jobs:submit' },
        printer.access,
      );
    expect((await atPanel(pat.password)).status).toBe(200);
    expect((await atPanel(pat.pin!)).status).toBe(200);
  });
});
