import { describe, expect, it } from 'vitest';
import { authorizationErrorUrl, checkAuthorizationRequest, type AuthorizeQuery } from '../../shared/oauth/authorization-request.js';
import { clientById, registeredRedirectUris } from '../../shared/oauth/clients.js';
import { loadKeyRing } from '../../shared/tokens/key-ring.js';
import { signAuthorizeTicket, verifyAuthorizeTicket } from '../../shared/web/authorize-ticket.js';
import { signDeviceTicket, verifyDeviceTicket } from '../../shared/web/device-ticket.js';
import { languageOf } from '../../shared/web/i18n.js';

/**
 * The authorization endpoint's rules without a server (shared/oauth/authorization-request.ts):
 * what may be redirected to and what must stay on our page, the RFC's error codes, the
 * request's defaults; the page's ticket; the language a browser gets.
 */
const ISSUER = 'https://eu.roger.example';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const valid: AuthorizeQuery = {
  response_type: 'code',
  client_id: 'roger-desktop',
  redirect_uri: 'http://127.0.0.1:50000/callback',
  scope: 'jobs offline_access',
  state: 'xyz',
  code_challenge: CHALLENGE,
  code_challenge_method: 'S256',
};

const errorOf = (query: AuthorizeQuery) => {
  const check = checkAuthorizationRequest(ISSUER, query);
  if (check.outcome !== 'redirect') throw new Error(`expected a redirect, got ${check.outcome}`);
  return Object.fromEntries(new URL(check.url).searchParams);
};

describe('the authorization request', () => {
  it('accepts a complete request and keeps the redirect URI as sent, port included', () => {
    expect(checkAuthorizationRequest(ISSUER, { ...valid, login_hint: 'bob@contoso.test' })).toEqual({
      outcome: 'valid',
      request: {
        clientId: 'roger-desktop',
        redirectUri: valid.redirect_uri,
        scope: 'jobs offline_access',
        state: 'xyz',
        codeChallenge: CHALLENGE,
      },
      loginHint: 'bob@contoso.test',
    });
  });

  it('gives a request without scope the client’s scopes (RFC 6749 §3.3), and one without state no state', () => {
    const check = checkAuthorizationRequest(ISSUER, { ...valid, scope: undefined, state: undefined });
    expect(check).toMatchObject({ outcome: 'valid', request: { scope: 'jobs offline_access' } });
    expect(check.outcome === 'valid' && 'state' in check.request).toBe(false);
  });

  it('never redirects for an unknown client or an unregistered or missing redirect URI', () => {
    for (const query of [
      { ...valid, client_id: undefined },
      { ...valid, client_id: 'nobody' },
      { ...valid, client_id: '__proto__' },
      { ...valid, client_id: 'roger-emb' },
      { ...valid, redirect_uri: undefined },
      { ...valid, redirect_uri: 'https://evil.example/callback' },
      { ...valid, redirect_uri: 'http://127.0.0.1:50000/callback#frag' },
      { ...valid, redirect_uri: 'http://127.0.0.1:50000/callback?extra=1' },
      { ...valid, client_id: 'roger-web', redirect_uri: 'https://other.example/app/auth/callback' },
    ]) {
      expect(checkAuthorizationRequest(ISSUER, query).outcome, JSON.stringify(query)).toBe('no-redirect');
    }
  });

  it('says everything else to the client, with state and iss', () => {
    expect(errorOf({ ...valid, response_type: 'token' })).toMatchObject({ error: 'unsupported_response_type', state: 'xyz', iss: ISSUER });
    expect(errorOf({ ...valid, response_type: undefined }).error).toBe('invalid_request');
    expect(errorOf({ ...valid, code_challenge: undefined }).error).toBe('invalid_request');
    expect(errorOf({ ...valid, code_challenge_method: 'plain' }).error).toBe('invalid_request');
    expect(errorOf({ ...valid, code_challenge_method: undefined }).error).toBe('invalid_request');
    expect(errorOf({ ...valid, code_challenge: 'short' }).error).toBe('invalid_request');
    expect(errorOf({ ...valid, scope: 'jobs device' })).toMatchObject({ error: 'invalid_scope', state: 'xyz' });
    expect(errorOf({ ...valid, state: undefined, response_type: 'token' }).state).toBeUndefined();
  });

  it('resolves the web app’s issuer-relative callback under this region’s issuer', () => {
    expect(registeredRedirectUris(clientById('roger-web')!, ISSUER)).toEqual([`${ISSUER}/app/auth/callback`]);
    expect(
      checkAuthorizationRequest(ISSUER, { ...valid, client_id: 'roger-web', redirect_uri: `${ISSUER}/app/auth/callback` }).outcome,
    ).toBe('valid');
  });

  it('adds its parameters to a redirect URI, keeping its own query and a private-use scheme', () => {
    const url = authorizationErrorUrl(ISSUER, { redirectUri: 'cloud.roger.mobile:/oauth2redirect', state: 'a b&c' }, 'access_denied');
    expect(url).toBe(`cloud.roger.mobile:/oauth2redirect?error=access_denied&state=a+b%26c&iss=${encodeURIComponent(ISSUER)}`);
    expect(authorizationErrorUrl(ISSUER, { redirectUri: 'https://x.example/cb?keep=1' }, 'invalid_scope', 'no')).toBe(
      `https://x.example/cb?keep=1&error=invalid_scope&error_description=no&iss=${encodeURIComponent(ISSUER)}`,
    );
  });
});

