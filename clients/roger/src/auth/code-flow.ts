import open from 'open';
import { oauth } from '@roger-cloud/client-kit/oauth';
import { SCOPE } from '../credentials.js';
import { openLoopback } from './loopback.js';

/**
 * Signing in through the browser (docs/clients.md#signing-in): the authorization code grant with
 * PKCE (S256) and a loopback redirect, as RFC 8252 asks of a native app. openid-client checks
 * the state, the PKCE verifier and the RFC 9207 `iss` of the answer, so a code from another
 * server or another sign-in is never exchanged.
 */
export interface BrowserSignIn {
  /** Open the system browser (false: only print the address, for another device or a test). */
  readonly openBrowser: boolean;
  readonly timeoutMs: number;
  /** Pre-fills the sign-in page's first step (the organization). */
  readonly loginHint?: string;
  /** One line for the person at the terminal. */
  say(line: string): void;
}

export async function signInWithBrowser(config: oauth.Configuration, how: BrowserSignIn): Promise<oauth.TokenEndpointResponse> {
  const pkceCodeVerifier = oauth.randomPKCECodeVerifier();
  const state = oauth.randomState();
  const loopback = await openLoopback({ state, timeoutMs: how.timeoutMs, onRefused: how.say }, (callback) =>
    oauth.authorizationCodeGrant(config, callback, { pkceCodeVerifier, expectedState: state }).catch(failedCheck),
  );
  const url = oauth.buildAuthorizationUrl(config, {
    redirect_uri: loopback.redirectUri,
    scope: SCOPE,
    code_challenge: await oauth.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state,
    ...(how.loginHint ? { login_hint: how.loginHint } : {}),
  });
  how.say(
    how.openBrowser
      ? 'Opening your browser to sign in. If it does not open, visit:'
      : 'Open this address in a browser on this computer to sign in:',
  );
  how.say(`  ${url.href}`);
  if (how.openBrowser) await openBrowser(url.href, how.say);
  how.say('Waiting for the browser…');
  try {
    return await loopback.done;
  } finally {
    loopback.close();
  }
}

/** openid-client refused the answer itself (another server's `iss`, a malformed answer): say which check failed. */
function failedCheck(error: unknown): never {
  if (error instanceof oauth.ClientError && error.cause instanceof Error) {
    throw new Error(`the answer from the sign-in page failed a check (${error.cause.message}): run \`roger login\` again`, {
      cause: error,
    });
  }
  throw error;
}

/** The system browser, best effort: the address is printed anyway, and a machine without one must not crash the sign-in. */
async function openBrowser(url: string, say: (line: string) => void) {
  try {
    const child = await open(url);
    child.once('error', () => say('(could not start a browser here; open the address yourself)'));
  } catch {
    say('(could not start a browser here; open the address yourself)');
  }
}
