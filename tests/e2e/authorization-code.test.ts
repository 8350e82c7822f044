import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeAuthorization } from '../../shared/oauth/authorization-request.js';
import { freshTenant, individual, uniqueName, type FreshTenant } from '../helpers/fixtures.js';
import { api, OPERATOR_KEY, oauthEnv, tokenRequest, type Person } from '../helpers/roger.js';
import { counted, recordTelemetry } from '../helpers/telemetry.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { metricNames } from '../../shared/telemetry/metric-names.js';

/**
 * The authorization code grant with PKCE through HTTP (docs/flows.md, the authorization code
 * grant): the sign-in page's steps as a browser without JavaScript sends them (cookies by hand),
 * then the token endpoint; and each attack of issue 16 that concerns the endpoint: missing or
 * plain PKCE, a wrong verifier, a redirect mismatch, a replayed, expired or borrowed code, login
 * CSRF, and a user erased between sign-in and exchange.
 */
const alice: Person = { email: 'alice@contoso.test', username: 'alice', fullName: 'Alice Admin', password: 'alice-password-1' };
const bob: Person = { email: 'bob@contoso.test', username: 'bob', fullName: 'Bob User', password: 'bob-password-1' };

const noLog = { info: () => {}, warn: () => {}, error: () => {} };
const DESKTOP_REDIRECT = 'http://127.0.0.1:53682/callback';
const MOBILE_REDIRECT = 'cloud.roger.mobile:/oauth2redirect';

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A browser's cookie jar for this host, as much of one as the page needs. */
class Browser {
  private cookies = new Map<string, string>();
  constructor(
    private readonly host: TestHost,
    readonly language = 'en',
  ) {}

  cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  }

  async get(path: string) {
    const response = await fetch(`${this.host.url}${path}`, {
      redirect: 'manual',
      headers: { cookie: this.cookieHeader(), 'accept-language': this.language },
    });
    this.remember(response);
    return { status: response.status, headers: response.headers, html: await response.text() };
  }

  async post(path: string, fields: Record<string, string>, cookie = this.cookieHeader()) {
    const response = await fetch(`${this.host.url}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, 'accept-language': this.language },
      body: new URLSearchParams(fields).toString(),
    });
    this.remember(response);
    return { status: response.status, headers: response.headers, html: await response.text() };
  }
}

const hidden = (html: string, name: string) => {
  const match = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html);
  if (!match) throw new Error(`no hidden ${name} in ${html}`);
  return match[1]!.replace(/&amp;/g, '&');
};

function authorizeQuery(fields: Record<string, string | undefined>) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) query.set(k, v);
  return `/oauth/authorize?${query}`;
}

interface Flow {
  clientId?: string;
  redirectUri?: string;
  scope?: string;
  tenant: string;
  person: Person;
}

describe('the authorization code grant with PKCE', () => {
  let host: TestHost;
  let world: FreshTenant;
  let recorder: ReturnType<typeof recordTelemetry>;

  beforeAll(async () => {
    recorder = recordTelemetry();
    host = await startTestHost({ env: oauthEnv, telemetry: recorder.telemetry });
    world = await freshTenant(host, 'authz', individual(alice), [individual(bob)]);
  });
  afterAll(async () => {
    await host?.close();
    await recorder?.shutdown();
  });

  async function operatorCreatesTenant(body: Record<string, unknown>) {
    const response = await fetch(`${host.url}/api/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-operator-key': OPERATOR_KEY },
      body: JSON.stringify(body),
    });
    expect(response.status, await response.clone().text()).toBe(201);
  }

  /** Steps 1–3 of the page: returns the redirect it ends with, and the PKCE pair. */
  async function signInThroughPage(flow: Flow, browser = new Browser(host)) {
    const { verifier, challenge } = pkce();
    const state = randomBytes(8).toString('hex');
    const redirectUri = flow.redirectUri ?? DESKTOP_REDIRECT;
    const start = await browser.get(
      authorizeQuery({
        response_type: 'code',
        client_id: flow.clientId ?? 'roger-desktop',
        redirect_uri: redirectUri,
        scope: flow.scope ?? 'jobs offline_access',
        state,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      }),
    );
    expect(start.status, start.html).toBe(200);
    const step2 = await browser.post('/oauth/authorize', {
      csrf: hidden(start.html, 'csrf'),
      ticket: hidden(start.html, 'ticket'),
      account: flow.tenant,
    });
    expect(step2.status, step2.html).toBe(200);
    const done = await browser.post('/oauth/authorize/password', {
      csrf: hidden(step2.html, 'csrf'),
      ticket: hidden(step2.html, 'ticket'),
      username: flow.person.username,
      password: flow.person.password,
    });
    return { done, verifier, state, redirectUri, step2, browser };
  }

  async function codeFor(flow: Flow) {
    const result = await signInThroughPage(flow);
    expect(result.done.status, result.done.html).toBe(303);
    const location = new URL(result.done.headers.get('location')!);
    expect(location.searchParams.get('state')).toBe(result.state);
    expect(location.searchParams.get('iss')).toBe(host.url);
    return { ...result, code: location.searchParams.get('code')!, location };
  }

  const exchange = (fields: { code: string; verifier?: string; redirectUri: string; clientId?: string }) =>
    tokenRequest(host, {
      grant_type: 'authorization_code',
      client_id: fields.clientId ?? 'roger-desktop',
      code: fields.code,
      redirect_uri: fields.redirectUri,
      ...(fields.verifier ? { code_verifier: fields.verifier } : {}),
    });

  it('signs in on the page, returns a code with state and iss, and the code gives tokens that work and a rotating refresh token', async () => {
    const bobMember = world.users[0]!;
    const { code, verifier, redirectUri, location } = await codeFor({ tenant: world.slug, person: bobMember.person });
    expect(location.origin + location.pathname).toBe(DESKTOP_REDIRECT);
    const tokens = await exchange({ code, verifier, redirectUri });
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    expect(tokens.body.scope).toBe('jobs offline_access');
    const me = await api(host, tokens.body.access_token, 'GET', '/api/me');
    expect(me.status).toBe(200);
    expect(me.body.user.id).toBe(bobMember.id);

    const first = await tokenRequest(host, {
      grant_type: 'refresh_token',
      client_id: 'roger-desktop',
      refresh_token: tokens.body.refresh_token,
    });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(tokens.body.refresh_token);
    const again = await tokenRequest(host, {
      grant_type: 'refresh_token',
      client_id: 'roger-desktop',
      refresh_token: tokens.body.refresh_token,
    });
    expect(again.body.error).toBe('invalid_grant');
  });

  it('issues no refresh token without offline_access, and the role in the token is the one stored at the exchange', async () => {
    const admin = world.admin;
    const { code, verifier, redirectUri } = await codeFor({ tenant: world.slug, person: admin.person, scope: 'jobs' });
    const tokens = await exchange({ code, verifier, redirectUri });
    expect(tokens.status).toBe(200);
    expect(tokens.body.refresh_token).toBeUndefined();
    const claims = JSON.parse(Buffer.from(tokens.body.access_token.split('.')[1], 'base64url').toString());
    expect(claims.roles).toEqual(['admin']);
  });

  it('sends the phone back to its private-use scheme and the loopback client to the port it asked for', async () => {
    const person = world.users[0]!.person;
    const phone = await codeFor({ tenant: world.slug, person, clientId: 'roger-mobile', redirectUri: MOBILE_REDIRECT });
    expect(phone.location.href.startsWith(`${MOBILE_REDIRECT}?code=`)).toBe(true);
    const phoneTokens = await exchange({
      code: phone.code,
      verifier: phone.verifier,
      redirectUri: MOBILE_REDIRECT,
      clientId: 'roger-mobile',
    });
    expect(phoneTokens.status).toBe(200);

    const otherPort = 'http://127.0.0.1:61111/callback';
    const desktop = await codeFor({ tenant: world.slug, person, redirectUri: otherPort });
    expect(desktop.location.port).toBe('61111');
    expect((await exchange({ code: desktop.code, verifier: desktop.verifier, redirectUri: otherPort })).status).toBe(200);
  });

  describe('refuses a bad authorization request', () => {
    const base = () => ({
      response_type: 'code',
      client_id: 'roger-desktop',
      redirect_uri: DESKTOP_REDIRECT,
      scope: 'jobs',
      state: 'st-1',
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
    });

    it.each([
      ['no code_challenge', { code_challenge: undefined }, 'invalid_request'],
      ['the plain method', { code_challenge_method: 'plain' }, 'invalid_request'],
      ['no method', { code_challenge_method: undefined }, 'invalid_request'],
      ['a token response type', { response_type: 'token' }, 'unsupported_response_type'],
      ['no response type', { response_type: undefined }, 'invalid_request'],
      ['a scope the client may not have', { scope: 'jobs device' }, 'invalid_scope'],
    ])('%s: an error back to the client, with state and iss', async (_, change, error) => {
      const response = await new Browser(host).get(authorizeQuery({ ...base(), ...change }));
      expect(response.status).toBe(303);
      const location = new URL(response.headers.get('location')!);
      expect(location.origin + location.pathname).toBe(DESKTOP_REDIRECT);
      expect(location.searchParams.get('error')).toBe(error);
      expect(location.searchParams.get('state')).toBe('st-1');
      expect(location.searchParams.get('iss')).toBe(host.url);
      expect(location.searchParams.get('code')).toBeNull();
    });

    it.each([
      ['a redirect URI not registered', { redirect_uri: 'https://evil.example/callback' }],
      ['a loopback path not registered', { redirect_uri: 'http://127.0.0.1:53682/other' }],
      ['localhost instead of loopback', { redirect_uri: 'http://localhost:53682/callback' }],
      ['no redirect URI', { redirect_uri: undefined }],
      ['another client’s redirect URI', { redirect_uri: MOBILE_REDIRECT }],
      ['an unknown client', { client_id: 'evil-app' }],
      ['a client named like a prototype member', { client_id: 'constructor' }],
      ['a printer client, which has no redirect URI', { client_id: 'roger-emb' }],
    ])('%s: an error page here, and no redirect', async (_, change) => {
      const response = await new Browser(host).get(authorizeQuery({ ...base(), response_type: 'token', ...change }));
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.html).toContain('<h1>This sign-in link is not valid</h1>');
      expect(response.headers.get('set-cookie')).toBeNull();
    });
  });

  describe('refuses a bad token request', () => {
    it('a wrong code_verifier, or none', async () => {
      const { code, redirectUri, verifier } = await codeFor({ tenant: world.slug, person: world.users[0]!.person });
      expect((await exchange({ code, redirectUri, verifier: pkce().verifier })).body.error).toBe('invalid_grant');
      expect((await exchange({ code, redirectUri })).body.error).toBe('invalid_request');
      // The failed attempt did not spend the code.
      expect((await exchange({ code, redirectUri, verifier })).status).toBe(200);
    });

    it('a redirect_uri other than the authorization request’s', async () => {
      const { code, verifier } = await codeFor({ tenant: world.slug, person: world.users[0]!.person });
      expect((await exchange({ code, verifier, redirectUri: 'http://127.0.0.1:9/callback' })).body.error).toBe('invalid_grant');
    });

    it('a replayed code: refused, and the refresh family its first use started is revoked', async () => {
      const { code, verifier, redirectUri } = await codeFor({ tenant: world.slug, person: world.users[0]!.person });
      const first = await exchange({ code, verifier, redirectUri });
      expect(first.status).toBe(200);
      const replay = await exchange({ code, verifier, redirectUri });
      expect(replay.body.error).toBe('invalid_grant');
      const refresh = await tokenRequest(host, {
        grant_type: 'refresh_token',
        client_id: 'roger-desktop',
        refresh_token: first.body.refresh_token,
      });
      expect(refresh.body.error).toBe('invalid_grant');
      expect(host.logs.some((line) => line.includes('authorization-code-reuse') && line.includes('revoked=true'))).toBe(true);
    });

    it('one code redeemed by concurrent requests: at most one answer has tokens, and no refresh token it gave survives', async () => {
      for (let round = 0; round < 4; round++) {
        const { code, verifier, redirectUri } = await codeFor({ tenant: world.slug, person: world.users[0]!.person });
        const answers = await Promise.all(Array.from({ length: 4 }, () => exchange({ code, verifier, redirectUri })));
        const won = answers.filter((a) => a.status === 200);
        expect(won.length).toBeLessThanOrEqual(1);
        for (const answer of answers.filter((a) => a.status !== 200)) expect(answer.body.error).toBe('invalid_grant');
        for (const { body } of won) {
          const refresh = await tokenRequest(host, {
            grant_type: 'refresh_token',
            client_id: 'roger-desktop',
            refresh_token: body.refresh_token,
          });
          expect(refresh.body.error, `round ${round}`).toBe('invalid_grant');
        }
      }
    });

    it('an expired code (60 s)', async () => {
      const { code, verifier, redirectUri } = await codeFor({ tenant: world.slug, person: world.users[0]!.person });
      host.advanceClock(61);
      expect((await exchange({ code, verifier, redirectUri })).body.error).toBe('invalid_grant');
    });

    it('a code issued to another client', async () => {
      const { code, verifier, redirectUri } = await codeFor({ tenant: world.slug, person: world.users[0]!.person });
      const borrowed = await exchange({ code, verifier, redirectUri, clientId: 'roger-mobile' });
      expect(borrowed.body.error).toBe('invalid_grant');
    });

    it('a user erased between sign-in and exchange gets nothing', async () => {
      const carol = individual({ ...bob, username: 'carol', email: 'carol@contoso.test' });
      const created = await api(host, world.admin.token, 'POST', '/api/users', {
        username: carol.username,
        email: carol.email,
        fullName: carol.fullName,
        role: 'user',
        password: carol.password,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const { code, verifier, redirectUri } = await codeFor({ tenant: world.slug, person: carol });
      expect((await api(host, world.admin.token, 'DELETE', `/api/users/${created.body.id}`)).status).toBe(204);
      expect((await exchange({ code, verifier, redirectUri })).body.error).toBe('invalid_grant');
    });
  });

  it('completeAuthorization, the hand-over of both sign-in methods, gives an erased user no code but access_denied', async () => {
    const services = await host.services();
    const request = {
      clientId: 'roger-desktop',
      redirectUri: DESKTOP_REDIRECT,
      scope: 'jobs',
      codeChallenge: pkce().challenge,
      state: 's-9',
    };
    const gone = await completeAuthorization(services, request, { tenantId: world.id, userId: '0'.repeat(32) }, noLog);
    expect(Object.fromEntries(new URL(gone).searchParams)).toMatchObject({ error: 'access_denied', state: 's-9', iss: host.url });
    expect(new URL(gone).searchParams.has('code')).toBe(false);
    const fine = new URL(await completeAuthorization(services, request, { tenantId: world.id, userId: world.users[0]!.id }, noLog));
    expect(fine.searchParams.get('code')).toMatch(/^ac1\./);
  });

  describe('the sign-in page', () => {
    it('answers wrong passwords, unknown users and unknown organizations with one message', async () => {
      const person = world.users[0]!.person;
      const failed = [
        await signInThroughPage({ tenant: world.slug, person: { ...person, password: 'wrong-password-1' } }),
        await signInThroughPage({ tenant: world.slug, person: { ...person, username: 'nobody-here' } }),
        await signInThroughPage({ tenant: uniqueName('no-such-org'), person }),
      ];
      for (const { done } of failed) {
        expect(done.status).toBe(403);
        expect(done.headers.get('location')).toBeNull();
        expect(done.html).toContain('The organization, username or password is not right, or the account is locked for a while.');
      }
    });

    it('refuses a password where the organization signs in with Microsoft only, with the same message', async () => {
      const slug = uniqueName('msonly');
      const admin = individual(alice);
      await operatorCreatesTenant({ slug, name: slug, admin, bindEntraOnFirstAdminSignIn: true, policy: { signInMethods: ['microsoft'] } });
      const { done, step2 } = await signInThroughPage({ tenant: slug, person: admin });
      expect(step2.html).not.toContain('name="password"');
      expect(done.status).toBe(403);
      expect(done.html).toContain('The organization, username or password is not right');
    });

    it('finds the organization by the domain of an email address, and prefills the username with it', async () => {
      const slug = uniqueName('bydomain');
      const domain = `${slug}.test`;
      const admin = { ...individual(alice), email: `boss@${domain}` };
      await operatorCreatesTenant({ slug, name: slug, admin, emailDomains: [domain] });
      const { done, step2 } = await signInThroughPage({ tenant: admin.email, person: { ...admin, username: admin.email } });
      expect(step2.html).toContain(`name="username" type="text" value="${admin.email}"`);
      expect(done.status, done.html).toBe(303);
    });

    it('finds the organization by slug and shows only what it allows', async () => {
      const browser = new Browser(host);
      const { step2 } = await signInThroughPage({ tenant: world.slug, person: world.users[0]!.person }, browser);
      expect(step2.html).toContain('name="password"');
      expect(step2.html).not.toContain('/oauth/authorize/microsoft');
    });

    it('sends the Microsoft button on to Microsoft with a cookie binding the callback, only where the tenant allows it', async () => {
      const slug = uniqueName('both');
      await operatorCreatesTenant({
        slug,
        name: slug,
        admin: individual(alice),
        bindEntraOnFirstAdminSignIn: true,
        policy: { signInMethods: ['microsoft', 'password'] },
      });
      const { step2, browser } = await signInThroughPage({ tenant: slug, person: individual(bob) });
      expect(step2.html).toContain('action="/oauth/authorize/microsoft"');
      const fields = { csrf: hidden(step2.html, 'csrf'), ticket: hidden(step2.html, 'ticket') };
      const csp = step2.headers.get('content-security-policy')!;
      const onward = await browser.post('/oauth/authorize/microsoft', fields);
      expect(onward.status, onward.html).toBe(303);
      const microsoft = new URL(onward.headers.get('location')!);
      // The page that holds the button lets its form be redirected there, and nowhere else but the client.
      expect(csp).toContain(`form-action 'self' http://127.0.0.1:53682 ${microsoft.origin};`);
      expect(microsoft.searchParams.get('redirect_uri')).toBe(`${host.url}/oauth/microsoft/callback`);
      expect(microsoft.searchParams.get('code_challenge_method')).toBe('S256');
      expect(onward.headers.get('set-cookie')).toMatch(
        /^roger_ms_signin=[^;]+; Path=\/oauth\/microsoft\/callback;.*HttpOnly; SameSite=Lax/,
      );
      // Without the page's CSRF cookie: refused before anything is stored.
      const forged = await browser.post('/oauth/authorize/microsoft', fields, '');
      expect(forged.status).toBe(403);

      const passwordOnly = await signInThroughPage({ tenant: world.slug, person: individual(bob) });
      const refused = await passwordOnly.browser.post('/oauth/authorize/microsoft', {
        csrf: hidden(passwordOnly.step2.html, 'csrf'),
        ticket: hidden(passwordOnly.step2.html, 'ticket'),
      });
      expect(refused.status).toBe(403);
      expect(refused.headers.get('location')).toBeNull();
    });

    it('locks the account after the policy’s failures, as every password sign-in does: then even the right password gets the same message', async () => {
      const dave = individual({ ...bob, username: 'dave', email: 'dave@contoso.test' });
      const created = await api(host, world.admin.token, 'POST', '/api/users', {
        username: dave.username,
        email: dave.email,
        fullName: dave.fullName,
        role: 'user',
        password: dave.password,
      });
      expect(created.status).toBe(201);
      for (let i = 0; i < 5; i++) {
        expect((await signInThroughPage({ tenant: world.slug, person: { ...dave, password: `wrong-password-${i}` } })).done.status).toBe(
          403,
        );
      }
      const locked = await signInThroughPage({ tenant: world.slug, person: dave });
      expect(locked.done.status).toBe(403);
      expect(locked.done.html).toContain('The organization, username or password is not right, or the account is locked for a while.');
      const logins = await api(host, world.admin.token, 'GET', `/api/users/${created.body.id}/logins`);
      expect(JSON.stringify(logins.body)).toContain('roger-desktop');
    });

    it('prefills step 1 with the client’s login_hint', async () => {
      const start = await new Browser(host).get(
        authorizeQuery({
          response_type: 'code',
          client_id: 'roger-desktop',
          redirect_uri: DESKTOP_REDIRECT,
          code_challenge: pkce().challenge,
          code_challenge_method: 'S256',
          login_hint: 'bob@contoso.test',
        }),
      );
      expect(start.html).toContain('name="account" type="text" value="bob@contoso.test"');
    });

    it('speaks French to a French browser, with lang="fr"', async () => {
      const browser = new Browser(host, 'fr-CA,fr;q=0.9,en;q=0.5');
      const { done, step2 } = await signInThroughPage(
        { tenant: world.slug, person: { ...world.users[0]!.person, password: 'x-wrong-1' } },
        browser,
      );
      expect(step2.html).toContain('<html lang="fr">');
      expect(step2.html).toContain('Mot de passe');
      expect(done.html).toContain('est incorrect');
    });

    it('has a strict CSP whose form-action adds only the client’s redirect origin, and is never framed', async () => {
      const { step2 } = await signInThroughPage({ tenant: world.slug, person: world.users[0]!.person });
      const browser = new Browser(host);
      const start = await browser.get(
        authorizeQuery({
          response_type: 'code',
          client_id: 'roger-desktop',
          redirect_uri: DESKTOP_REDIRECT,
          code_challenge: pkce().challenge,
          code_challenge_method: 'S256',
        }),
      );
      const csp = start.headers.get('content-security-policy')!;
      expect(csp).toContain("form-action 'self';");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'none'");
      void step2;
      const step = await browser.post('/oauth/authorize', {
        csrf: hidden(start.html, 'csrf'),
        ticket: hidden(start.html, 'ticket'),
        account: world.slug,
      });
      expect(step.headers.get('content-security-policy')).toContain("form-action 'self' http://127.0.0.1:53682;");
      const cookie = start.headers.get('set-cookie')!;
      expect(cookie).toMatch(/^roger_authorize_csrf=[A-Za-z0-9_-]{43}; Path=\/oauth\/authorize; HttpOnly; SameSite=Strict$/);
    });

    it('refuses login CSRF: a POST without the cookie, with another browser’s cookie, or with another browser’s ticket', async () => {
      const victim = new Browser(host);
      const attacker = new Browser(host);
      const { challenge } = pkce();
      const query = authorizeQuery({
        response_type: 'code',
        client_id: 'roger-desktop',
        redirect_uri: DESKTOP_REDIRECT,
        code_challenge: challenge,
        code_challenge_method: 'S256',
      });
      const attackerPage = await attacker.get(query);
      const victimPage = await victim.get(query);
      const attackerStep = await attacker.post('/oauth/authorize', {
        csrf: hidden(attackerPage.html, 'csrf'),
        ticket: hidden(attackerPage.html, 'ticket'),
        account: world.slug,
      });
      const signInFields = {
        csrf: hidden(attackerStep.html, 'csrf'),
        ticket: hidden(attackerStep.html, 'ticket'),
        username: world.users[0]!.person.username,
        password: world.users[0]!.person.password,
      };
      // A cross-site form from the attacker's page: the victim's browser sends no cookie (SameSite=Strict) or its own.
      for (const cookie of ['', victim.cookieHeader()]) {
        const forged = await victim.post('/oauth/authorize/password', signInFields, cookie);
        expect(forged.status).toBe(403);
        expect(forged.headers.get('location')).toBeNull();
        expect(forged.html).toContain('<h1>Please start again</h1>');
      }
      // The victim's own CSRF token with the attacker's ticket: the ticket is bound to another token.
      const mixed = await victim.post('/oauth/authorize/password', { ...signInFields, csrf: hidden(victimPage.html, 'csrf') });
      expect(mixed.status).toBe(403);
      expect(mixed.headers.get('location')).toBeNull();
    });

    it('starts over, with the same request, when the page expired', async () => {
      const browser = new Browser(host);
      const start = await browser.get(
        authorizeQuery({
          response_type: 'code',
          client_id: 'roger-desktop',
          redirect_uri: DESKTOP_REDIRECT,
          code_challenge: pkce().challenge,
          code_challenge_method: 'S256',
        }),
      );
      host.advanceClock(610);
      const late = await browser.post('/oauth/authorize', {
        csrf: hidden(start.html, 'csrf'),
        ticket: hidden(start.html, 'ticket'),
        account: world.slug,
      });
      expect(late.status).toBe(403);
      expect(late.html).toContain('has ended');
      expect(late.html).toContain('name="account"');
    });
  });

  it('counts each exchange as an authorization_code sign-in, a refused one as a failure', async () => {
    const count = async (outcome: string) =>
      counted(await recorder.exported(), metricNames.signIns, { method: 'authorization_code', outcome });
    const [successes, failures] = [await count('success'), await count('failure')];
    const { code, verifier, redirectUri } = await codeFor({ tenant: world.slug, person: world.users[0]!.person });
    expect((await exchange({ code, verifier, redirectUri })).status).toBe(200);
    expect((await exchange({ code, verifier, redirectUri })).status).toBe(400);
    expect(await count('success')).toBe(successes + 1);
    expect(await count('failure')).toBe(failures + 1);
  });

  it('publishes the endpoint, code, S256 and iss support in the metadata', async () => {
    const metadata = await api(host, undefined, 'GET', '/.well-known/oauth-authorization-server');
    expect(metadata.body).toMatchObject({
      authorization_endpoint: `${host.url}/oauth/authorize`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
    expect(metadata.body.grant_types_supported).toContain('authorization_code');
  });
});
