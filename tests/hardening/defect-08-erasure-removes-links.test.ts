import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobPartition } from '../../shared/jobs/jobs.js';
import { mergeIntoUserTokenCache, userTokenCacheId } from '../../shared/microsoft/token-cache.js';
import { linkId } from '../../shared/onedrive/links.js';
import { createTokenCipher, generatedTokenKeys } from '../../shared/onedrive/token-cipher.js';
import { writeLinkFixture } from '../helpers/onedrive.js';
import { api, createTenant, mobileSignIn, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Issue 13, defect 8 (the erasure half): `DELETE /api/users/{id}` did nothing once the user item
 * was gone, so whatever a racing request wrote under the id after the erasure — a OneDrive link
 * holding a sealed Microsoft refresh token, a job — stayed for ever. Erasure now looks for
 * everything keyed by the id, with or without the user item; it stays idempotent and is
 * audited only when it erased something.
 */
const SLUG = 'leftovers';
const admin: Person = { email: 'ann@leftovers.test', username: 'ann', fullName: 'Ann Admin', password: 'ann-password-12' };
const otto: Person = { email: 'otto@leftovers.test', username: 'otto', fullName: 'Otto Gone', password: 'otto-password-1' };

describe('defect 8: erasure must remove links even when the user item is already gone', () => {
  let host: TestHost;
  let tenantId: string;
  let adminToken: string;

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
    tenantId = (await createTenant(host, SLUG, admin)).id;
    adminToken = (await mobileSignIn(host, SLUG, admin)).access_token;
  });
  afterAll(() => host?.close());

  const erasures = async () =>
    ((await api(host, adminToken, 'GET', '/api/audit')).body.items as { action: string; details?: Record<string, number> }[]).filter(
      (r) => r.action === 'user.erased',
    );

  it('a OneDrive link and its Microsoft tokens (and a job, a scan profile entry) written under an erased id are removed by DELETE again: 204, audited once', async () => {
    const created = await api(host, adminToken, 'POST', '/api/users', otto);
    expect(created.status).toBe(201);
    const ottoId = created.body.id as string;
    expect((await api(host, adminToken, 'DELETE', `/api/users/${ottoId}`)).status).toBe(204);
    expect(await erasures()).toHaveLength(1);

    // What requests racing the erasure could leave behind under the id (a OneDrive callback
    // finishing late, a job registered with a still-valid token), written as they would be.
    const { store } = await host.services();
    await writeLinkFixture(store, tenantId, ottoId);
    // The user's sealed MSAL cache, where the callback puts the Microsoft tokens it redeemed.
    await mergeIntoUserTokenCache(store, createTokenCipher(generatedTokenKeys()), { tenantId, userId: ottoId }, '{}', new Date());
    const pk = jobPartition(tenantId, ottoId);
    const time = new Date().toISOString();
    await store.container('jobs').items.create({
      id: 'leftover-job',
      pk,
      type: 'job',
      tenantId,
      userId: ottoId,
      userEmail: otto.email,
      username: otto.username,
      fileName: 'late.pdf',
      size: 1,
      options: {},
      state: 'registered',
      createdAt: time,
      updatedAt: time,
      expiresAt: new Date(Date.now() + 86400_000).toISOString(),
      ttl: 86400,
    });
    const profile = await api(host, adminToken, 'POST', '/api/scan-profiles', {
      name: 'For Otto',
      format: 'pdf',
      resolution: 300,
      color: 'color',
      duplex: false,
      roles: [],
      userIds: [ottoId],
    });
    expect(profile.status).toBe(201);

    expect((await api(host, adminToken, 'DELETE', `/api/users/${ottoId}`)).status).toBe(204);
    const { resource: link } = await store.container('accounts').item(linkId(ottoId), tenantId).read();
    expect(link).toBeUndefined();
    expect((await store.container('accounts').item(userTokenCacheId(ottoId), tenantId).read()).resource).toBeUndefined();
    const { resources: jobs } = await store
      .container('jobs')
      .items.query({ query: 'SELECT * FROM c WHERE c.pk = @pk', parameters: [{ name: '@pk', value: pk }] })
      .fetchAll();
    expect(jobs).toEqual([]);
    expect((await api(host, adminToken, 'GET', `/api/scan-profiles/${profile.body.id}`)).body.userIds).toEqual([]);
    const audited = await erasures();
    expect(audited).toHaveLength(2);
    expect(audited[0]!.details).toMatchObject({ onedriveLinks: 1, jobs: 1, scanProfiles: 1 });

    // Still idempotent, and nothing left to erase is not audited.
    expect((await api(host, adminToken, 'DELETE', `/api/users/${ottoId}`)).status).toBe(204);
    expect(await erasures()).toHaveLength(2);
  });
});
