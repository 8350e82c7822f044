import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/load-config.js';
import {
  AuthorizationCodeReused,
  issueAuthorizationCode,
  redeemAuthorizationCode,
  s256Challenge,
  type AuthorizationCodeRecord,
} from '../../shared/oauth/authorization-codes.js';
import { OAuthError } from '../../shared/oauth/errors.js';
import { containerSpecs } from '../../shared/store/containers.js';
import { openStore, type Store } from '../../shared/store/store.js';
import { startLocalCosmosServer, type LocalCosmosServer } from '../../tools/local/cosmos-server.js';

/** The authorization code core over the local Cosmos stand-in (docs/security.md, authorization codes). */
describe('authorization codes in the store', () => {
  let server: LocalCosmosServer;
  let store: Store;
  const verifier = 'v'.repeat(20) + '-._~' + 'x'.repeat(30);
  const fields = {
    clientId: 'roger-desktop',
    redirectUri: 'http://127.0.0.1:51234/callback',
    codeChallenge: s256Challenge(verifier),
    scope: 'jobs offline_access',
    tenantId: 'tenant-1',
    subjectId: 'user-1',
  };
  const redeem = (code: string, overrides: object = {}, at = new Date(), family = 'family-1') =>
    redeemAuthorizationCode(
      store,
      { code, clientId: fields.clientId, redirectUri: fields.redirectUri, codeVerifier: verifier, ...overrides },
      at,
      family,
    );
  const grantError = (work: Promise<unknown>) =>
    work.then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof OAuthError) return error;
        throw error;
      },
    );

  beforeAll(async () => {
    const config = loadConfig({ ROGER_OPERATOR_KEY: 'authorization-code-test-operator-key-0123' });
    server = await startLocalCosmosServer([
      { database: config.cosmos.database, containers: Object.values(containerSpecs).filter((s) => s.account === 'regional') },
    ]);
    store = await openStore({
      regional: { ...config.cosmos, endpoint: server.endpoint, key: server.key },
      directory: { ...config.directory, endpoint: server.endpoint, key: server.key },
      managedIdentityClientId: undefined,
      endpointDiscovery: false,
    });
  });
  afterAll(async () => {
    await store?.close();
    await server?.close();
  });

  it('stores only the hash, with an item TTL, and redeems once', async () => {
    const { code, record } = await issueAuthorizationCode(store, fields, new Date());
    const { resource } = await store.container('deviceCodes').item(record.id, record.id).read<AuthorizationCodeRecord>();
    expect(JSON.stringify(resource)).not.toContain(code.split('.')[2]);
    expect(resource!.ttl).toBe(120);
    const granted = await redeem(code);
    expect(granted).toEqual({
      scope: fields.scope,
      tenantId: 'tenant-1',
      subjectId: 'user-1',
      clientId: 'roger-desktop',
      refreshFamilyId: 'family-1',
    });
  });

  it('a replayed code is refused, marked reused, and names the family to revoke', async () => {
    const { code, record } = await issueAuthorizationCode(store, fields, new Date());
    await redeem(code);
    const error = await grantError(redeem(code, {}, new Date(), 'family-2'));
    expect(error).toBeInstanceOf(AuthorizationCodeReused);
    expect((error as AuthorizationCodeReused).refreshFamilyId).toBe('family-1');
    expect(error!.error).toBe('invalid_grant');
    const { resource } = await store.container('deviceCodes').item(record.id, record.id).read<AuthorizationCodeRecord>();
    expect(resource!.status).toBe('reused');
  });

  it('refuses an expired code, another client, another redirect_uri, a wrong or missing verifier, a forged secret', async () => {
    const issuedAt = new Date();
    const { code } = await issueAuthorizationCode(store, fields, issuedAt);
    const cases: Array<[Promise<unknown>, string]> = [
      [redeem(code, {}, new Date(issuedAt.getTime() + 60_000)), 'expired'],
      [redeem(code, { clientId: 'roger-mobile' }), 'another client'],
      [redeem(code, { redirectUri: 'http://127.0.0.1:51235/callback' }), 'redirect_uri'],
      [redeem(code, { codeVerifier: 'w'.repeat(43) }), 'code_verifier'],
      [redeem(code, { codeVerifier: undefined }), 'code_verifier'],
      [redeem(`${code.slice(0, -1)}${code.endsWith('A') ? 'B' : 'A'}`), 'unknown'],
    ];
    for (const [work, why] of cases) {
      const error = await grantError(work);
      expect(error?.error, why).toBe('invalid_grant');
      expect(error?.message, why).toContain(why);
    }
    // None of the refusals used the code up.
    expect((await redeem(code)).refreshFamilyId).toBe('family-1');
  });

  it('of concurrent redemptions exactly one wins', async () => {
    for (let round = 0; round < 5; round++) {
      const { code } = await issueAuthorizationCode(store, fields, new Date());
      const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => redeem(code, {}, new Date(), `family-${i}`)));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(AuthorizationCodeReused);
    }
  });
});
