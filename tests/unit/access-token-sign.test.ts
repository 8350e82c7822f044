import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { signAccessToken, verifyAccessToken } from '../../shared/tokens/access-token.js';
import { loadKeyRing } from '../../shared/tokens/key-ring.js';

/** Access tokens are signed with node:crypto (access-token.ts): any JOSE library must accept them as ES256 JWTs. */
describe('access token signature', () => {
  const settings = { issuer: 'https://roger.test', audience: 'https://roger.test/api', lifetimeSeconds: 600 };
  const claims = { sub: 'user-1', client_id: 'roger-mobile', scope: 'jobs offline_access', tid: 'tenant-1', roles: ['admin'] };

  it('verifies with jose against the published keys, with the header and claims of RFC 9068', async () => {
    const ring = await loadKeyRing(undefined);
    const now = new Date();
    const { token, expiresIn } = await signAccessToken(ring, settings, claims, now);
    expect(expiresIn).toBe(600);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', typ: 'at+jwt', kid: ring.signing.kid });
    expect(Buffer.from(token.split('.')[2]!, 'base64url')).toHaveLength(64); // R and S, RFC 7518 §3.4
    const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: [...ring.publicJwks.keys] }), {
      algorithms: ['ES256'],
      typ: 'at+jwt',
      issuer: settings.issuer,
      audience: settings.audience,
    });
    const iat = Math.floor(now.getTime() / 1000);
    expect(payload).toMatchObject({ ...claims, iat, nbf: iat, exp: iat + 600 });
    expect(payload.jti).toMatch(/^[0-9a-f]{32}$/);
    expect(await verifyAccessToken(ring, settings, token, now)).toMatchObject(claims);
  });

  it('each token has its own jti, and a changed payload no longer verifies', async () => {
    const ring = await loadKeyRing(undefined);
    const now = new Date();
    const [a, b] = await Promise.all([signAccessToken(ring, settings, claims, now), signAccessToken(ring, settings, claims, now)]);
    const [header, payload, signature] = a.token.split('.');
    expect(payload).not.toBe(b.token.split('.')[1]);
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), scope: 'admin' })).toString(
      'base64url',
    );
    await expect(verifyAccessToken(ring, settings, `${header}.${forged}.${signature}`, now)).rejects.toThrow();
  });
});
