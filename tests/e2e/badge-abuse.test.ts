import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/services.js';
import { spendVerifyTime } from '../../shared/tokens/credential-hash.js';
import { deactivated } from '../../shared/users/activation.js';
import { readUser, updateUser, type UserDoc } from '../../shared/users/users.js';
import { enrolledPrinter, freshTenant, individual, type FreshTenant } from '../helpers/fixtures.js';
import type { EnrolledPrinter } from '../helpers/printer.js';
import { api, lastCosmosRequests, oauthEnv, tokenRequest, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * The badge grant's abuse controls (docs/security.md#badge-sign-in), each held by a test that
 * fails when its rule breaks: an unknown badge costs what a known one does (Cosmos requests,
 * counted from the request log; argon2 work under badge+pin), guessing badges at one printer
 * meets the PIN command's per-printer limit, a disconnected printer signs nobody in, and neither
 * a deactivated nor an erased person signs in with a badge.
 */
const BADGE_GRANT = 'urn:roger:params:oauth:grant-type:badge';
const TOKEN_ROUTE = '/oauth/token';

const admin: Person = { email: 'al@guard.test', username: 'al', fullName: 'Al Admin', password: 'al-password-12' };
const kim: Person = { email: 'kim@guard.test', username: 'kim', fullName: 'Kim Known', password: 'kim-password-1', pin: '4826' };
const dee: Person = { email: 'dee@guard.test', username: 'dee', fullName: 'Dee Gone', password: 'dee-password-1', pin: '5937' };

let host: TestHost;
let services: Services;

beforeAll(async () => {
  host = await startTestHost({ env: oauthEnv });
  services = await host.services();
});
afterAll(() => host?.close());

type Answer = Awaited<ReturnType<typeof tokenRequest>>;
const badgeAt = (printer: { access: string }, fields: Record<string, string>): Promise<Answer> =>
  tokenRequest(host, { grant_type: BADGE_GRANT, client_id: 'roger-emb', ...fields }, printer.access);

/** A tenant with the policy, an admin, Kim and Dee each holding a badge, and one printer. */
async function world(policy: Record<string, unknown>): Promise<{ tenant: FreshTenant; printer: EnrolledPrinter; badges: string[] }> {
  const tenant = await freshTenant(host, 'guard', admin, [individual(kim), individual(dee)], policy);
  const printer = await enrolledPrinter(host, tenant.admin.token, 'Guarded MFP');
  const badges = [`A1${tenant.id.slice(0, 8)}`.toUpperCase(), `B2${tenant.id.slice(0, 8)}`.toUpperCase()];
  for (const [i, member] of tenant.users.entries()) {
    const added = await api(host, tenant.admin.token, 'POST', `/api/users/${member.id}/badges`, { number: badges[i] });
    expect(added.status).toBe(201);
  }
  return { tenant, printer, badges };
}

/** A failed attempt's answer and the Cosmos requests it made. */
async function failedCost(attempt: Promise<Answer>): Promise<{ description: string; requests: number }> {
  const answer = await attempt;
  expect(answer).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  return { description: answer.body.error_description as string, requests: lastCosmosRequests(host, TOKEN_ROUTE) };
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

describe('badge grant abuse controls', () => {
  it('badge+pin: an unknown badge makes the Cosmos requests and the argon2 work of a known badge with a wrong PIN', async () => {
    const { printer, badges } = await world({
      badgeSignIn: 'badge+pin',
      lockoutThreshold: 3,
      lockoutSeconds: 3600,
      printerFailedSignInLimit: 1000,
    });
    const known = () => failedCost(badgeAt(printer, { badge: badges[0]!, pin: '0000' }));
    const unknown = () => failedCost(badgeAt(printer, { badge: 'FFFF0000FFFF', pin: '0000' }));
    await unknown(); // the printer's failure counter is created by its first failure

    // Unlocked, the lock-making failure, and locked: every one the same requests and the same words.
    const costs = async () => {
      const pairs: [Awaited<ReturnType<typeof known>>, Awaited<ReturnType<typeof known>>][] = [];
      for (let i = 0; i < 5; i++) pairs.push([await known(), await unknown()]);
      return pairs;
    };
    let pairs = await costs();
    // A new window of the printer's failure limit may begin between two attempts and cost one a request more: once.
    if (pairs.some(([k, u]) => k.requests !== u.requests)) pairs = await costs();
    for (const [k, u] of pairs) expect(u).toEqual(k);

    // Time: the pair's difference (back to back, who goes first alternating) against one argon2 verify measured here.
    // An unknown badge that skipped the decoy verify would be a whole verify cheaper, every pair.
    const timed = async (attempt: () => Promise<unknown>) => {
      const start = performance.now();
      await attempt();
      return performance.now() - start;
    };
    const differences: number[] = [];
    const verifies: number[] = [];
    for (let i = 0; i < 24; i++) {
      const [k, u] = i % 2 ? [await timed(known), await timed(unknown)] : [await timed(unknown), await timed(known)].reverse();
      differences.push(k! - u!);
      verifies.push(await timed(() => spendVerifyTime('0000')));
    }
    const [difference, verify] = [median(differences), median(verifies)];
    expect(Math.abs(difference), `known minus unknown ${difference.toFixed(1)} ms; one verify ${verify.toFixed(1)} ms`).toBeLessThan(
      verify / 2,
    );
  }, 30_000);

  it('badge alone: an unknown badge costs the Cosmos requests of a deactivated owner’s badge, and of an erased owner’s', async () => {
    const { tenant, printer, badges } = await world({ badgeSignIn: 'badge', printerFailedSignInLimit: 1000 });
    const [, gone] = tenant.users;
    const unknown = () => failedCost(badgeAt(printer, { badge: '0000FFFF0000' }));
    await unknown();

    expect((await badgeAt(printer, { badge: badges[1]! })).status).toBe(200);
    await updateUser(services.store, (await readUser(services.store, tenant.id, gone!.id))!, (user) => deactivated(user, services.now()));
    const deactivatedOwner = await failedCost(badgeAt(printer, { badge: badges[1]! }));
    expect(deactivatedOwner).toEqual(await unknown());

    // Erased, the person and their badges are gone: the number is as unknown as any (and costs the same).
    expect((await api(host, tenant.admin.token, 'DELETE', `/api/users/${gone!.id}`)).status).toBe(204);
    const erasedOwner = await failedCost(badgeAt(printer, { badge: badges[1]! }));
    expect(erasedOwner).toEqual(await unknown());
  });

  it('deactivated and erased people cannot sign in with their badge, nor with their badge and PIN', async () => {
    const { tenant, printer, badges } = await world({ badgeSignIn: 'badge+pin' });
    const [known, gone] = tenant.users;
    const stored = async (id: string) => (await readUser(services.store, tenant.id, id)) as UserDoc;
    expect((await badgeAt(printer, { badge: badges[0]!, pin: kim.pin! })).status).toBe(200);

    await updateUser(services.store, await stored(known!.id), (user) => deactivated(user, services.now()));
    const refused = await badgeAt(printer, { badge: badges[0]!, pin: kim.pin! });
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    // Deactivation counts nothing toward the lock (sign-in.ts): the directory decides when they come back.
    expect((await stored(known!.id)).lockout.failures).toBe(0);

    expect((await api(host, tenant.admin.token, 'DELETE', `/api/users/${gone!.id}`)).status).toBe(204);
    expect(await badgeAt(printer, { badge: badges[1]!, pin: dee.pin! })).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
  });

  it('guessing badges at one printer meets the PIN command’s per-printer limit, counted with failed PINs; another printer is unaffected', async () => {
    const { tenant, printer, badges } = await world({ badgeSignIn: 'badge', printerFailedSignInLimit: 5 });
    const pinAt = (at: { access: string }, username: string, pin: string) =>
      tokenRequest(host, { grant_type: 'password', client_id: 'roger-emb', username, password: pin, scope: 'jobs:submit' }, at.access);
    // Two wrong PINs and three unknown badges: five failures at this printer, its limit.
    for (const username of ['nobody-1', 'nobody-2']) expect((await pinAt(printer, username, '0000')).status).toBe(400);
    for (const guess of ['00000001', '00000002', '00000003']) expect((await badgeAt(printer, { badge: guess })).status).toBe(400);

    const badgeRefused = await badgeAt(printer, { badge: badges[0]! });
    const pinRefused = await pinAt(printer, tenant.users[0]!.person.username, kim.pin!);
    expect(badgeRefused.status).toBe(429);
    expect(badgeRefused.headers.get('retry-after')).toMatch(/^\d+$/);
    // The same answer the PIN command gives, whichever was guessed at.
    expect(badgeRefused.body.error).toBe(pinRefused.body.error);
    expect(pinRefused.status).toBe(429);
    expect(badgeRefused.body.error_description).toMatch(/too many failed sign-ins from this printer/);

    const elsewhere = await enrolledPrinter(host, tenant.admin.token, 'Next door MFP');
    expect((await badgeAt(elsewhere, { badge: badges[0]! })).status).toBe(200);
  });

  it('a disconnected printer cannot use the grant, though its access token is still valid', async () => {
    const { tenant, printer, badges } = await world({ badgeSignIn: 'badge' });
    expect((await badgeAt(printer, { badge: badges[0]! })).status).toBe(200);
    expect((await api(host, tenant.admin.token, 'DELETE', `/api/devices/${printer.deviceId}`)).status).toBe(204);
    const refused = await badgeAt(printer, { badge: badges[0]! });
    expect(refused).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });

  it('answers as RFC 6749 §5.2 says: policy off, another client, no printer, a scope beyond the PIN command’s, a malformed badge', async () => {
    const off = await world({});
    expect(await badgeAt(off.printer, { badge: off.badges[0]! })).toMatchObject({ status: 400, body: { error: 'unauthorized_client' } });

    const { printer, badges } = await world({ badgeSignIn: 'badge' });
    const asMobile = await tokenRequest(host, { grant_type: BADGE_GRANT, client_id: 'roger-mobile', badge: badges[0]! });
    expect(asMobile).toMatchObject({ status: 400, body: { error: 'unauthorized_client' } });
    const noPrinter = await tokenRequest(host, { grant_type: BADGE_GRANT, client_id: 'roger-emb', badge: badges[0]! });
    expect(noPrinter).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(await badgeAt(printer, { badge: badges[0]!, scope: 'jobs:submit jobs:release' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_scope' },
    });
    expect(await badgeAt(printer, { badge: 'no/such badge' })).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(await badgeAt(printer, {})).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect((await badgeAt(printer, { badge: badges[0]!, scope: 'scan' })).body.scope).toBe('scan');

    const metadata = (await (await fetch(`${host.url}/.well-known/oauth-authorization-server`)).json()) as {
      grant_types_supported: string[];
    };
    expect(metadata.grant_types_supported).toContain(BADGE_GRANT);
  });
});
