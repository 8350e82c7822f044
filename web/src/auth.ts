// Sign-in as the public client `roger-web`: authorization code + PKCE S256 against this origin's
// /oauth/authorize and /oauth/token, through oauth4webapi. Tokens live in this module's memory
// only (docs/adr/0004-web-app-tokens.md); sessionStorage holds the PKCE verifier, the state and the
// path to come back to, between leaving for the sign-in page and the callback.
import * as oauth from 'oauth4webapi';

const CLIENT: oauth.Client = { client_id: 'roger-web' };
const SCOPE = 'jobs offline_access';
const PENDING_KEY = 'roger.sign-in';
export const CALLBACK_PATH = '/app/auth/callback';
/** Renew this long before the access token expires. */
const RENEW_AHEAD_SECONDS = 60;

interface Session {
  accessToken: string;
  refreshToken: string | undefined;
  expiresAt: number;
}
interface Pending {
  verifier: string;
  state: string;
  returnTo: string;
}

let session: Session | undefined;
let renewTimer: ReturnType<typeof setTimeout> | undefined;
let server: Promise<oauth.AuthorizationServer> | undefined;

const issuer = () => new URL(location.origin);
// The local host runs on http://localhost; oauth4webapi refuses plain HTTP unless told.
const insecure = () => ({ [oauth.allowInsecureRequests]: location.protocol === 'http:' });
const redirectUri = () => `${location.origin}${CALLBACK_PATH}`;

function authorizationServer(): Promise<oauth.AuthorizationServer> {
  server ??= oauth
    .discoveryRequest(issuer(), { algorithm: 'oauth2', ...insecure() })
    .then((response) => oauth.processDiscoveryResponse(issuer(), response))
    .catch((error: unknown) => {
      server = undefined;
      throw error;
    });
  return server;
}

/** Leaves for the sign-in page; the app comes back to `returnTo` (a path of the app) afterwards. */
export async function signIn(returnTo: string): Promise<never> {
  const as = await authorizationServer();
  const verifier = oauth.generateRandomCodeVerifier();
  const pending: Pending = { verifier, state: oauth.generateRandomState(), returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(as.authorization_endpoint!);
  url.searchParams.set('client_id', CLIENT.client_id);
  url.searchParams.set('redirect_uri', redirectUri());
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', SCOPE);
  url.searchParams.set('state', pending.state);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  location.assign(url);
  return new Promise<never>(() => {});
}

const safePath = (path: string) => (path.startsWith('/app/') && !path.startsWith('//') ? path : '/app/');

/**
 * The callback: checks `state` and the RFC 9207 `iss` (oauth4webapi does both, the server
 * advertising `authorization_response_iss_parameter_supported`), redeems the code, and answers the
 * path to go back to.
 */
export async function completeSignIn(currentUrl: URL): Promise<string> {
  const stored = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  if (!stored) throw new Error('no sign-in was started in this tab');
  const pending = JSON.parse(stored) as Pending;
  const as = await authorizationServer();
  const params = oauth.validateAuthResponse(as, CLIENT, currentUrl, pending.state);
  const response = await oauth.authorizationCodeGrantRequest(as, CLIENT, oauth.None(), params, redirectUri(), pending.verifier, insecure());
  keep(await oauth.processAuthorizationCodeResponse(as, CLIENT, response));
  return safePath(pending.returnTo);
}

function keep(tokens: oauth.TokenEndpointResponse): void {
  session = {
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? session?.refreshToken,
    expiresAt: Date.now() + (tokens.expires_in ?? 300) * 1000,
  };
  clearTimeout(renewTimer);
  const wait = Math.max(0, session.expiresAt - Date.now() - RENEW_AHEAD_SECONDS * 1000);
  renewTimer = setTimeout(() => void renew().catch(() => undefined), wait);
}

/** Uses the refresh token (which rotates); false when the session is over. */
async function renew(): Promise<boolean> {
  const refreshToken = session?.refreshToken;
  if (!refreshToken) return false;
  try {
    const as = await authorizationServer();
    const response = await oauth.refreshTokenGrantRequest(as, CLIENT, oauth.None(), refreshToken, insecure());
    keep(await oauth.processRefreshTokenResponse(as, CLIENT, response));
    return true;
  } catch {
    session = undefined;
    return false;
  }
}

export const signedIn = () => session !== undefined;

const currentPath = () => `${location.pathname}${location.search}`;

/**
 * fetch for the API with the access token. A 401 renews once; a session that cannot be renewed
 * goes back to sign-in and returns to the same page.
 */
export async function apiFetch(path: string, init: RequestInit = {}): Promise<Response> {
  if (!session || (Date.now() >= session.expiresAt && !(await renew()))) return signIn(currentPath());
  const call = () => fetch(path, { ...init, headers: { ...init.headers, Authorization: `Bearer ${session!.accessToken}` } });
  const response = await call();
  if (response.status !== 401) return response;
  if (await renew()) {
    const again = await call();
    if (again.status !== 401) return again;
  }
  session = undefined;
  return signIn(currentPath());
}
