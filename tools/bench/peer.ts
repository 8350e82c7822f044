// The peer for `npm run bench`: oidc-provider (a certified OAuth 2.0 / OpenID Connect server for
// Node) with one public client for the device flow and refresh tokens, run in its own process
// like our local host. PEER_STORE=memory (default): its own in-memory adapter; PEER_STORE=cosmos:
// the Cosmos SDK on the in-process Cosmos-compatible server, the store our local host uses.
// Prints one line, `ready <json>` with refresh tokens minted for the bench, then serves until killed.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';
import { cosmosAdapter } from './peer-cosmos-adapter.js';

const port = Number(process.env.PORT);
const tokenCount = Number(process.env.REFRESH_TOKENS ?? '40');
const issuer = `http://localhost:${port}`;

// Its own signing key (ID tokens are RS256 by default), so it does not run on development keys.
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const store = process.env.PEER_STORE === 'cosmos' ? await cosmosAdapter() : undefined;

const provider = new Provider(issuer, {
  ...(store ? { adapter: store.adapter as never } : {}),
  clients: [
    {
      client_id: 'bench',
      token_endpoint_auth_method: 'none',
      grant_types: ['refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: [],
      redirect_uris: [],
    },
  ],
  jwks: { keys: [{ ...signingKey, kid: 'bench', use: 'sig', alg: 'RS256' }] },
  cookies: { keys: ['bench-cookie-key-not-a-secret'] },
  features: { deviceFlow: { enabled: true }, devInteractions: { enabled: false } },
  scopes: ['openid', 'offline_access'],
  findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
});

// Refresh tokens as a completed device flow would leave them: a grant with offline_access.
const client = await provider.Client.find('bench');
if (!client) throw new Error('the bench client is not registered');
const refreshTokens: string[] = [];
for (let i = 0; i < tokenCount; i++) {
  const accountId = `bench-user-${i}`;
  const grant = new provider.Grant({ accountId, clientId: 'bench' });
  grant.addOIDCScope('openid offline_access');
  const grantId = await grant.save();
  const token = new provider.RefreshToken({ accountId, client, grantId, scope: 'openid offline_access', gty: 'urn:ietf:params:oauth:grant-type:device_code' });
  refreshTokens.push(await token.save());
}

// Its error descriptions are generic by design; the detail goes to stderr so a failing bench says why.
provider.on('grant.error', (_ctx: unknown, error: { error_detail?: string; message: string }) => {
  process.stderr.write(`peer grant error: ${error.error_detail ?? error.message}\n`);
});

provider.listen(port, () => {
  process.stdout.write(`ready ${JSON.stringify({ refreshTokens })}\n`);
});
