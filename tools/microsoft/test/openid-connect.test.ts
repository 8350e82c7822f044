/**
 * The local Entra as an OpenID Connect provider: discovery, keys, signed id_tokens per tenant,
 * admin consent, and a stock @azure/msal-node client signing in against it unchanged.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalMicrosoft, type LocalMicrosoft } from '../local-microsoft.js';

const run = promisify(execFile);
const CLIENT_ID = '66666666-7777-8888-9999-000000000000';
const CLIENT_SECRET = 'oidc-secret';
const REDIRECT_URI = 'http://localhost:7071/auth/microsoft/callback';
const APP_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Parsed JSON answers, read loosely in assertions. */
type Json = Record<string, any>;

let ms: LocalMicrosoft;
let fabrikam: string;
let northwind: string;
let umaOid: string;
let noahOid: string;

beforeAll(async () => {
  ms = await startLocalMicrosoft({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  fabrikam = ms.addTenant('Fabrikam');
  northwind = ms.addTenant('Northwind', 'B7E1F4A0-1C2D-4E5F-8A9B-0C1D2E3F4A5B');
  umaOid = ms.addAccount('uma@fabrikam.example', {
    tenantId: fabrikam,
    displayName: 'Uma Fabrikam',
    email: 'uma.f@fabrikam.example',
    roles: ['Roger.Admin'],
    groups: ['0f0e0d0c-0b0a-0908-0706-050403020100'],
    admin: true,
  });
  noahOid = ms.addAccount('noah@northwind.example', { tenantId: northwind, displayName: 'Noah Northwind' });
});
afterAll(() => ms.close());

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function getJson(url: string): Promise<Json> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return (await response.json()) as Json;
}

/** authorize → code → token, with fetch; `authority` defaults to organizations; `nonce: null` sends none. */
async function signIn(
  loginHint: string | undefined,
  { scope = 'openid profile email offline_access', nonce = 'n-0S6_WzA2Mj' as string | null, authority = ms.authority } = {},
): Promise<Json> {
  const { verifier, challenge } = pkce();
  const query = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope,
    state: 'st',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(nonce === null ? {} : { nonce }),
    ...(loginHint === undefined ? {} : { login_hint: loginHint }),
  });
  const answer = await fetch(`${authority}/oauth2/v2.0/authorize?${query}`, { redirect: 'manual' });
  expect(answer.status).toBe(302);
  const back = new URL(answer.headers.get('location') ?? '').searchParams;
  if (back.get('error')) return { error: back.get('error'), error_description: back.get('error_description') };
  const response = await fetch(`${authority}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      grant_type: 'authorization_code',
      code: back.get('code') ?? '',
      code_verifier: verifier,
      redirect_uri: REDIRECT_URI,
      client_info: '1',
    }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Json;
}

/** Verifies an id_token the way a relying party does: keys from discovery, issuer of the token's tenant. */
async function verifyIdToken(idToken: string, tenantId: string): Promise<Json> {
  const config = await getJson(`${ms.url}/${tenantId}/v2.0/.well-known/openid-configuration`);
  const keys = createRemoteJWKSet(new URL(config.jwks_uri));
  const { payload, protectedHeader } = await jwtVerify(idToken, keys, {
    issuer: config.issuer,
    audience: CLIENT_ID,
    algorithms: ['RS256'],
  });
  expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT' });
  return payload;
}

describe('discovery and keys', () => {
  test("a tenant's document names its own issuer; common and organizations carry the {tenantid} template", async () => {
    const own = await getJson(`${ms.url}/${fabrikam}/v2.0/.well-known/openid-configuration`);
    expect(own.issuer).toBe(`${ms.url}/${fabrikam}/v2.0`);
    expect(own.issuer).toBe(ms.issuer(fabrikam));
    expect(own.authorization_endpoint).toBe(`${ms.url}/${fabrikam}/oauth2/v2.0/authorize`);
    expect(own.token_endpoint).toBe(`${ms.url}/${fabrikam}/oauth2/v2.0/token`);
    expect(own.id_token_signing_alg_values_supported).toEqual(['RS256']);
    for (const segment of ['organizations', 'common']) {
      const shared = await getJson(`${ms.url}/${segment}/v2.0/.well-known/openid-configuration`);
      expect(shared.issuer).toBe(`${ms.url}/{tenantid}/v2.0`);
      expect(shared.authorization_endpoint).toBe(`${ms.url}/${segment}/oauth2/v2.0/authorize`);
    }
    const jwks = await getJson(own.jwks_uri);
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', e: 'AQAB' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    expect(await getJson(`${ms.url}/discovery/v2.0/keys`)).toEqual(jwks);
  });

  test('instance discovery answers as MSAL expects, naming this host as its only alias', async () => {
    const endpoint = encodeURIComponent(`${ms.url}/organizations/oauth2/v2.0/authorize`);
    const answer = await getJson(`${ms.url}/common/discovery/instance?api-version=1.1&authorization_endpoint=${endpoint}`);
    const host = new URL(ms.url).host;
    expect(answer).toEqual({
      tenant_discovery_endpoint: `${ms.url}/organizations/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    });
  });

  test('a host may name the default tenant: the same tid on every run, its own issuer and discovery', async () => {
    const tid = '6f1c2a4e-0d3b-4c8a-9e5f-1a2b3c4d5e6f';
    const named = await startLocalMicrosoft({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      defaultTenant: { id: tid, displayName: 'Contoso' },
    });
    try {
      expect(named.defaultTenantId).toBe(tid);
      expect(() => named.addTenant('Again', tid.toUpperCase())).toThrow(/already exists/);
      const own = await getJson(`${named.url}/${tid}/v2.0/.well-known/openid-configuration`);
      expect(own.issuer).toBe(named.issuer(tid));
    } finally {
      await named.close();
    }
  });
});

