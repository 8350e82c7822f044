import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problemTypeUri } from '../../shared/http/problem.js';
import { registerJob } from '../../shared/jobs/jobs.js';
import { approvedSession, enrolledPrinter, freshTenant } from '../helpers/fixtures.js';
import { writeLinkFixture } from '../helpers/onedrive.js';
import { api, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * A region whose app registration has no client secret yet: the first deployment (nobody can
 * put one into the vault that deployment creates), or a Key Vault reference App Service left
 * unresolved. The app starts; OneDrive answers 503 onedrive-not-configured; /health says so and
 * stays 200; everything else works (docs/operations.md#deploying).
 */
const admin: Person = { email: 'ada@contoso.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-12' };
const user: Person = { email: 'uma@contoso.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12' };

describe('OneDrive disabled: ENTRA_CLIENT_SECRET an unresolved Key Vault reference', () => {
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

  const expectNotConfigured = (response: { status: number; headers: Headers; body: Record<string, unknown> }) => {
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(response.headers.get('retry-after')).toBe('300');
    expect(response.body).toMatchObject({
      type: problemTypeUri('onedrive-not-configured'),
      title: 'OneDrive is not configured in this region',
      status: 503,
    });
    // Nothing of the setting leaks: not the reference, not the vault.
    expect(JSON.stringify(response.body)).not.toMatch(/vault|KeyVault|ENTRA_CLIENT_SECRET/i);
  };

  it('/health answers 200 and reports OneDrive disabled', async () => {
    const health = await api(host, undefined, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', checks: { store: 'ok', onedrive: 'disabled' } });
  });

  it('OneDrive routes answer 503 onedrive-not-configured; everything else works', async () => {
    const tenant = await freshTenant(host, 'contoso', admin, [user]);
    const userToken = tenant.users[0]!.token;
    expectNotConfigured(await api(host, userToken, 'GET', '/api/onedrive/connect'));

    // At the printer: browsing and printing from OneDrive say so too, before "connect OneDrive first".
    const printer = await enrolledPrinter(host, tenant.admin.token, 'Floor 1');
    const session = await approvedSession(host, printer, userToken);
    expectNotConfigured(await api(host, session.token, 'GET', '/api/onedrive/print'));
    expectNotConfigured(await api(host, session.token, 'POST', '/api/onedrive/print', { itemId: 'item-1' }));

    // Disconnecting touches only the store: it works (and there is nothing to disconnect).
    expect((await api(host, userToken, 'DELETE', '/api/onedrive')).status).toBe(204);
    // A job without OneDrive, the user's own account: unaffected.
    const job = await api(host, userToken, 'POST', '/api/jobs', { fileName: 'a.pdf', size: 1 });
    expect(job.status).toBe(201);
    expect((await api(host, userToken, 'GET', '/api/me')).status).toBe(200);
    expect((await api(host, undefined, 'GET', '/regions')).status).toBe(200);
  });

  it('a release holds back the jobs of a OneDrive link made before (the secret went missing since) and sends the others', async () => {
    const tenant = await freshTenant(host, 'contoso', admin, [user]);
    const uma = tenant.users[0]!;
    const plain = await api(host, uma.token, 'POST', '/api/jobs', { fileName: 'plain.pdf', size: 1 });
    expect((await api(host, uma.token, 'POST', `/api/jobs/${plain.body.id}/ready`)).status).toBe(200);
    const services = await host.services();
    await writeLinkFixture(services.store, tenant.id, uma.id);
    const owner = { tenantId: tenant.id, userId: uma.id, email: user.email, username: user.username };
    const fromOneDrive = await registerJob(services, owner, 30 * 24, { fileName: 'report.pdf', size: 10 }, { itemId: 'item-1' });
    expect(fromOneDrive.state).toBe('queued');

    const printer = await enrolledPrinter(host, tenant.admin.token, 'Floor 2');
    const session = await approvedSession(host, printer, uma.token);
    expect(session.release).toMatchObject({ released: 1, queued: 1 });
    const jobs = await api(host, uma.token, 'GET', '/api/jobs');
    const stateOf = (id: string) => (jobs.body.items as { id: string; state: string }[]).find((job) => job.id === id)?.state;
    expect(stateOf(plain.body.id as string)).toBe('released');
    expect(stateOf(fromOneDrive.id)).toBe('queued');
  });
});

describe('OneDrive disabled: ENTRA_CLIENT_SECRET unset', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost({
      env: {
        ENTRA_CLIENT_ID: 'roger-test-app',
        ONEDRIVE_TOKEN_KEYS: JSON.stringify({ keys: [{ kid: 'k1', key: randomBytes(32).toString('base64') }] }),
      },
    });
  });
  afterAll(() => host?.close());

  it('starts, and /health reports OneDrive disabled', async () => {
    const health = await api(host, undefined, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.checks).toEqual({ store: 'ok', onedrive: 'disabled' });
  });
});
