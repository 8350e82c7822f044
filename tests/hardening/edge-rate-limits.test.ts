import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollPrinter, type EnrolledPrinter } from '../helpers/printer.js';
import { api, createTenant, mobileSignIn, oauthEnv, tokenRequest, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { statusCounts } from '../races/race-kit.js';

/**
 * Issue 13, at the edge: limits per client identity on the public OAuth endpoints — a printer
 * spraying common PINs across every username, and anyone creating device codes without bound.
 */
const admin: Person = { email: 'ann@edge.test', username: 'ann', fullName: 'Ann Admin', password: 'ann-password-12' };
const USERS = 100;
const GUESSES = 1000;
const PRINTER_FAILURE_LIMIT = 30; // the default tenant policy
const COMMON_PINS = ['1234', '0000', '1111', '1212', '7777', '1004', '2000', '4444', '2222', '6969'];

describe('edge: rate limits on the public OAuth endpoints', () => {
  let host: TestHost;
  let adminToken: string;
  let sprayer: EnrolledPrinter;
  let neighbour: EnrolledPrinter;

  const pinAt = (printer: EnrolledPrinter, username: string, pin: string) =>
    tokenRequest(host, { grant_type: 'password', client_id: 'roger-emb', username, password: pin, scope: 'jobs:submit' }, printer.access);

  beforeAll(async () => {
    // The test plays the front ends: two trusted hops, so the address it names is the client's.
    host = await startTestHost({ env: { ...oauthEnv, TRUSTED_PROXY_HOPS: '2' } });
    // Failed sign-ins are counted in fixed 15-minute windows (rate-limit.ts). The server's clock
    // starts this file just after a window begins, so no window boundary (where counts start
    // again) falls among the attempts a test counts, whatever the time of the run.
    host.advanceClock(900 - (Math.floor(Date.now() / 1000) % 900) + 1);
    await createTenant(host, 'edge', admin);
    adminToken = (await mobileSignIn(host, 'edge', admin)).access_token;
    for (let batch = 0; batch < USERS; batch += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          api(host, adminToken, 'POST', '/api/users', {
            email: `user${batch + i}@edge.test`,
            username: `user${batch + i}`,
            fullName: `User ${batch + i}`,
            pin: String(5000 + batch + i),
          }),
        ),
      );
    }
    sprayer = await enrollPrinter(host, adminToken, 'Lobby');
    neighbour = await enrollPrinter(host, adminToken, 'Floor 2');
  }, 60_000);
  afterAll(() => host.close());

  it(`a spray of ${GUESSES} common PINs across ${USERS} usernames from one printer is cut off at the printer's limit`, async () => {
    const answers: { status: number; headers: Headers; body: Record<string, string> }[] = [];
    for (let sent = 0; sent < GUESSES; sent += 50) {
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 50 }, (_, i) => pinAt(sprayer, `user${(sent + i) % USERS}`, COMMON_PINS[Math.floor((sent + i) / USERS)]!)),
        )),
      );
    }
    const counts = statusCounts(answers);
    console.log(`PIN spray from one printer, ${GUESSES} guesses across ${USERS} usernames: ${JSON.stringify(counts)}`);
    expect(counts[200] ?? 0).toBe(0);
    expect(counts[400] ?? 0, 'guesses that were checked').toBeLessThanOrEqual(PRINTER_FAILURE_LIMIT);
    expect(counts[429]).toBe(GUESSES - (counts[400] ?? 0));
    const limited = answers.find((a) => a.status === 429)!;
    expect(limited.body.error).toBe('temporarily_unavailable');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('cache-control')).toBe('no-store');

    // Even the right PIN waits out the window at that printer; another printer is not affected.
    expect((await pinAt(sprayer, 'user7', '5007')).status).toBe(429);
    expect((await pinAt(neighbour, 'user7', '5007')).status).toBe(200);
    host.advanceClock(900);
    try {
      expect((await pinAt(sprayer, 'user7', '5007')).status).toBe(200);
    } finally {
      host.advanceClock(-900);
    }
  }, 60_000);

  it('the tenant can tune the printer limit', async () => {
    expect((await api(host, adminToken, 'PATCH', '/api/tenant', { policy: { printerFailedSignInLimit: 5 } })).status).toBe(200);
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await pinAt(neighbour, `user${i}`, '0000'));
    expect(statusCounts(answers)).toEqual({ 400: 5, 429: 3 });
  });

  it('device authorization from one address is bounded; a printer’s session codes are bounded per printer', async () => {
    const ask = (bearer?: string, scope = 'jobs offline_access', clientId = 'roger-desktop', from = '2001:db8:0:7::1') =>
      fetch(`${host.url}/oauth/device_authorization`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-for': from,
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        },
        body: new URLSearchParams({ client_id: clientId, scope }).toString(),
      });
    const anonymous = [];
    // One IPv6 client: every address of its /64 counts as one.
    for (let sent = 0; sent < 100; sent += 25) {
      anonymous.push(
        ...(await Promise.all(
          Array.from({ length: 25 }, (_, i) => ask(undefined, undefined, undefined, `2001:db8:0:7::${(sent + i).toString(16)}`)),
        )),
      );
    }
    const counts = statusCounts(anonymous);
    console.log(`device authorizations from one address, 100 asked: ${JSON.stringify(counts)}`);
    expect(counts[200]).toBe(60);
    expect(counts[429]).toBe(40);
    expect((await ask(undefined, undefined, undefined, '2001:db8:0:8::1')).status).toBe(200); // another /64
    expect((await ask(undefined, undefined, undefined, '198.51.100.7')).status).toBe(200);
    expect(Number(anonymous.find((a) => a.status === 429)!.headers.get('retry-after'))).toBeGreaterThan(0);

    // The printer authenticated: its own count, not the address's.
    const session = await Promise.all(Array.from({ length: 70 }, () => ask(neighbour.access, 'session', 'roger-emb')));
    expect(statusCounts(session)[200]).toBe(60);
  });
});