describe('id_tokens', () => {
  test("each tenant's account gets a signed id_token with its own tid, oid, names, roles and groups, and the nonce", async () => {
    const uma = await signIn('uma@fabrikam.example');
    const claims = await verifyIdToken(uma.id_token, fabrikam);
    expect(claims).toMatchObject({
      aud: CLIENT_ID,
      iss: `${ms.url}/${fabrikam}/v2.0`,
      tid: fabrikam,
      oid: umaOid,
      preferred_username: 'uma@fabrikam.example',
      name: 'Uma Fabrikam',
      email: 'uma.f@fabrikam.example',
      roles: ['Roger.Admin'],
      groups: ['0f0e0d0c-0b0a-0908-0706-050403020100'],
      nonce: 'n-0S6_WzA2Mj',
      ver: '2.0',
    });
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(claims.nbf).toBe(claims.iat);
    expect(Math.abs(claims.iat! - Date.now() / 1000)).toBeLessThan(60);
    expect(JSON.parse(Buffer.from(uma.client_info, 'base64url').toString())).toEqual({ uid: umaOid, utid: fabrikam });

    const noah = await signIn('noah@northwind.example', { nonce: 'other-nonce' });
    const other = await verifyIdToken(noah.id_token, northwind.toLowerCase());
    expect(other).toMatchObject({ tid: northwind.toLowerCase(), oid: noahOid, name: 'Noah Northwind', nonce: 'other-nonce' });
    expect(other).not.toHaveProperty('roles');
    expect(other).not.toHaveProperty('groups');
    expect(other.sub).not.toBe(claims.sub);
    // Another tenant's issuer does not accept it.
    await expect(verifyIdToken(noah.id_token, fabrikam)).rejects.toThrow(/iss/);
  });

  test('the signing-in account follows setDefaultAccount when there is no login_hint', async () => {
    ms.setDefaultAccount('noah@northwind.example');
    try {
      const answer = await signIn(undefined);
      expect(decodeProtectedHeader(answer.id_token).alg).toBe('RS256');
      expect(await verifyIdToken(answer.id_token, northwind.toLowerCase())).toMatchObject({ oid: noahOid });
    } finally {
      ms.setDefaultAccount('user@contoso.example');
    }
  });

  test('no openid scope, no id_token; a refresh keeps the id_token but not the nonce', async () => {
    const plain = await signIn('uma@fabrikam.example', { scope: 'Files.ReadWrite offline_access' });
    expect(plain).not.toHaveProperty('id_token');
    const first = await signIn('uma@fabrikam.example', { nonce: null });
    expect(await verifyIdToken(first.id_token, fabrikam)).not.toHaveProperty('nonce');
    const withNonce = await signIn('uma@fabrikam.example');
    const refreshed = (await (
      await fetch(`${ms.authority}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          grant_type: 'refresh_token',
          refresh_token: withNonce.refresh_token,
        }),
      })
    ).json()) as Json;
    const claims = await verifyIdToken(refreshed.id_token, fabrikam);
    expect(claims.oid).toBe(umaOid);
    expect(claims).not.toHaveProperty('nonce');
  });

  test("a tenant's own authority signs in only its accounts; an unknown tenant is refused", async () => {
    const refused = await signIn('noah@northwind.example', { authority: `${ms.url}/${fabrikam}` });
    expect(refused.error).toBe('invalid_request');
    expect(refused.error_description).toMatch(/^AADSTS50020:/);
    const unknown = await signIn('uma@fabrikam.example', { authority: `${ms.url}/00000000-0000-0000-0000-00000000dead` });
    expect(unknown.error_description).toMatch(/^AADSTS90002:/);
    const own = await signIn('uma@fabrikam.example', { authority: `${ms.url}/${fabrikam}` });
    expect((await verifyIdToken(own.id_token, fabrikam)).tid).toBe(fabrikam);
  });
});

describe('admin consent', () => {
  async function consent(path: string, params: Record<string, string>): Promise<{ status: number; back?: URLSearchParams; text: string }> {
    const answer = await fetch(`${ms.url}${path}?${new URLSearchParams({ client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, ...params })}`, {
      redirect: 'manual',
    });
    const location = answer.headers.get('location');
    return { status: answer.status, back: location ? new URL(location).searchParams : undefined, text: await answer.text() };
  }

  test('an admin grants the app for their tenant: redirected with admin_consent=True and the tid (v2 and v1)', async () => {
    expect(ms.adminConsented(fabrikam)).toBe(false);
    const v2 = await consent('/organizations/v2.0/adminconsent', {
      state: 'c-1',
      scope: 'https://graph.microsoft.com/.default',
      login_hint: 'uma@fabrikam.example',
    });
    expect(v2.status).toBe(302);
    expect(Object.fromEntries(v2.back!)).toEqual({
      admin_consent: 'True',
      tenant: fabrikam,
      state: 'c-1',
      scope: 'https://graph.microsoft.com/.default',
    });
    expect(ms.adminConsented(fabrikam)).toBe(true);
    const v1 = await consent(`/${fabrikam}/adminconsent`, { state: 'c-2', login_hint: 'uma@fabrikam.example' });
    expect(Object.fromEntries(v1.back!)).toEqual({ admin_consent: 'True', tenant: fabrikam, state: 'c-2' });
  });

  test('a non-admin is sent back with access_denied; v2 needs a scope; a bad client or redirect gets no redirect', async () => {
    const denied = await consent('/common/v2.0/adminconsent', { state: 'c-3', scope: '.default', login_hint: 'noah@northwind.example' });
    expect(denied.back?.get('error')).toBe('access_denied');
    expect(denied.back?.get('state')).toBe('c-3');
    expect(ms.adminConsented(northwind)).toBe(false);
    const noScope = await consent('/common/v2.0/adminconsent', { login_hint: 'uma@fabrikam.example' });
    expect(noScope.back?.get('error')).toBe('invalid_request');
    const otherTenant = await consent(`/${northwind}/adminconsent`, { login_hint: 'uma@fabrikam.example' });
    expect(otherTenant.back?.get('error_description')).toMatch(/^AADSTS50020:/);
    const badClient = await consent('/common/adminconsent', { client_id: 'nobody' });
    expect(badClient.status).toBe(400);
    expect(badClient.text).toMatch(/^AADSTS700016:/);
    const badRedirect = await consent('/common/adminconsent', { redirect_uri: 'javascript:alert(1)' });
    expect(badRedirect.status).toBe(400);
  });
});

describe('@azure/msal-node, unchanged', () => {
  let tls: LocalMicrosoft;
  let folder: string;
  let certPath: string;
  let contoso: string;
  let aliceOid: string;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'local-entra-tls-'));
    certPath = join(folder, 'cert.pem');
    const keyPath = join(folder, 'key.pem');
    // prettier-ignore
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyPath, '-out', certPath,
    ]);
    tls = await startLocalMicrosoft({
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      tls: { key: readFileSync(keyPath), cert: readFileSync(certPath) },
    });
    contoso = tls.addTenant('Contoso');
    aliceOid = tls.addAccount('alice@contoso.example', {
      tenantId: contoso,
      displayName: 'Alice',
      roles: ['Roger.Admin'],
      groups: ['g-1'],
    });
  });
  afterAll(async () => {
    await tls.close();
    rmSync(folder, { recursive: true, force: true });
  });

  /** One sign-in by MSAL in a process that trusts the test certificate. */
  async function msalSignIn(input: Json): Promise<Json> {
    const { stdout } = await run(process.execPath, [fileURLToPath(new URL('msal-sign-in.mjs', import.meta.url))], {
      cwd: APP_ROOT,
      env: {
        ...process.env,
        NODE_EXTRA_CA_CERTS: certPath,
        MSAL_SIGN_IN: JSON.stringify({
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          redirectUri: REDIRECT_URI,
          scopes: ['User.Read'],
          loginHint: 'alice@contoso.example',
          ...input,
        }),
      },
    });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Json;
  }

  /** GET over TLS trusting the test certificate (this process's fetch does not). */
  function getTrusted(url: string): Promise<string> {
    return new Promise((resolve, reject) => {
      get(url, { ca: readFileSync(certPath) }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve(text));
      }).on('error', reject);
    });
  }

  test('configured by the organizations authority and knownAuthorities, MSAL signs in and returns the validated claims', async () => {
    const host = new URL(tls.url).host;
    const result = await msalSignIn({ auth: { authority: tls.authority, knownAuthorities: [host] } });
    expect(result.ok, result.message).toBe(true);
    expect(new URL(result.authorizeUrl).pathname).toBe('/organizations/oauth2/v2.0/authorize');
    expect(result.idTokenClaims).toMatchObject({
      aud: CLIENT_ID,
      iss: `${tls.url}/${contoso}/v2.0`,
      tid: contoso,
      oid: aliceOid,
      name: 'Alice',
      preferred_username: 'alice@contoso.example',
      email: 'alice@contoso.example',
      roles: ['Roger.Admin'],
      groups: ['g-1'],
      nonce: result.nonce,
      ver: '2.0',
    });
    expect(result.tenantId).toBe(contoso);
    expect(result.uniqueId).toBe(aliceOid);
    expect(result.account).toMatchObject({ homeAccountId: `${aliceOid}.${contoso}`, tenantId: contoso, username: 'alice@contoso.example' });
    expect(result.hasAccessToken).toBe(true);
    expect(tls.requests.some((request) => request.path === '/organizations/v2.0/.well-known/openid-configuration')).toBe(true);
  });

  test("configured by a tenant authority with the stand-in's own authorityMetadata and cloudDiscoveryMetadata, MSAL signs in", async () => {
    const authority = `${tls.url}/${contoso}`;
    const authorityMetadata = await getTrusted(`${authority}/v2.0/.well-known/openid-configuration`);
    const endpoint = encodeURIComponent(`${authority}/oauth2/v2.0/authorize`);
    const cloudDiscoveryMetadata = await getTrusted(
      `${tls.url}/common/discovery/instance?api-version=1.1&authorization_endpoint=${endpoint}`,
    );
    const before = tls.requests.filter((request) => request.path.includes('openid-configuration')).length;
    const result = await msalSignIn({ auth: { authority, authorityMetadata, cloudDiscoveryMetadata } });
    expect(result.ok, result.message).toBe(true);
    expect(result.idTokenClaims).toMatchObject({ iss: `${authority}/v2.0`, tid: contoso, oid: aliceOid, nonce: result.nonce });
    // Everything MSAL needed was in its configuration: it fetched no metadata.
    expect(tls.requests.filter((request) => request.path.includes('openid-configuration')).length).toBe(before);
  });

  test('MSAL refuses an id_token whose nonce is not the one it sent, and a tampered state', async () => {
    const host = new URL(tls.url).host;
    const auth = { authority: tls.authority, knownAuthorities: [host] };
    const nonce = await msalSignIn({ auth, expectNonce: 'a-replayed-nonce' });
    expect(nonce).toMatchObject({ ok: false, errorCode: 'nonce_mismatch' });
    const state = await msalSignIn({ auth, tamperState: true });
    expect(state).toMatchObject({ ok: false, errorCode: 'state_mismatch' });
  });
});