describe('the sign-in page’s ticket', () => {
  const request = {
    clientId: 'roger-desktop',
    redirectUri: 'http://127.0.0.1:1/callback',
    scope: 'jobs',
    codeChallenge: CHALLENGE,
    state: 's',
  };
  const csrf = 'A'.repeat(43);
  const now = new Date('2026-11-30T12:00:00Z');

  it('carries the request, and only for the browser whose CSRF token it names, for 10 minutes', async () => {
    const keys = await loadKeyRing(undefined);
    const token = await signAuthorizeTicket(keys, ISSUER, { request, tenantId: 't1', account: 'contoso' }, csrf, now);
    expect(await verifyAuthorizeTicket(keys, ISSUER, token, csrf, now)).toEqual({
      ok: true,
      ticket: { request, tenantId: 't1', account: 'contoso' },
    });
    expect(await verifyAuthorizeTicket(keys, ISSUER, token, 'B'.repeat(43), now)).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifyAuthorizeTicket(keys, 'https://us.roger.example', token, csrf, now)).toEqual({ ok: false, reason: 'invalid' });
    const later = new Date(now.getTime() + 606_000);
    expect(await verifyAuthorizeTicket(keys, ISSUER, token, csrf, later)).toEqual({ ok: false, reason: 'expired', request });
    const [header, payload, signature] = token.split('.');
    const changed = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), redirect_uri: 'https://evil.example/' }),
    );
    expect(await verifyAuthorizeTicket(keys, ISSUER, `${header}.${changed.toString('base64url')}.${signature}`, csrf, now)).toEqual({
      ok: false,
      reason: 'invalid',
    });
  });

  it('is no device-page ticket, and no device-page ticket is one', async () => {
    const keys = await loadKeyRing(undefined);
    const { token: device } = await signDeviceTicket(
      keys,
      ISSUER,
      { tenantId: 't', userId: 'u', role: 'user', userCode: 'BCDFGHJK' },
      csrf,
      now,
    );
    expect(await verifyAuthorizeTicket(keys, ISSUER, device, csrf, now)).toEqual({ ok: false, reason: 'invalid' });
    const authorize = await signAuthorizeTicket(keys, ISSUER, { request }, csrf, now);
    expect((await verifyDeviceTicket(keys, ISSUER, authorize, csrf, now)).ok).toBe(false);
  });
});

describe('the page language', () => {
  const of = (value?: string) => languageOf(new Headers(value === undefined ? {} : { 'accept-language': value }));
  it.each([
    [undefined, 'en'],
    ['', 'en'],
    ['fr', 'fr'],
    ['fr-CA', 'fr'],
    ['FR-fr,en;q=0.5', 'fr'],
    ['en-US,fr;q=0.9', 'en'],
    ['de-DE,fr;q=0.8,en;q=0.7', 'fr'],
    ['de,en;q=0.3,fr;q=0.4', 'fr'],
    ['fr;q=0,en', 'en'],
    ['*', 'en'],
    ['de', 'en'],
    ['fr;q=abc,en;q=0.1', 'en'],
    ['frisian', 'en'],
  ])('%s → %s', (header, language) => {
    expect(of(header)).toBe(language);
  });
});
