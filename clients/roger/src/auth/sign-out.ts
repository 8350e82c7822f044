import { oauth } from '@roger-cloud/client-kit/oauth';
import { forgetLogin, readLogin } from '../credentials.js';
import { connect, inWords } from './connect.js';

/**
 * Signing out (docs/clients.md#signing-in): the refresh token is revoked at the server (RFC 7009),
 * which ends the whole sign-in, and the token file is deleted. The file goes even when the server
 * cannot be told, so this computer keeps nothing; the answer says whether the revocation was sent.
 */
export type SignOut =
  | { readonly outcome: 'not-signed-in' }
  | { readonly outcome: 'revoked'; readonly apiUrl: string }
  | { readonly outcome: 'not-revoked'; readonly apiUrl: string; readonly why: string };

export async function signOut(): Promise<SignOut> {
  let login;
  try {
    login = await readLogin();
  } catch {
    // An unreadable or too widely readable file: nothing in it can be trusted to be revoked, but it must still go.
    await forgetLogin();
    return { outcome: 'not-signed-in' };
  }
  if (!login) return { outcome: 'not-signed-in' };
  try {
    const config = await connect(login.apiUrl);
    await oauth.tokenRevocation(config, login.refreshToken, { token_type_hint: 'refresh_token' });
    return { outcome: 'revoked', apiUrl: login.apiUrl };
  } catch (error) {
    return { outcome: 'not-revoked', apiUrl: login.apiUrl, why: inWords(error, login.apiUrl).message };
  } finally {
    await forgetLogin();
  }
}
