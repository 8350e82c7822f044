import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientIp } from '../../shared/http/client-ip.js';
import { enrollPrinter, type EnrolledPrinter } from '../helpers/printer.js';
import { api, createTenant, mobileSignIn, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Login history keeps the address a sign-in came from (when the tenant's policy says so). The
 * client writes X-Forwarded-For as it likes; only what the platform's proxies append can be
 * believed. The local host appends the socket address as App Service's front end does, so a
 * local run trusts one hop (TRUSTED_PROXY_HOPS=1); with Front Door in front there are two.
 */
const FORGED = '203.0.113.66';
const admin: Person = { email: 'ops@forwarded.test', username: 'ops', fullName: 'Otto Ops', password: 'ops-password-12' };
const wes: Person = { email: 'wes@forwarded.test', username: 'wes', fullName: 'Wes West', password: 'wes-password-12', pin: '7391' };

const forwardedFor = (...values: string[]) => {
  const headers = new Headers();
  for (const value of values) headers.append('x-forwarded-for', value);
  return headers;
};

/** A password-grant sign-in that sends its own X-Forwarded-For, as any client can. */
async function signInVia(host: TestHost, forwarded: string, fields: Record<string, string>, bearer?: string) {
  const response = await fetch(`${host.url}/oauth/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-forwarded-for': forwarded,
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
    },
    body: new URLSearchParams(fields).toString(),
  });
  return response.status;
}

const appSignIn = (person: Person, slug: string) => ({
  grant_type: 'password',
  client_id: 'roger-mobile',
  tenant: slug,
  username: person.username,
  password: person.password,
  scope: 'jobs offline_access',
});

describe('defect 10: login history records whatever X-Forwarded-For the client sends', () => {
  describe('clientIp', () => {
    it('takes the entry the trusted proxies appended, never one the client wrote', () => {
      expect(clientIp(forwardedFor(`${FORGED}, 198.51.100.7`), 1)).toBe('198.51.100.7');
      expect(clientIp(forwardedFor('198.51.100.7'), 1)).toBe('198.51.100.7');
      // Front Door appends the client, App Service's front end then appends Front Door.
      expect(clientIp(forwardedFor(`${FORGED}, 198.51.100.7, 192.0.2.10`), 2)).toBe('198.51.100.7');
      // Two header lines are one list, in order.
      expect(clientIp(forwardedFor(FORGED, '198.51.100.7'), 1)).toBe('198.51.100.7');
      expect(clientIp(forwardedFor(` ${FORGED} ,  198.51.100.7 `), 1)).toBe('198.51.100.7');
    });

    it('strips the port App Service adds, for IPv4 and bracketed IPv6', () => {
      expect(clientIp(forwardedFor('198.51.100.7:50123'), 1)).toBe('198.51.100.7');
      expect(clientIp(forwardedFor(`${FORGED}, [2001:db8::7]:443`), 1)).toBe('2001:db8::7');
      expect(clientIp(forwardedFor('[::1]:80'), 1)).toBe('::1');
      expect(clientIp(forwardedFor('[2001:db8::7]'), 1)).toBe('2001:db8::7');
      expect(clientIp(forwardedFor('2001:db8::7'), 1)).toBe('2001:db8::7');
    });

    it('spells each address one way, so a limit keyed by it cannot be sidestepped', () => {
      expect(clientIp(forwardedFor('2001:DB8:0:0:0:0:0:7'), 1)).toBe('2001:db8::7');
      expect(clientIp(forwardedFor('[::FFFF:198.51.100.7]:50123'), 1)).toBe('198.51.100.7');
      expect(clientIp(forwardedFor('::ffff:c633:6407'), 1)).toBe('198.51.100.7');
    });

    it('answers undefined when there is no address to trust', () => {
      expect(clientIp(new Headers(), 1)).toBeUndefined();
      expect(clientIp(forwardedFor(''), 1)).toBeUndefined();
      // Fewer entries than trusted proxies: the request did not come through all of them.
      expect(clientIp(forwardedFor('198.51.100.7'), 2)).toBeUndefined();
      // The trusted entry is not an address: never fall back to another entry.
      for (const entry of ['unknown', 'for=198.51.100.7', '198.51.100.7<b>', '198.51.100', '198.51.100.7:', 'fe80::1%eth0', 'localhost']) {
        expect(clientIp(forwardedFor(`198.51.100.8, ${entry}`), 1), entry).toBeUndefined();
      }
      expect(clientIp(forwardedFor(`${FORGED},`), 1)).toBeUndefined();
    });
  });

  describe('sign-ins', () => {
    let host: TestHost;
    let adminToken: string;
    let printer: EnrolledPrinter;

    beforeAll(async () => {
      host = await startTestHost({ env: oauthEnv });
      await createTenant(host, 'forwarded', admin, { loginHistoryKeepsIp: true });
      adminToken = (await mobileSignIn(host, 'forwarded', admin)).access_token;
      expect((await api(host, adminToken, 'POST', '/api/users', wes)).status).toBe(201);
      printer = await enrollPrinter(host, adminToken, 'Forwarded MFP');
    });
    afterAll(async () => {
      await host?.close();
    });

    /** Wes's login history, newest first, as he reads it after one more (plain) sign-in. */
    const loginsOfWes = async () => {
      const token = (await mobileSignIn(host, 'forwarded', wes)).access_token;
      return (await api(host, token, 'GET', '/api/me/logins')).body.items as { clientId: string; ip?: string }[];
    };

    it('records the address the host was reached from, not the forged first entry: app and printer, success and failure', async () => {
      expect(await signInVia(host, FORGED, appSignIn(wes, 'forwarded'))).toBe(200);
      expect(await signInVia(host, `${FORGED}, 198.51.100.200`, { ...appSignIn(wes, 'forwarded'), password: 'not-the-password-1' })).toBe(
        400,
      );
      const pin = { grant_type: 'password', client_id: 'roger-emb', username: wes.username, password: wes.pin!, scope: 'jobs:submit' };
      expect(await signInVia(host, FORGED, pin, printer.access)).toBe(200);
      // Newest first: the sign-in that read them, the PIN, the wrong password, the app sign-in.
      const logins = (await loginsOfWes()).slice(0, 4);
      expect(logins.map((l) => l.ip)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1']);
      expect(logins.map((l) => l.clientId)).toEqual(['roger-mobile', 'roger-emb', 'roger-mobile', 'roger-mobile']);
    });
  });

  describe('behind Front Door (two trusted proxies)', () => {
    let host: TestHost;

    beforeAll(async () => {
      host = await startTestHost({ env: { ...oauthEnv, TRUSTED_PROXY_HOPS: '2' } });
      await createTenant(host, 'frontdoor', admin, { loginHistoryKeepsIp: true });
      const adminToken = (await mobileSignIn(host, 'frontdoor', admin)).access_token;
      expect((await api(host, adminToken, 'POST', '/api/users', wes)).status).toBe(201);
    });
    afterAll(async () => {
      await host?.close();
    });

    it('records the entry Front Door appended; a request that bypassed it records no address', async () => {
      // The test plays Front Door: it appends the client's address after the client's own list.
      expect(await signInVia(host, `${FORGED}, 198.51.100.7`, appSignIn(wes, 'frontdoor'))).toBe(200);
      // Straight to the app: the host's entry is the only one, and Front Door's is missing.
      const direct = (await mobileSignIn(host, 'frontdoor', wes)).access_token;
      const logins = (await api(host, direct, 'GET', '/api/me/logins')).body.items as { ip?: string }[];
      expect(logins[0]).not.toHaveProperty('ip');
      expect(logins[1]).toMatchObject({ ip: '198.51.100.7' });
    });
  });
});
