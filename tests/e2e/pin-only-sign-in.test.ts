import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deactivated } from '../../shared/users/activation.js';
import { lookupHashes } from '../../shared/tokens/lookup-keys.js';
import { claimPin, findPinOwner, PinTaken } from '../../shared/users/pin-index.js';
import { readUser, updateUser } from '../../shared/users/users.js';
import { freshTenant, individual, uniqueName } from '../helpers/fixtures.js';
import { enrollPrinter } from '../helpers/printer.js';
import { api, lastCosmosRequests, oauthEnv, OPERATOR_KEY, tokenRequest, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * PIN-only sign-in (docs/flows.md#pin-only-sign-in, docs/security.md#pin-only-sign-in): the
 * density rule on `pinOnly`, PINs drawn by Roger and kept unique in a keyed-hash index, and the
 * grant at an enrolled printer, through the token endpoint and the real store.
 */
const PIN_GRANT = 'urn:roger:params:oauth:grant-type:pin';
const ann: Person = { email: 'ann@contoso.test', username: 'ann', fullName: 'Ann Admin', password: 'ann-password-12' };
const bob: Person = { email: 'bob@contoso.test', username: 'bob', fullName: 'Bob Builder', password: 'bob-password-12', pin: '4826' };
const cat: Person = { email: 'cat@contoso.test', username: 'cat', fullName: 'Cat Cook', password: 'cat-password-12' };

const BOBS_OWN_PIN = '48260013';
/** The host's one lookup key; a rotation puts NEW_KEY before it (docs/data.md). */
const OLD_KEY = { kid: 'old', key: Buffer.alloc(32, 1).toString('base64') };
const NEW_KEY = { kid: 'new', key: Buffer.alloc(32, 2).toString('base64') };
const subOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub as string;

describe('PIN-only sign-in', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startTestHost({ env: { ...oauthEnv, ROGER_LOOKUP_KEYS: JSON.stringify({ keys: [OLD_KEY] }) } });
  });
  afterAll(() => host?.close());

  /** Ann (admin), Bob (his own PIN, set before pinOnly) and Cat, a printer; pinOnly on at 6 digits. */
  async function pinOnlyTenant(policy: Record<string, unknown> = {}) {
    const tenant = await freshTenant(host, 'pinonly', individual(ann), [individual(bob), individual(cat)]);
    const printer = await enrollPrinter(host, tenant.admin.token, 'MFP hall');
    // Bob chose an 8-digit PIN while PINs were still chosen.
    const chose = await api(host, tenant.admin.token, 'PUT', `/api/users/${tenant.users[0]!.id}/credentials`, { pin: BOBS_OWN_PIN });
    expect(chose.status).toBe(204);
    const on = await api(host, tenant.admin.token, 'PATCH', '/api/tenant', { policy: { pinOnly: true, pinMinLength: 6, ...policy } });
    expect(on.status).toBe(200);
    return { ...tenant, printer, bob: tenant.users[0]!, cat: tenant.users[1]! };
  }

  const pinSignIn = (printer: { access?: string }, pin: string, clientId = 'roger-emb') =>
    tokenRequest(host, { grant_type: PIN_GRANT, client_id: clientId, pin }, printer.access);

  async function newPinFor(adminToken: string, userId: string): Promise<string> {
    const reset = await api(host, adminToken, 'POST', `/api/users/${userId}/pin-reset`);
    expect(reset.status).toBe(200);
    return reset.body.pin as string;
  }

  it('turning pinOnly on is refused when PINs are too short for the tenant, naming the numbers and the length needed', async () => {
    const tenant = await freshTenant(host, 'density', individual(ann), [individual(bob)]);
    // 2 users in 10,000 four-digit PINs is 0.02 %: above a pinDensity of 0.01 %.
    const tight = await api(host, tenant.admin.token, 'PATCH', '/api/tenant', { policy: { pinDensity: 0.0001 } });
    expect(tight.status).toBe(200);
    const refused = await api(host, tenant.admin.token, 'PATCH', '/api/tenant', { policy: { pinOnly: true } });
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.field).toBe('policy.pinOnly');
    expect(refused.body.detail).toContain('2 users');
    expect(refused.body.detail).toContain('4 digits');
    expect(refused.body.detail).toContain('0.02 %');
    expect(refused.body.detail).toContain('pinMinLength to 5');
    expect(refused.body).toMatchObject({ users: 2, length: 4, lengthNeeded: 5 });
    expect((await api(host, tenant.admin.token, 'GET', '/api/tenant')).body.policy.pinOnly).toBe(false);

    // With the length needed in the same change it is accepted; shortening PINs afterwards is refused the same way.
    const accepted = await api(host, tenant.admin.token, 'PATCH', '/api/tenant', { policy: { pinOnly: true, pinMinLength: 5 } });
    expect(accepted.status).toBe(200);
    const shorter = await api(host, tenant.admin.token, 'PATCH', '/api/tenant', { policy: { pinMinLength: 4 } });
    expect(shorter.status).toBe(409);
    expect(shorter.body.field).toBe('policy.pinOnly');
  });

  it('the operator may seed pinOnly on a new tenant only with PINs long enough for it', async () => {
    const seeded = (policy: Record<string, unknown>) =>
      fetch(`${host.url}/api/tenants`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-operator-key': OPERATOR_KEY },
        body: JSON.stringify({ slug: uniqueName('seeded'), name: 'Seeded Ltd', admin: individual(ann), policy }),
      });
    const refused = await seeded({ pinOnly: true, pinDensity: 0.00001 });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { field: string }).field).toBe('policy.pinOnly');
    expect((await seeded({ pinOnly: true, pinMinLength: 6 })).status).toBe(201);
  });

  it('a PIN Roger draws signs its holder in at the printer without a username; a wrong or old PIN does not', async () => {
    const tenant = await pinOnlyTenant();
    const pin = await newPinFor(tenant.admin.token, tenant.bob.id);
    expect(pin).toMatch(/^[0-9]{6}$/);

    const signedIn = await pinSignIn(tenant.printer, pin);
    expect(signedIn.status).toBe(200);
    expect(subOf(signedIn.body.access_token)).toBe(tenant.bob.id);
    expect(signedIn.body.scope).toBe('jobs:submit scan');
    expect(signedIn.body.refresh_token).toBeUndefined();
    // The session token is the PIN command's: it reaches the user's own jobs at that printer.
    expect((await api(host, signedIn.body.access_token, 'GET', '/api/jobs')).status).toBe(200);

    // Bob's own PIN from before pinOnly is not in the index: it does not sign in alone.
    expect((await pinSignIn(tenant.printer, BOBS_OWN_PIN)).body.error).toBe('invalid_grant');
    // A new PIN replaces the old one in the index.
    const next = await newPinFor(tenant.admin.token, tenant.bob.id);
    if (next !== pin) expect((await pinSignIn(tenant.printer, pin)).body.error).toBe('invalid_grant');
    expect(subOf((await pinSignIn(tenant.printer, next)).body.access_token)).toBe(tenant.bob.id);

    // A printer disconnected a moment ago signs nobody in, though its access token is still valid.
    expect((await api(host, tenant.admin.token, 'DELETE', `/api/devices/${tenant.printer.deviceId}`)).status).toBe(204);
    const disconnected = await pinSignIn(tenant.printer, next);
    expect(disconnected.status).toBe(401);
    expect(disconnected.body.error).toBe('invalid_client');
  });

  it('under pinOnly nobody chooses a PIN: a chosen one is refused, and leaving it out draws one', async () => {
    const tenant = await pinOnlyTenant();
    const chosen = { pin: '13579246' };
    const created = await api(host, tenant.admin.token, 'POST', '/api/users', { ...individual(cat), ...chosen });
    expect(created.status).toBe(400);
    expect(created.body.detail).toContain('drawn by Roger');
    expect((await api(host, tenant.admin.token, 'PUT', `/api/users/${tenant.cat.id}/credentials`, chosen)).status).toBe(400);
    const own = await api(host, tenant.cat.token, 'PUT', '/api/me/pin', { current: tenant.cat.person.password, ...chosen });
    expect(own.status).toBe(400);

    const drawn = await api(host, tenant.cat.token, 'PUT', '/api/me/pin', { current: tenant.cat.person.password });
    expect(drawn.status).toBe(200);
    expect(drawn.body.pin).toMatch(/^[0-9]{6}$/);
    expect(subOf((await pinSignIn(tenant.printer, drawn.body.pin)).body.access_token)).toBe(tenant.cat.id);
  });

  it('the grant is for enrolled printers of tenants with pinOnly on', async () => {
    const tenant = await freshTenant(host, 'pinoff', individual(ann));
    const printer = await enrollPrinter(host, tenant.admin.token, 'MFP off');
    const off = await pinSignIn(printer, '123456');
    expect(off.status).toBe(400);
    expect(off.body.error).toBe('unauthorized_client');
    expect((await pinSignIn({}, '123456', 'roger-mobile')).body.error).toBe('unauthorized_client');
    expect((await pinSignIn({}, '123456')).status).toBe(401);
    expect((await pinSignIn(printer, '')).body.error).toBe('invalid_request');
  });

  it('a PIN nobody holds costs the store what a refused holder costs; deactivated and erased holders are refused', async () => {
    const tenant = await pinOnlyTenant();
    const pin = await newPinFor(tenant.admin.token, tenant.cat.id);
    const services = await host.services();
    const user = await readUser(services.store, tenant.id, tenant.cat.id);
    await updateUser(services.store, user!, (current) => deactivated(current, new Date()));

    const nobody = pin === '999999' ? '999998' : '999999';
    const costs: Record<string, number[]> = { holder: [], nobody: [] };
    for (let round = 0; round < 2; round += 1) {
      for (const [who, tried] of [
        ['nobody', nobody],
        ['holder', pin],
      ] as const) {
        expect((await pinSignIn(tenant.printer, tried)).body.error).toBe('invalid_grant');
        costs[who]!.push(lastCosmosRequests(host, '/oauth/token'));
      }
    }
    // After the host's first request of the kind (a cold read), the same requests each time: 5 measured (one lookup key).
    expect(new Set([...costs.holder!, ...costs.nobody!.slice(1)]).size).toBe(1);
    // Erased: the index entry goes with the user, and the PIN signs nobody in.
    expect((await api(host, tenant.admin.token, 'DELETE', `/api/users/${tenant.cat.id}`)).status).toBe(204);
    const { resources } = await services.store
      .container('accounts')
      .items.query({
        query: "SELECT c.id FROM c WHERE c.type = 'pin-index' AND c.userId = @userId",
        parameters: [{ name: '@userId', value: tenant.cat.id }],
      })
      .fetchAll();
    expect(resources).toEqual([]);
    expect((await pinSignIn(tenant.printer, pin)).body.error).toBe('invalid_grant');
  });

  it('a locked holder is refused with the right PIN; guessing at one printer ends in its failure limit', async () => {
    const tenant = await pinOnlyTenant({ printerFailedSignInLimit: 5 });
    const pin = await newPinFor(tenant.admin.token, tenant.bob.id);
    const services = await host.services();
    const bobNow = await readUser(services.store, tenant.id, tenant.bob.id);
    const until = new Date(Date.now() + 3_600_000).toISOString();
    await updateUser(services.store, bobNow!, (current) => ({ ...current, lockout: { failures: 0, locks: 1, lockedUntil: until } }));
    expect((await pinSignIn(tenant.printer, pin)).body.error).toBe('invalid_grant');

    // Four more wrong PINs (five failures in all), then the printer must wait, whatever is typed.
    for (const guess of ['100001', '100002', '100003', '100004']) expect((await pinSignIn(tenant.printer, guess)).status).toBe(400);
    const limited = await pinSignIn(tenant.printer, '100005');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBeTruthy();
  });

  it('two users claiming one PIN at the same moment: never both', async () => {
    const tenant = await freshTenant(host, 'pinrace', individual(ann));
    const services = await host.services();
    for (let round = 0; round < 5; round += 1) {
      const pin = `77${round}1234`;
      const outcomes = await Promise.allSettled(
        ['a', 'b', 'c'].map((who) => claimPin(services, tenant.id, `${who}${round}`.padEnd(32, '0'), pin)),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(PinTaken);
    }
    // The same user claiming their own PIN again is no conflict.
    const owner = 'd'.padEnd(32, '0');
    await claimPin(services, tenant.id, owner, '55501234');
    await expect(claimPin(services, tenant.id, owner, '55501234')).resolves.toMatch(/^pin:/);
  });

  it('with pin not among allowedLoginMethods: the grant refuses, and pinOnly cannot be turned on', async () => {
    const tenant = await pinOnlyTenant();
    const pin = await newPinFor(tenant.admin.token, tenant.bob.id);
    const noPins = await api(host, tenant.admin.token, 'PATCH', '/api/tenant', { policy: { allowedLoginMethods: ['qr', 'password'] } });
    expect(noPins.status).toBe(409);
    expect(noPins.body.field).toBe('policy.pinOnly');
    const off = await api(host, tenant.admin.token, 'PATCH', '/api/tenant', {
      policy: { pinOnly: false, allowedLoginMethods: ['qr', 'password'] },
    });
    expect(off.status).toBe(200);
    const on = await api(host, tenant.admin.token, 'PATCH', '/api/tenant', { policy: { pinOnly: true } });
    expect(on.status).toBe(409);
    expect(on.body.field).toBe('policy.pinOnly');
    // A tenant stored with pinOnly on and PINs not allowed (before this rule): the grant refuses too.
    const services = await host.services();
    const container = services.store.container('tenants');
    const { resource } = await container.item(tenant.id, tenant.id).read();
    await container.item(tenant.id, tenant.id).replace({ ...resource, policy: { ...resource.policy, pinOnly: true } });
    const refused = await pinSignIn(tenant.printer, pin);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('unauthorized_client');
  });

  it('a PIN reset whose old entry cannot be dropped still answers the PIN, audited, and the PIN signs in', async () => {
    const tenant = await pinOnlyTenant();
    const services = await host.services();
    const bobNow = await readUser(services.store, tenant.id, tenant.bob.id);
    // An entry id the store refuses to delete (not a 404): the drop fails after the new PIN is written.
    await updateUser(services.store, bobNow!, (current) => ({ ...current, pinIndexId: 'pin:bad/entry' }));
    const reset = await api(host, tenant.admin.token, 'POST', `/api/users/${tenant.bob.id}/pin-reset`);
    expect(reset.status).toBe(200);
    expect(subOf((await pinSignIn(tenant.printer, reset.body.pin)).body.access_token)).toBe(tenant.bob.id);
    const audit = JSON.stringify((await api(host, tenant.admin.token, 'GET', '/api/audit')).body);
    expect(audit).toContain('user.pin-reset');
  });

  it('after a key rotation the lookup writes nothing; the entry moves to the new key only after a successful sign-in, in one batch', async () => {
    const tenant = await pinOnlyTenant();
    const services = await host.services();
    const rotated = { ...services, config: { ...services.config, lookupKeys: { keys: [NEW_KEY, OLD_KEY] } } };
    const accounts = services.store.container('accounts');
    const entryOf = async (key: typeof OLD_KEY, pin: string) => {
      const { hash } = lookupHashes({ lookupKeys: { keys: [key] } }, 'pin', tenant.id, pin)[0]!;
      return (await accounts.item(`pin:${key.kid}:${hash}`, tenant.id).read()).resource as { id: string } | undefined;
    };

    const pin = await newPinFor(tenant.admin.token, tenant.bob.id);
    const old = await entryOf(OLD_KEY, pin);
    expect(old).toBeDefined();
    // The lookup alone (a held PIN, right or wrong for its holder) moves nothing: no oracle in store requests.
    const owner = await findPinOwner(rotated, tenant.id, pin);
    expect(owner?.userId).toBe(tenant.bob.id);
    expect(await entryOf(NEW_KEY, pin)).toBeUndefined();
    expect(await entryOf(OLD_KEY, pin)).toBeDefined();
    // After the sign-in succeeded: the entry under the new key, the old gone, the user item naming the new one.
    await owner!.rekey();
    const moved = await entryOf(NEW_KEY, pin);
    expect(moved).toBeDefined();
    expect(await entryOf(OLD_KEY, pin)).toBeUndefined();
    expect((await readUser(services.store, tenant.id, tenant.bob.id))!.pinIndexId).toBe(moved!.id);

    // An entry removed between the lookup and the move is not brought back under the new key.
    const catPin = await newPinFor(tenant.admin.token, tenant.cat.id);
    const catOwner = await findPinOwner(rotated, tenant.id, catPin);
    await accounts.item((await entryOf(OLD_KEY, catPin))!.id, tenant.id).delete();
    await catOwner!.rekey();
    expect(await entryOf(NEW_KEY, catPin)).toBeUndefined();
  });

  it('a chosen PIN (pinOnly off) drops the entry of the drawn PIN it replaces, and the user item names none', async () => {
    const tenant = await pinOnlyTenant();
    const pin = await newPinFor(tenant.admin.token, tenant.bob.id);
    const services = await host.services();
    const entry = (await readUser(services.store, tenant.id, tenant.bob.id))!.pinIndexId!;
    expect((await services.store.container('accounts').item(entry, tenant.id).read()).resource).toBeDefined();
    expect((await api(host, tenant.admin.token, 'PATCH', '/api/tenant', { policy: { pinOnly: false } })).status).toBe(200);
    const chose = await api(host, tenant.admin.token, 'PUT', `/api/users/${tenant.bob.id}/credentials`, { pin: '31415926' });
    expect(chose.status).toBe(204);
    expect((await readUser(services.store, tenant.id, tenant.bob.id))!.pinIndexId).toBeUndefined();
    expect((await services.store.container('accounts').item(entry, tenant.id).read()).resource).toBeUndefined();
    expect((await api(host, tenant.admin.token, 'PATCH', '/api/tenant', { policy: { pinOnly: true } })).status).toBe(200);
    expect((await pinSignIn(tenant.printer, pin)).body.error).toBe('invalid_grant');
  });
});
