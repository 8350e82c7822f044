import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkId, type ConnectStateDoc } from '../../shared/onedrive/links.js';
import { withoutSystemProperties } from '../../shared/store/system-properties.js';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { consentToOneDrive, loadCallback, startHostWithMicrosoft } from '../helpers/onedrive.js';
import { api, createTenant, mobileSignIn, type Person } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';

/**
 * Issue 13, defect 8 (the connecting side): an erased user's access token, still valid for the
 * rest of its 20 minutes, could connect OneDrive again and leave a sealed Microsoft refresh
 * token under an id that nothing would ever erase. Connecting and the callback now need a user
 * that exists: the connect answers 401 invalid_token, the callback writes no link and leaves no
 * tokens in the user's MSAL cache.
 */
const admin: Person = { email: 'ada@tailspin.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-12' };

describe('defect 8: an erased user cannot connect OneDrive', () => {
  let ms: LocalMicrosoft;
  let host: TestHost;
  let tenantId: string;
  let adminToken: string;

  /** A user of their own, signed in on the phone. */
  async function newUser(username: string) {
    const person: Person = {
      email: `${username}@tailspin.test`,
      username,
      fullName: `${username} User`,
      password: `${username}-password-12`,
    };
    const id: string = (await api(host, adminToken, 'POST', '/api/users', person)).body.id;
    return { id, upn: `${username}@tailspin.example`, token: (await mobileSignIn(host, 'tailspin', person)).access_token };
  }

  async function erase(userId: string) {
    expect((await api(host, adminToken, 'DELETE', `/api/users/${userId}`)).status).toBe(204);
  }

  /** Every item of `type` in `container` that names the user, found by query, not only by its expected id. */
  async function itemsNaming(container: 'accounts' | 'deviceCodes', type: string, userId: string) {
    const { store } = await host.services();
    const { resources } = await store
      .container(container)
      .items.query({
        query: 'SELECT * FROM c WHERE c.type = @type AND c.userId = @userId',
        parameters: [
          { name: '@type', value: type },
          { name: '@userId', value: userId },
        ],
      })
      .fetchAll();
    return resources;
  }

  async function expectNoLink(userId: string) {
    const { store } = await host.services();
    expect((await store.container('accounts').item(linkId(userId), tenantId).read()).resource).toBeUndefined();
    expect(await itemsNaming('accounts', 'onedrive-link', userId)).toEqual([]);
    // Nor the Microsoft tokens the callback redeemed: the user's sealed MSAL cache.
    expect(await itemsNaming('accounts', 'msal-cache', userId)).toEqual([]);
  }

  beforeAll(async () => {
    ({ ms, host } = await startHostWithMicrosoft());
    tenantId = (await createTenant(host, 'tailspin', admin)).id;
    adminToken = (await mobileSignIn(host, 'tailspin', admin)).access_token;
  });
  afterAll(async () => {
    await host?.close();
  });

  it('connect with the erased user’s still-valid token: 401 invalid_token, no pending consent written', async () => {
    const eve = await newUser('eve');
    await erase(eve.id);
    // The token itself is still valid (a signature and 20 minutes): only the user item says she is gone.
    const refused = await api(host, eve.token, 'GET', '/api/onedrive/connect');
    expect(refused.status, JSON.stringify(refused.body)).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="roger", error="invalid_token"');
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.body).toMatchObject({ type: 'tag:roger.cloud,2026:problems/unauthorized', status: 401 });
    expect(refused.body).not.toHaveProperty('authorizationUrl');
    expect(await itemsNaming('deviceCodes', 'onedrive-connect', eve.id)).toEqual([]);
    await expectNoLink(eve.id);
  });

  it('a callback that began before the erasure and finishes after it is refused and writes no link', async () => {
    const finn = await newUser('finn');
    const { callbackUrl } = await consentToOneDrive(host, ms, finn.token, finn.upn);
    // Graph holds the callback's first folder request while the admin erases the user.
    const slowedBefore = ms.stats.slowed;
    ms.slowNext(1, 2_500);
    const callback = loadCallback(callbackUrl);
    await expect.poll(() => ms.stats.slowed, { timeout: 5_000, interval: 20 }).toBe(slowedBefore + 1);
    await erase(finn.id);
    const answer = await callback;
    expect(answer.status, JSON.stringify(answer.body)).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.headers.get('content-type')).toBe('application/problem+json');
    await expectNoLink(finn.id);
  });

  it('a callback whose pending consent outlived the erasure (written as the erasure swept) writes no link, or takes it back', async () => {
    const gus = await newUser('gus');
    const { callbackUrl } = await consentToOneDrive(host, ms, gus.token, gus.upn);
    const [pending] = (await itemsNaming('deviceCodes', 'onedrive-connect', gus.id)) as ConnectStateDoc[];
    expect(pending).toBeDefined();
    await erase(gus.id);
    // The connect's write landed just after the erasure's sweep of pending consents.
    const { store } = await host.services();
    await store.container('deviceCodes').items.create(withoutSystemProperties(pending!));

    const answer = await loadCallback(callbackUrl);
    expect(answer.status, JSON.stringify(answer.body)).toBe(403);
    expect(answer.body).toMatchObject({
      type: 'tag:roger.cloud,2026:problems/forbidden',
      detail: expect.stringMatching(/no longer exists/),
    });
    await expectNoLink(gus.id);
    expect(await itemsNaming('deviceCodes', 'onedrive-connect', gus.id)).toEqual([]);
  });
});
