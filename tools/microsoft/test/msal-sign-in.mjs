// Runs a stock @azure/msal-node ConfidentialClientApplication through a sign-in against the local
// Entra, in a process of its own: MSAL wants an https authority, and only a process started with
// NODE_EXTRA_CA_CERTS trusts the test certificate. Input: the JSON in MSAL_SIGN_IN; output: one
// JSON line with MSAL's result (or its error code).
import { ConfidentialClientApplication, CryptoProvider } from '@azure/msal-node';

const input = JSON.parse(process.env.MSAL_SIGN_IN ?? '{}');

async function signIn() {
  const app = new ConfidentialClientApplication({ auth: { clientId: input.clientId, clientSecret: input.clientSecret, ...input.auth } });
  const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
  const state = 'state-' + Math.random().toString(36).slice(2);
  const nonce = 'nonce-' + Math.random().toString(36).slice(2);
  const authorizeUrl = await app.getAuthCodeUrl({
    scopes: input.scopes,
    redirectUri: input.redirectUri,
    codeChallenge: challenge,
    codeChallengeMethod: 'S256',
    state,
    nonce,
    loginHint: input.loginHint,
  });
  // The browser's part: the local Entra approves at once and redirects back with the code.
  const answer = await fetch(authorizeUrl, { redirect: 'manual' });
  const back = new URL(answer.headers.get('location') ?? '');
  const code = back.searchParams.get('code') ?? '';
  // The confidential client checks the id_token's nonce against the request's.
  const result = await app.acquireTokenByCode(
    { code, scopes: input.scopes, redirectUri: input.redirectUri, codeVerifier: verifier, state, nonce: input.expectNonce ?? nonce },
    { code, state: input.tamperState ? 'another-state' : (back.searchParams.get('state') ?? '') },
  );
  return {
    authorizeUrl,
    idTokenClaims: result.idTokenClaims,
    tenantId: result.tenantId,
    uniqueId: result.uniqueId,
    account: result.account,
    scopes: result.scopes,
    hasAccessToken: Boolean(result.accessToken),
    nonce,
  };
}

try {
  console.log(JSON.stringify({ ok: true, ...(await signIn()) }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, errorCode: error?.errorCode, message: String(error?.message ?? error) }));
}
