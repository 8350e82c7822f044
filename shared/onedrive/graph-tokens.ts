import type { AccountInfo, AuthenticationResult, ConfidentialClientApplication } from '@azure/msal-node';
import { Unavailable } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { MicrosoftSignIn } from '../microsoft/msal.js';
import { mergeIntoUserTokenCache, userTokenCache } from '../microsoft/token-cache.js';
import { classifyMicrosoftFailure } from '../microsoft/unavailable.js';
import type { Services } from '../services.js';

/**
 * OneDrive's Microsoft tokens, through MSAL (docs/flows.md#onedrive-for-business): the same app
 * registration and the same per-user sealed MSAL cache as Sign in with Microsoft
 * (shared/microsoft/token-cache.ts, `msal:<userId>`), so one consent and one Entra refresh token
 * serve both. MSAL builds the authorization URL, redeems the code, refreshes and rotates; this
 * module only says which user's cache and which account, and what Entra's answers mean here.
 *
 * `Files.ReadWrite`: the signed-in user's own files only. The app works in that user's Print and
 * Scan folders and nowhere else; `.All` would add every file shared with them. MSAL adds `openid
 * profile offline_access` to every request itself.
 */
export const ONEDRIVE_SCOPES: readonly string[] = ['Files.ReadWrite'];
/** What the consent asks for (offline_access named, as the connect request always did). */
export const CONNECT_SCOPES: readonly string[] = ['Files.ReadWrite', 'offline_access'];
export const CALLBACK_PATH = '/api/onedrive/callback';

/**
 * Which account of the user's MSAL cache the link uses: MSAL's home account id (`oid.tid`), the
 * cloud its tokens are cached under, and the realm of its access tokens. Ids only.
 */
export interface LinkedAccount {
  readonly homeAccountId: string;
  readonly environment: string;
  readonly tenantId: string;
}

/**
 * Entra refused (consent withdrawn, the account disabled, the refresh token expired or revoked,
 * nothing left in the cache): the only way back is to connect again.
 */
export class OneDriveConsentGone extends Error {
  constructor(readonly reason: string) {
    super(`Microsoft no longer grants OneDrive access (${reason})`);
    this.name = 'OneDriveConsentGone';
  }
}

type Owner = { readonly tenantId: string; readonly userId: string };
type TokenServices = Pick<Services, 'config' | 'store' | 'now' | 'microsoft' | 'telemetry'>;

const redirectUri = (services: Pick<Services, 'config'>) => `${services.config.oauth.issuer}${CALLBACK_PATH}`;
const entraSpan = (grant: string) => ({ system: 'entra', operation: 'token', target: grant }) as const;

/** The consent URL (authorization code with PKCE, RFC 7636 S256), built by MSAL. */
export async function onedriveAuthorizationUrl(services: TokenServices, input: { state: string; codeChallenge: string }): Promise<string> {
  const client = await (await services.microsoft()).client();
  return client.getAuthCodeUrl({
    redirectUri: redirectUri(services),
    scopes: [...CONNECT_SCOPES],
    state: input.state,
    codeChallenge: input.codeChallenge,
    codeChallengeMethod: 'S256',
    responseMode: 'query',
  });
}

/**
 * An MSAL client for the owner: with their stored cache (read before, written after each use), or
 * (`fresh`) with an empty one whose entries the caller adds to the stored cache once it has
 * decided to keep them, so a connection that fails on the way (Graph down, a file in the way)
 * stores nothing.
 */
async function clientFor(services: TokenServices, owner: Owner, log: Logger, fresh = false) {
  const microsoft = await services.microsoft();
  const client = await microsoft.client(fresh ? {} : { cache: userTokenCache(services.store, microsoft.cipher, owner, services.now, log) });
  return { microsoft, client };
}

/** Adds what a fresh client holds to the user's stored cache (merged on the ETag read, the new entries winning). */
async function keep(services: TokenServices, microsoft: MicrosoftSignIn, client: ConfidentialClientApplication, owner: Owner) {
  await mergeIntoUserTokenCache(services.store, microsoft.cipher, owner, client.getTokenCache().serialize(), services.now());
}

export interface RedeemedConsent {
  readonly accessToken: string;
  readonly account: LinkedAccount;
  /** Stores the tokens in the user's MSAL cache (after the folders are there and the state spent). */
  keep(): Promise<void>;
}

/** The callback: MSAL redeems the code with the PKCE verifier. Throws OneDriveConsentGone for a code Entra does not accept. */
export async function redeemConsent(services: TokenServices, owner: Owner, code: string, codeVerifier: string, log: Logger) {
  const { microsoft, client } = await clientFor(services, owner, log, true);
  const result = await services.telemetry.dependency(entraSpan('authorization_code'), () =>
    guard(() => client.acquireTokenByCode({ code, codeVerifier, redirectUri: redirectUri(services), scopes: [...CONNECT_SCOPES] })),
  );
  return {
    accessToken: result.accessToken,
    account: await linkedAccountOf(client, result),
    keep: () => keep(services, microsoft, client, owner),
  } satisfies RedeemedConsent;
}

/**
 * An access token for Graph as the link's account, from the user's MSAL cache: the cached one
 * while it is valid (`renew`: Graph refused it, get another), else refreshed by MSAL, which
 * writes the rotated refresh token back (ETag-conditional, token-cache.ts).
 */
