import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/load-config.js';
import { describeLocalEntra, localEntraSeed, seedDefaultTenant, seedLocalEntra } from '../../tools/local/entra-seed.js';
import { openLocalOneDrive } from '../../tools/local/microsoft.js';
import { startLocalMicrosoft, type LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';

/**
 * A local run's Entra stand-in starts with the tenants and accounts of tools/local/entra-seed.ts:
 * each account signs in at its own tenant and gets an id_token with its tid, roles and groups, while
 * accounts made on the fly (OneDrive tests, the demo) still join the default tenant, Contoso.
 */
type Json = Record<string, any>;
const REDIRECT_URI = 'http://localhost:7071/auth/microsoft/callback';
const CLIENT_ID = 'seed-test';
const CLIENT_SECRET = 'seed-test-secret';
const [contoso, fabrikam] = localEntraSeed;

/** Authorize (no UI, login_hint) at `authority`; the redirect's query: a code or an error. */
async function authorize(authority: string, clientId: string, upn: string, verifier: string): Promise<URLSearchParams> {
  const query = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email',
    state: 's',
    nonce: 'n',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    login_hint: upn,
  });
  const answer = await fetch(`${authority}/oauth2/v2.0/authorize?${query}`, { redirect: 'manual' });
  expect(answer.status).toBe(302);
  return new URL(answer.headers.get('location') ?? '').searchParams;
}

describe('seedLocalEntra', () => {
  let ms: LocalMicrosoft;
  beforeAll(async () => {
    ms = await startLocalMicrosoft({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, defaultTenant: seedDefaultTenant });
    seedLocalEntra(ms);
  });
  afterAll(async () => {
    await ms?.close();
  });

  it('every seeded account signs in at its own tenant and gets its tid, name, roles and groups', async () => {
    for (const tenant of localEntraSeed) {
      for (const account of tenant.accounts) {
        const verifier = randomBytes(32).toString('base64url');
        const back = await authorize(`${ms.url}/${tenant.id}`, CLIENT_ID, account.upn, verifier);
        expect(back.get('error')).toBeNull();
        const token = await fetch(`${ms.url}/${tenant.id}/oauth2/v2.0/token`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            client_id: CLIENT_ID,
            client_secret: CLIENT_SECRET,
            grant_type: 'authorization_code',
            code: back.get('code') ?? '',
            code_verifier: verifier,
            redirect_uri: REDIRECT_URI,
          }),
        });
        expect(token.status).toBe(200);
        // The signature is checked against the JWKS in tools/microsoft/test/openid-connect.test.ts.
        const idToken = ((await token.json()) as Json).id_token as string;
        const claims = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString()) as Json;
        expect(claims).toMatchObject({
          tid: tenant.id,
          iss: ms.issuer(tenant.id),
          preferred_username: account.upn,
          name: account.displayName,
        });
        expect(claims.roles ?? []).toEqual(account.roles);
        expect(claims.groups ?? []).toEqual(account.groups);
      }
    }
  });

  it('the admins may grant admin consent, the members may not', async () => {
    for (const tenant of localEntraSeed) {
      for (const account of tenant.accounts) {
        ms.setDefaultAccount(account.upn);
        const query = new URLSearchParams({ client_id: CLIENT_ID, redirect_uri: REDIRECT_URI, state: 's', scope: 'openid' });
        const answer = await fetch(`${ms.url}/${tenant.id}/v2.0/adminconsent?${query}`, { redirect: 'manual' });
        const back = new URL(answer.headers.get('location') ?? '').searchParams;
        expect(back.get('admin_consent') === 'True').toBe(account.admin);
      }
      expect(ms.adminConsented(tenant.id)).toBe(true);
    }
  });

  it('the banner names each tenant, its id, and its accounts with their roles and groups', () => {
    expect(describeLocalEntra()).toEqual([
      'Contoso 3f9a6c2e-1b4d-4e8f-9a7c-5d2e0b1f4c6a: admin@contoso.example (Roger.Admin), megan@contoso.example (in Print users)',
      'Fabrikam 8c1e4b7d-2a5f-4d3c-b6e9-0f7a3d5c8b21: admin@fabrikam.example (Roger.Admin), lee@fabrikam.example (in Print users)',
    ]);
  });
});

describe("a local run's stand-in (openLocalOneDrive)", () => {
  let local: Awaited<ReturnType<typeof openLocalOneDrive>>;
  beforeAll(async () => {
    local = await openLocalOneDrive(loadConfig({ MICROSOFT_LOCAL_PORT: '0' }), () => new Date());
  });
  afterAll(async () => {
    await local?.close();
  });

  it('is seeded: Contoso is the default tenant, Fabrikam signs in its own accounts, and new accounts still join Contoso', async () => {
    const ms = local.microsoft;
    expect(ms.defaultTenantId).toBe(contoso?.id);
    const verifier = randomBytes(32).toString('base64url');
    const lee = await authorize(`${ms.url}/${fabrikam?.id}`, 'roger-local', 'lee@fabrikam.example', verifier);
    expect(lee.get('code')).toBeTruthy();
    const newcomer = await authorize(`${ms.url}/${contoso?.id}`, 'roger-local', 'uma@fabrikam.example', verifier);
    expect(newcomer.get('code')).toBeTruthy();
    const elsewhere = await authorize(`${ms.url}/${fabrikam?.id}`, 'roger-local', 'uma@fabrikam.example', verifier);
    expect(elsewhere.get('error_description')).toMatch(/AADSTS50020/);
  });
});
