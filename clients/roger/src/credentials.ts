import { open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sleep } from '@roger-cloud/client-kit/backoff';
import { ApiError, apiRequest, Unreachable, type ApiCall, isFetchFailure } from '@roger-cloud/client-kit/http';
import { oauth, oauthClient } from '@roger-cloud/client-kit/oauth';
import { configDir, deleteSecretFile, readSecretFile, writeSecretFile } from '@roger-cloud/client-kit/secret-file';

/**
 * The signed-in user's tokens (docs/clients.md#roger-files): one file, 0600, in roger's config
 * folder. The access token is refreshed shortly before it expires, and on a 401; the refresh
 * token rotates at each use, so the new one is saved at once.
 */
export const CLIENT_ID = 'roger-desktop';
export const SCOPE = 'jobs offline_access';

export interface SavedLogin {
  readonly apiUrl: string;
  readonly accessToken: string;
  readonly refreshToken: string;
  /** ISO time the access token expires. */
  readonly expiresAt: string;
}

/** Refresh this long before the access token expires, so a request never carries a dying token. */
const EARLY_REFRESH_MS = 60_000;

export const credentialsPath = () => join(configDir('roger'), 'credentials.json');

export class NotSignedIn extends Error {
  constructor(why = 'not signed in') {
    super(`${why}: run \`roger login\``);
    this.name = 'NotSignedIn';
  }
}

/** What the token endpoint answered, as saved. */
export async function saveLogin(apiUrl: string, tokens: oauth.TokenEndpointResponse, now = Date.now()): Promise<SavedLogin> {
  if (!tokens.refresh_token) throw new Error('the server gave no refresh token');
  const login: SavedLogin = {
    apiUrl,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expiresAt: new Date(now + (tokens.expires_in ?? 0) * 1000).toISOString(),
  };
  await writeSecretFile(credentialsPath(), login);
  return login;
}

export const readLogin = () => readSecretFile<SavedLogin>(credentialsPath(), 'delete it and sign in again (`roger login`)');
export const forgetLogin = () => deleteSecretFile(credentialsPath());

/** A signed-in user's way to the API: calls with a fresh access token. */
export interface Session {
  readonly apiUrl: string;
  accessToken(): Promise<string>;
  /** An API call with the user's token; on a 401 the token is refreshed once and the call repeated. */
  call<T = unknown>(path: string, call?: Omit<ApiCall, 'token'>): Promise<T>;
}

export async function signedIn(): Promise<Session> {
  let login = await readLogin();
  if (!login) throw new NotSignedIn();
  let refreshing: Promise<SavedLogin> | undefined;

  const refresh = () =>
    (refreshing ??= withRefreshLock(async () => {
      // Another roger (the IPP printer running beside a `roger print`) may have refreshed first:
      // its rotated token is in the file, and ours is spent.
      const latest = await readLogin();
      if (!latest) throw new NotSignedIn('signed out');
      if (latest.refreshToken !== login!.refreshToken && !expiring(latest)) return latest;
      try {
        const config = await oauthClient(latest.apiUrl, CLIENT_ID);
        return await saveLogin(latest.apiUrl, await oauth.refreshTokenGrant(config, latest.refreshToken));
      } catch (error) {
        if (error instanceof oauth.ResponseBodyError && error.error === 'invalid_grant') {
          await forgetLogin();
          throw new NotSignedIn('your sign-in has ended');
        }
        // fetch() failing outright: the same Unreachable as an API call, so `roger watch` waits it out.
        if (isFetchFailure(error)) throw new Unreachable(latest.apiUrl, error.cause ?? error);
        throw error;
      }
    }).finally(() => (refreshing = undefined)));

  const accessToken = async () => {
    if (expiring(login!)) login = await refresh();
    return login!.accessToken;
  };

  return {
    apiUrl: login.apiUrl,
    accessToken,
    async call<T>(path: string, call: Omit<ApiCall, 'token'> = {}) {
      try {
        return await apiRequest<T>(login!.apiUrl, path, { ...call, token: await accessToken() });
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 401) throw error;
        login = await refresh();
        return apiRequest<T>(login.apiUrl, path, { ...call, token: login.accessToken });
      }
    },
  };
}

/**
 * One refresh at a time across every roger on this computer. The server revokes the whole
 * sign-in when a rotated refresh token is presented again, so two rogers refreshing with the
 * same token at once (`roger printer` running while `roger print` starts) would sign the user
 * out. The lock is a file created exclusively beside the token file; the one who waited then
 * finds the rotated token in the file and uses it. A lock older than a refresh can take was
 * left by a roger that died, and is broken.
 */
const STALE_LOCK_MS = 30_000;

async function withRefreshLock<T>(work: () => Promise<T>): Promise<T> {
  const lock = join(configDir('roger'), 'credentials.lock');
  const giveUp = Date.now() + STALE_LOCK_MS + 5_000;
  for (;;) {
    try {
      await (await open(lock, 'wx', 0o600)).close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const held = await stat(lock).catch(() => undefined);
      if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) await unlink(lock).catch(() => undefined);
      else if (Date.now() > giveUp)
        throw new Error(`another roger holds ${lock}: try again, or delete it if no roger is running`, { cause: error });
      else await sleep(50 + Math.random() * 100);
    }
  }
  try {
    return await work();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}

const expiring = (login: SavedLogin) => Date.parse(login.expiresAt) - Date.now() < EARLY_REFRESH_MS;
