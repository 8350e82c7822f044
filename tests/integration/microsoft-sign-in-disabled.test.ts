import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemTypeUri } from '../../shared/http/problem.js';
import { startMicrosoftSignIn } from '../../shared/microsoft/sign-in.js';
import { Unavailable } from '../../shared/errors.js';
import { readTenantFresh } from '../../shared/tenants/tenants.js';
import { freshTenant } from '../helpers/fixtures.js';
import { api, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * A region whose app registration has no client secret (config.microsoft.disabledBecause): Sign
 * in with Microsoft is unavailable (a 503 page, a 503 problem for the admin's connect), and
 * everything else works, password sign-in included.
 */
const admin: Person = { email: 'ada@contoso.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-12' };

describe('Sign in with Microsoft without the app registration’s secret', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost({
      env: {
        ...oauthEnv,
        ENTRA_CLIENT_ID: 'roger-test-app',
        ENTRA_CLIENT_SECRET: '@Microsoft.KeyVault(SecretUri=https://rogereukv.vault.azure.net/secrets/entra-client-secret/)',
        ONEDRIVE_TOKEN_KEYS: JSON.stringify({ keys: [{ kid: 'k1', key: randomBytes(32).toString('base64') }] }),
      },
    });
  });
  afterAll(() => host?.close());

  it('the admin’s connect answers 503 microsoft-sign-in-not-configured; the password sign-in works', async () => {
    const tenant = await freshTenant(host, 'nosecret', admin);
    const connect = await api(host, tenant.admin.token, 'POST', '/api/tenant/entra/connect');
    expect(connect.status).toBe(503);
    expect(connect.headers.get('retry-after')).toBe('300');
    expect(connect.body).toMatchObject({ type: problemTypeUri('microsoft-sign-in-not-configured'), status: 503 });
    expect(JSON.stringify(connect.body)).not.toMatch(/vault|ENTRA_CLIENT_SECRET/i);
    expect((await api(host, tenant.admin.token, 'GET', '/api/me')).status).toBe(200);

    const services = await host.services();
    const start = startMicrosoftSignIn(services, {
      tenant: (await readTenantFresh(services.store, tenant.id))!,
      request: {
        clientId: 'roger-mobile',
        redirectUri: 'cloud.roger.mobile:/oauth2redirect',
        scope: 'jobs',
        codeChallenge: 'x'.repeat(43),
      },
      lang: 'en',
    });
    await expect(start).rejects.toBeInstanceOf(Unavailable);
  });

  it('the callbacks still answer as pages: an unknown state is refused before Microsoft is needed', async () => {
    const answer = await fetch(`${host.url}/oauth/microsoft/callback?state=abc&code=def`, { redirect: 'manual' });
    expect(answer.status).toBe(400);
    const consent = await fetch(
      `${host.url}/api/tenant/entra/callback?admin_consent=True&tenant=3f9a6c2e-1b4d-4e8f-9a7c-5d2e0b1f4c6a&state=abc`,
      {
        redirect: 'manual',
        headers: { 'accept-language': 'fr' },
      },
    );
    expect(consent.status).toBe(400);
    expect(await consent.text()).toContain('<html lang="fr">');
  });
});
