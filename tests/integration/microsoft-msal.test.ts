import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/load-config.js';
import { MicrosoftUnavailable } from '../../shared/microsoft/msal.js';
import { openLocalMicrosoftSignIn } from '../../tools/local/microsoft.js';
import { browserGet } from '../helpers/microsoft.js';

/**
 * MSAL as the app builds it (shared/microsoft/msal.ts) against the local Entra stand-in over TLS:
 * the certificate is trusted through the adapter's network client (no NODE_EXTRA_CA_CERTS), the
 * authority metadata is fetched once, and a silent or failing Entra fails fast.
 */
describe('the MSAL client against the local Entra over https', () => {
  let signIn: Awaited<ReturnType<typeof openLocalMicrosoftSignIn>>;
  const redirectUri = 'http://localhost:1/oauth/microsoft/callback';

  beforeAll(async () => {
    signIn = await openLocalMicrosoftSignIn(loadConfig({ MICROSOFT_LOCAL_PORT: '0' }), () => new Date(), { timeoutMs: 700 });
  });
  afterAll(() => signIn?.close());

  async function authorize(upn: string, nonce = 'n-1') {
    const pkce = await signIn.pkce();
    const client = await signIn.client();
    const url = await client.getAuthCodeUrl({
      redirectUri,
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      state: 's-1',
      nonce,
      codeChallenge: pkce.challenge,
      codeChallengeMethod: 'S256',
      loginHint: upn,
    });
    expect(url.startsWith(signIn.microsoft.secureAuthority!)).toBe(true);
    const answer = await browserGet(url);
    expect(answer.status).toBe(302);
    const code = new URL(answer.location!).searchParams.get('code')!;
    return { client, code, verifier: pkce.verifier };
  }

  it('signs in a seeded account, and the id_token verifies against the JWKS with its tenant issuer', async () => {
    const { client, code, verifier } = await authorize('megan@contoso.example');
    const before = signIn.microsoft.requests.length;
    const result = await client.acquireTokenByCode(
      { code, redirectUri, scopes: ['openid'], codeVerifier: verifier, state: 's-1', nonce: 'n-1' },
      { code, state: 's-1', nonce: 'n-1' },
    );
    // Only the token request: no discovery, instance metadata or keys fetched again by MSAL.
    expect(signIn.microsoft.requests.slice(before).map((r) => r.path)).toEqual(['/organizations/oauth2/v2.0/token']);
    const claims = await signIn.verifyIdToken(result.idToken);
    expect(claims).toMatchObject({
      tid: '3f9a6c2e-1b4d-4e8f-9a7c-5d2e0b1f4c6a',
      preferred_username: 'megan@contoso.example',
      nonce: 'n-1',
    });
    expect(claims.iss).toBe(`${signIn.microsoft.secureUrl}/3f9a6c2e-1b4d-4e8f-9a7c-5d2e0b1f4c6a/v2.0`);
  });

  it('refuses an id_token that is not signed by the stand-in, or is for another audience', async () => {
    const { client, code, verifier } = await authorize('lee@fabrikam.example');
    const result = await client.acquireTokenByCode(
      { code, redirectUri, scopes: ['openid'], codeVerifier: verifier, state: 's-1', nonce: 'n-1' },
      { code, state: 's-1', nonce: 'n-1' },
    );
    const [header, payload, signature] = result.idToken.split('.');
    const forged = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    forged.roles = ['Roger.Admin'];
    await expect(
      signIn.verifyIdToken(`${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`),
    ).rejects.toThrow();
    forged.roles = undefined;
    forged.aud = 'another-app';
    await expect(
      signIn.verifyIdToken(`${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`),
    ).rejects.toThrow();
  });

  it('MSAL checks the nonce of the id_token against the request', async () => {
    const { client, code, verifier } = await authorize('megan@contoso.example', 'n-original');
    await expect(
      client.acquireTokenByCode(
        { code, redirectUri, scopes: ['openid'], codeVerifier: verifier, state: 's-1', nonce: 'n-replayed' },
        { code, state: 's-1', nonce: 'n-replayed' },
      ),
    ).rejects.toMatchObject({ errorCode: 'nonce_mismatch' });
  });

  it('a 503 from the token endpoint is MicrosoftUnavailable with its Retry-After; a silent one fails within the time limit', async () => {
    const first = await authorize('megan@contoso.example');
    signIn.microsoft.failTokenNext(1, 503, 7);
    const failed = first.client.acquireTokenByCode(
      { code: first.code, redirectUri, scopes: ['openid'], codeVerifier: first.verifier, state: 's-1', nonce: 'n-1' },
      { code: first.code, state: 's-1', nonce: 'n-1' },
    );
    await expect(failed).rejects.toBeInstanceOf(MicrosoftUnavailable);
    await expect(failed).rejects.toMatchObject({ retryAfterSeconds: 7 });

    signIn.microsoft.failTokenNext(1, 'silent');
    const started = Date.now();
    await expect(
      first.client.acquireTokenByCode(
        { code: first.code, redirectUri, scopes: ['openid'], codeVerifier: first.verifier, state: 's-1', nonce: 'n-1' },
        { code: first.code, state: 's-1', nonce: 'n-1' },
      ),
    ).rejects.toBeInstanceOf(MicrosoftUnavailable);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