export async function graphAccessToken(services: TokenServices, owner: Owner, account: LinkedAccount, renew: boolean, log: Logger) {
  const { client } = await clientFor(services, owner, log);
  const result = await guard(() =>
    client.acquireTokenSilent({ account: accountInfo(account), scopes: [...ONEDRIVE_SCOPES], forceRefresh: renew }),
  );
  return { token: result.accessToken, expiresAt: result.expiresOn?.getTime() ?? 0 };
}

/**
 * A link stored before OneDrive used MSAL holds a bare refresh token: MSAL redeems it once
 * (`acquireTokenByRefreshToken`, MSAL's way in for tokens from elsewhere) into the user's cache,
 * and the link names the account from then on.
 */
export async function migrateRefreshToken(services: TokenServices, owner: Owner, refreshToken: string, log: Logger) {
  const { microsoft, client } = await clientFor(services, owner, log, true);
  const result = await services.telemetry.dependency(entraSpan('refresh_token'), () =>
    guard(async () => {
      const answer = await client.acquireTokenByRefreshToken({ refreshToken, scopes: [...ONEDRIVE_SCOPES], forceCache: true });
      if (!answer) throw new OneDriveConsentGone('no tokens');
      return answer;
    }),
  );
  const account = await linkedAccountOf(client, result);
  await keep(services, microsoft, client, owner);
  return account;
}

/**
 * Disconnecting: the link's account leaves the user's MSAL cache (its refresh token with it),
 * unless it is the account the user signs in with, whose refresh token keeps their session's
 * roles current (shared/microsoft/refresh.ts).
 */
export async function forgetAccount(
  services: TokenServices,
  owner: Owner,
  account: LinkedAccount,
  signIn: { tid: string; oid: string } | undefined,
  log: Logger,
) {
  if (signIn && isAccountOf(account, signIn)) return;
  const { client } = await clientFor(services, owner, log);
  await client.getTokenCache().removeAccount(accountInfo(account));
}

/** The account the user signed in with (their Entra `tid` and `oid`), from their MSAL cache; undefined when it is not there. */
export async function signInAccount(services: TokenServices, owner: Owner, signIn: { tid: string; oid: string }, log: Logger) {
  const { client } = await clientFor(services, owner, log);
  const account = (await client.getTokenCache().getAllAccounts()).find((candidate) => isAccountOf(linked(candidate), signIn));
  return account ? linked(account) : undefined;
}

/** MSAL's home account id is `oid.tid` (client_info's uid and utid); Entra's ids compared as GUIDs, in any case. */
const isAccountOf = (account: LinkedAccount, person: { tid: string; oid: string }) =>
  account.homeAccountId.toLowerCase() === `${person.oid}.${person.tid}`.toLowerCase();

function accountInfo(account: LinkedAccount): AccountInfo {
  return { ...account, localAccountId: account.homeAccountId.split('.')[0] ?? '', username: '' };
}

const linked = (account: AccountInfo): LinkedAccount => ({
  homeAccountId: account.homeAccountId,
  environment: account.environment,
  tenantId: account.tenantId,
});

/**
 * The account MSAL cached the answer under. Entra answers with an id_token (MSAL asks for
 * `openid`), which makes an account; without one (a grant that never had `openid`), the access
 * token MSAL just cached names it.
 */
async function linkedAccountOf(client: ConfidentialClientApplication, result: AuthenticationResult): Promise<LinkedAccount> {
  if (result.account) return linked(result.account);
  const entry = Object.values(client.getTokenCache().getKVStore()).find(
    (value) =>
      (value as { credentialType?: string }).credentialType === 'AccessToken' &&
      (value as { secret?: string }).secret === result.accessToken,
  ) as { homeAccountId: string; environment: string; realm: string } | undefined;
  if (!entry) throw new OneDriveConsentGone('no account');
  return { homeAccountId: entry.homeAccountId, environment: entry.environment, tenantId: entry.realm };
}

/**
 * What MSAL's failures mean here (classifyMicrosoftFailure, the one reading for sign-in, refresh
 * and OneDrive): Entra refusing the grant is OneDriveConsentGone; Entra down, slow, throttling or
 * refusing our client (`invalid_client`: an expired secret, ours to fix) is Unavailable with a
 * retry hint; anything else (the store under the MSAL cache) is rethrown as it is.
 */
async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof OneDriveConsentGone) throw error;
    const failure = classifyMicrosoftFailure(error);
    if (failure.kind === 'unavailable') throw unavailable(failure.retryAfterSeconds);
    if (failure.kind === 'refused') throw new OneDriveConsentGone(failure.code);
    throw error;
  }
}

/** Entra down, throttling or refusing our client: Entra's Retry-After, or 30 s. */
export class MicrosoftTokensUnavailable extends Unavailable {
  constructor(retryAfterSeconds: number | undefined, detail = 'Microsoft sign-in is not available right now; try again') {
    super(Math.max(1, Math.ceil(retryAfterSeconds ?? 30)), detail);
  }
}

const unavailable = (retryAfterSeconds: number | undefined) => new MicrosoftTokensUnavailable(retryAfterSeconds);
