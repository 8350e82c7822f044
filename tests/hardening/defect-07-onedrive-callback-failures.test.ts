import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { userTokenCacheId } from '../../shared/microsoft/token-cache.js';
import { linkId, type OneDriveLinkDoc } from '../../shared/onedrive/links.js';
import type { LocalMicrosoft, TokenEndpointFault } from '../../tools/microsoft/local-microsoft.js';
import { consentToOneDrive, loadCallback, startHostWithMicrosoft } from '../helpers/onedrive.js';
import { api, createTenant, mobileSignIn, type Person } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';

/**
 * Issue 13, defect 7: the OneDrive callback answered 500 when Entra answered anything but
 * `invalid_grant`, with the one-time state already spent (the reload got 400); and a file named
 * Print or Scan in the drive root made every connection fail with 500. Now Entra's failures are
 * 503 + Retry-After and the same callback URL connects once Entra is back; a file in the way is
 * a 409 telling the user what to rename. Nothing is written on any failure: no link, and no
 * tokens in the user's MSAL cache (OneDrive's tokens went there with issue 16).
 */
const admin: Person = { email: 'ada@northwind.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-12' };
const user: Person = { email: 'uma@northwind.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12' };
const UPN = 'uma@northwind.example';
const SERVICE_UNAVAILABLE = 'tag:roger.cloud,2026:problems/service-unavailable';

describe('defect 7: the OneDrive callback when Entra fails or a file is in the way', () => {
  let ms: LocalMicrosoft;
  let host: TestHost;
  let tenantId: string;
  let userId: string;
  let userToken: string;

  async function storedLink() {
    const { store } = await host.services();
    return (await store.container('accounts').item(linkId(userId), tenantId).read<OneDriveLinkDoc>()).resource;
  }

  async function storedTokens() {
    const { store } = await host.services();
    return (await store.container('accounts').item(userTokenCacheId(userId), tenantId).read()).resource;
  }

  function expectUnavailable(answer: Awaited<ReturnType<typeof loadCallback>>, retryAfter: string) {
    expect(answer.status, JSON.stringify(answer.body)).toBe(503);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    expect(answer.body).toMatchObject({ type: SERVICE_UNAVAILABLE, status: 503, detail: expect.stringMatching(/reload this page/) });
    expect(answer.headers.get('retry-after')).toBe(retryAfter);
  }

  function expectConnected(answer: Awaited<ReturnType<typeof loadCallback>>) {
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body).toContain('OneDrive is connected');
  }

  beforeAll(async () => {
    ({ ms, host } = await startHostWithMicrosoft());
    tenantId = (await createTenant(host, 'northwind', admin)).id;
    const adminToken = (await mobileSignIn(host, 'northwind', admin)).access_token;
    userId = (await api(host, adminToken, 'POST', '/api/users', user)).body.id;
    userToken = (await mobileSignIn(host, 'northwind', user)).access_token;
  });
  afterAll(async () => {
    await host?.close();
  });
  beforeEach(async () => {
    ms.failTokenNext(0, 503);
    expect((await api(host, userToken, 'DELETE', '/api/onedrive')).status).toBe(204);
    const { store } = await host.services();
    await store
      .container('accounts')
      .item(userTokenCacheId(userId), tenantId)
      .delete()
      .catch(() => {});
  });

  it.each<[string, TokenEndpointFault, string]>([
    ['down (503)', 503, '7'],
    ['throttling (429)', 429, '7'],
    ['refusing our client (invalid_client)', 'invalid_client', '30'],
  ])(
    'Entra %s: 503 + Retry-After, nothing written; reloading the same callback URL connects once Entra is back',
    async (_name, fault, retryAfter) => {
      const { callbackUrl } = await consentToOneDrive(host, ms, userToken, UPN);
      ms.failTokenNext(1, fault, 7);
      expectUnavailable(await loadCallback(callbackUrl), retryAfter);
      expect(ms.stats.failedTokenRequests).toBeGreaterThan(0);
      expect(await storedLink()).toBeUndefined();
      expect(await storedTokens()).toBeUndefined();

      expectConnected(await loadCallback(callbackUrl));
      expect(await storedLink()).toMatchObject({ status: 'connected', account: { homeAccountId: expect.any(String) } });
      expect(await storedTokens()).toMatchObject({ type: 'msal-cache', sealed: expect.stringMatching(/^v1\.test\./) });
      // Once it has connected, the state is spent.
      const replay = await loadCallback(callbackUrl);
      expect(replay.status).toBe(400);
      expect(replay.body.detail).toMatch(/expired or was used/);
    },
  );

  it('Entra not answering at all: 503 once the token request times out; the reload connects', { timeout: 30_000 }, async () => {
    const { callbackUrl } = await consentToOneDrive(host, ms, userToken, UPN);
    ms.failTokenNext(1, 'silent');
    const startedAt = performance.now();
    const silent = await loadCallback(callbackUrl);
    expect(performance.now() - startedAt).toBeLessThan(15_000);
    expectUnavailable(silent, '30');
    expect(await storedLink()).toBeUndefined();
    expect(await storedTokens()).toBeUndefined();
    expectConnected(await loadCallback(callbackUrl));
  });

  it('the state still expires: a reload after its 10 minutes is refused and writes nothing', async () => {
    const { callbackUrl } = await consentToOneDrive(host, ms, userToken, UPN);
    ms.failTokenNext(1, 503, 7);
    expectUnavailable(await loadCallback(callbackUrl), '7');
    host.advanceClock(601);
    const late = await loadCallback(callbackUrl);
    expect(late.status).toBe(400);
    expect(late.body.detail).toMatch(/expired/);
    expect(await storedLink()).toBeUndefined();
  });

  it.each(['Print', 'Scan'])(
    'a file named %s in the drive root: 409 naming it, nothing written; once moved, connecting works',
    async (name) => {
      const upn = `blocked-${name.toLowerCase()}@northwind.example`;
      const bytes = Buffer.from(`the user's own file called ${name}`);
      ms.putFile(upn, name, bytes);
      const { callbackUrl } = await consentToOneDrive(host, ms, userToken, upn);
      const blocked = await loadCallback(callbackUrl);
      expect(blocked.status, JSON.stringify(blocked.body)).toBe(409);
      expect(blocked.headers.get('content-type')).toBe('application/problem+json');
      expect(blocked.body).toMatchObject({
        type: 'tag:roger.cloud,2026:problems/onedrive-folder-blocked',
        status: 409,
        folder: name,
        detail: expect.stringMatching(new RegExp(`file named "${name}".*rename or move that file, then connect OneDrive again`)),
      });
      expect(await storedLink()).toBeUndefined();
      expect(await storedTokens()).toBeUndefined();
      // The user's file is left exactly as it was.
      expect(ms.fileBytes(upn, name)?.equals(bytes)).toBe(true);

      ms.removeItem(upn, name);
      expectConnected(await loadCallback((await consentToOneDrive(host, ms, userToken, upn)).callbackUrl));
      expect(ms.listFolder(upn, '')).toEqual(['Print', 'Scan']);
      expect(await storedLink()).toMatchObject({ status: 'connected' });
    },
  );
});
