import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTenant, mobileSignIn, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { changeUser } from '../../shared/users/admin.js';
import { readUserDoc, statusCounts } from '../races/race-kit.js';

/**
 * Issue 13, defect 9: "a tenant always keeps one admin" must hold when admins act at the same
 * moment — demoting each other, or one erasing the other while being demoted.
 */
const ann: Person = { email: 'ann@keep.test', username: 'ann', fullName: 'Ann Admin', password: 'ann-password-12' };
const bob: Person = { email: 'bob@keep.test', username: 'bob', fullName: 'Bob Admin', password: 'bob-password-12' };
const ROUNDS = 12;

describe('defect 9: "a tenant always keeps one admin" breaks under a race', () => {
  let host: TestHost;
  let tenantId: string;
  const ids: Record<'ann' | 'bob', string> = { ann: '', bob: '' };

  /** Admins of the tenant as stored (not as any API answer says). */
  async function storedAdmins(ofTenant = tenantId): Promise<string[]> {
    const { store } = await host.services();
    const { resources } = await store
      .container('accounts')
      .items.query<string>({
        query: "SELECT VALUE c.id FROM c WHERE c.tenantId = @t AND c.type = 'user' AND c.role = 'admin'",
        parameters: [{ name: '@t', value: ofTenant }],
      })
      .fetchAll();
    return resources;
  }

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
    const created = await createTenant(host, 'keep', ann);
    tenantId = created.id;
    ids.ann = created.adminId;
    const annToken = (await mobileSignIn(host, 'keep', ann)).access_token;
    ids.bob = (await api(host, annToken, 'POST', '/api/users', { ...bob, role: 'admin' })).body.id;
  });
  afterAll(() => host.close());

  it(`two admins demoting each other at once, ${ROUNDS} rounds: exactly one wins each time, one admin is always left`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const [annToken, bobToken] = [
        (await mobileSignIn(host, 'keep', ann)).access_token,
        (await mobileSignIn(host, 'keep', bob)).access_token,
      ];
      const answers = await Promise.all([
        api(host, annToken, 'PATCH', `/api/users/${ids.bob}`, { role: 'user' }),
        api(host, bobToken, 'PATCH', `/api/users/${ids.ann}`, { role: 'user' }),
      ]);
      const admins = await storedAdmins();
      expect(admins, `round ${round}: ${JSON.stringify(statusCounts(answers))}`).toHaveLength(1);
      // The loser is refused as the last admin (409), or, when the winner was quicker, as no
      // longer an admin at all (403: roles are read from the store in every request).
      expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
      expect([403, 409]).toContain(answers.find((a) => a.status !== 200)!.status);
      // The one left makes the other admin again for the next round.
      const survivor = admins[0] === ids.ann ? annToken : bobToken;
      const other = admins[0] === ids.ann ? ids.bob : ids.ann;
      expect((await api(host, survivor, 'PATCH', `/api/users/${other}`, { role: 'admin' })).status).toBe(200);
      expect(await storedAdmins()).toHaveLength(2);
    }
  });

  it('one admin erasing the other while being demoted by them: one admin is always left', async () => {
    const carlo: Person = { email: 'carlo@keep.test', username: 'carlo', fullName: 'Carlo Admin', password: 'carlo-password1' };
    const annToken = (await mobileSignIn(host, 'keep', ann)).access_token;
    const carloId = (await api(host, annToken, 'POST', '/api/users', { ...carlo, role: 'admin' })).body.id as string;
    // Down to two admins: Ann and Carlo (Bob steps down).
    expect((await api(host, annToken, 'PATCH', `/api/users/${ids.bob}`, { role: 'user' })).status).toBe(200);
    const carloToken = (await mobileSignIn(host, 'keep', carlo)).access_token;
    const answers = await Promise.all([
      api(host, annToken, 'DELETE', `/api/users/${carloId}`),
      api(host, carloToken, 'PATCH', `/api/users/${ids.ann}`, { role: 'user' }),
    ]);
    expect(
      answers.every((a) => a.status < 500),
      JSON.stringify(statusCounts(answers)),
    ).toBe(true);
    expect(await storedAdmins()).toHaveLength(1);
  });

  it('a roster that lists someone who is no longer an admin does not let the last real admin go', async () => {
    const gina: Person = { email: 'gina@ghost.test', username: 'gina', fullName: 'Gina Admin', password: 'gina-password-1' };
    const dora: Person = { email: 'dora@ghost.test', username: 'dora', fullName: 'Dora Admin', password: 'dora-password-1' };
    const tenant = await createTenant(host, 'keep-ghost', gina);
    const ginaToken = (await mobileSignIn(host, 'keep-ghost', gina)).access_token;
    const doraId = (await api(host, ginaToken, 'POST', '/api/users', { ...dora, role: 'admin' })).body.id as string;
    // Dora loses the role by a step that never reached the roster (a write cut short, or a
    // request that read her before she was promoted): the roster still names her.
    const { store } = await host.services();
    const { resource: doraDoc } = await store.container('accounts').item(doraId, tenant.id).read();
    await store
      .container('accounts')
      .item(doraId, tenant.id)
      .replace({ ...doraDoc, role: 'user' });
    expect(await storedAdmins(tenant.id)).toEqual([tenant.adminId]);

    const answer = await api(host, ginaToken, 'PATCH', `/api/users/${tenant.adminId}`, { role: 'user' });
    expect(answer.status).toBe(409);
    expect(await storedAdmins(tenant.id)).toEqual([tenant.adminId]);
  });

  it('a demotion that read the user before a promotion is still checked against the roster', async () => {
    const hal: Person = { email: 'hal@stale.test', username: 'hal', fullName: 'Hal Admin', password: 'hal-password-12' };
    const eve: Person = { email: 'eve@stale.test', username: 'eve', fullName: 'Eve Example', password: 'eve-password-12' };
    const tenant = await createTenant(host, 'keep-stale', hal);
    const halToken = (await mobileSignIn(host, 'keep-stale', hal)).access_token;
    const eveId = (await api(host, halToken, 'POST', '/api/users', eve)).body.id as string;
    const staleEve = await readUserDoc(host, tenant.id, eveId); // read as a plain user
    expect((await api(host, halToken, 'PATCH', `/api/users/${eveId}`, { role: 'admin' })).status).toBe(200);
    expect((await api(host, halToken, 'PATCH', `/api/users/${tenant.adminId}`, { role: 'user' })).status).toBe(200); // Eve is the admin now
    const { store } = await host.services();
    await expect(changeUser(store, staleEve, { role: 'user' })).rejects.toThrow(/last admin/);
    expect(await storedAdmins(tenant.id)).toEqual([eveId]);
  });
});
