import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauthDefaults } from '../../shared/oauth/defaults.js';
import { individual, uniqueName } from '../helpers/fixtures.js';
import { OPERATOR_KEY, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * "Sign in with Microsoft" on our sign-in page (functions/authorize-page.ts) stores a pending
 * sign-in for every press of the button, and anyone can fetch a page and press it in a loop:
 * the starts are counted per client address (docs/security.md#rate-limits), and past the limit
 * the page says so (429, Retry-After, in the browser's language) without storing anything.
 */
const alice: Person = { email: 'alice@contoso.test', username: 'alice', fullName: 'Alice Admin', password: 'alice-password-1' };
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

let host: TestHost;
let slug: string;

beforeAll(async () => {
  // The test plays the front ends: two trusted hops, so the address it names is the client's.
  host = await startTestHost({ env: { ...oauthEnv, TRUSTED_PROXY_HOPS: '2' } });
  slug = uniqueName('startlimit');
  const created = await fetch(`${host.url}/api/tenants`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-operator-key': OPERATOR_KEY },
    body: JSON.stringify({
      slug,
      name: slug,
      admin: individual(alice),
      bindEntraOnFirstAdminSignIn: true,
      policy: { signInMethods: ['microsoft', 'password'] },
    }),
  });
  expect(created.status, await created.clone().text()).toBe(201);
});
afterAll(() => host?.close());

const hidden = (html: string, name: string) => new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html)![1]!;

/** Steps 1 and 2 of the page from one address: what the Microsoft button posts. */
async function microsoftButton(ip: string, language = 'en') {
  const headers = { 'x-forwarded-for': ip, 'accept-language': language };
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: 'roger-desktop',
    redirect_uri: 'http://127.0.0.1:53682/callback',
    scope: 'jobs offline_access',
    state: 's',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
  });
  const start = await fetch(`${host.url}/oauth/authorize?${query}`, { headers });
  const cookie = start.headers.getSetCookie()[0]!.split(';')[0]!;
  const step1 = await start.text();
  const post = async (path: string, fields: Record<string, string>) => {
    const response = await fetch(`${host.url}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...headers, cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    return { status: response.status, headers: response.headers, html: await response.text() };
  };
  const step2 = await post('/oauth/authorize', { csrf: hidden(step1, 'csrf'), ticket: hidden(step1, 'ticket'), account: slug });
  expect(step2.html).toContain('action="/oauth/authorize/microsoft"');
  const fields = { csrf: hidden(step2.html, 'csrf'), ticket: hidden(step2.html, 'ticket') };
  return () => post('/oauth/authorize/microsoft', fields);
}

describe('Sign in with Microsoft: starts per address', () => {
  it('past the limit: 429 with Retry-After, in the page’s language, nothing stored; another address is not affected', async () => {
    const { limit } = oauthDefaults.limits.addressMicrosoftSignInStarts;
    const press = await microsoftButton('203.0.113.77', 'fr');
    for (let i = 0; i < limit; i++) {
      const onward = await press();
      expect(onward.status, onward.html).toBe(303);
    }
    const refused = await press();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('location')).toBeNull();
    expect(refused.headers.get('set-cookie') ?? '').not.toContain('roger_ms_signin');
    expect(refused.html).toContain('lang="fr"');
    expect(refused.html).toContain('Trop de connexions');

    const elsewhere = await (await microsoftButton('198.51.100.9'))();
    expect(elsewhere.status).toBe(303);
  });
});
