import type { AuthenticationResult } from '@azure/msal-node';
import { Unavailable } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { authorizationErrorUrl, completeAuthorization, type AuthorizationRequest } from '../oauth/authorization-request.js';
import { connectOneDriveAfterSignIn } from '../onedrive/connect.js';
import { ONEDRIVE_SCOPES } from '../onedrive/graph-tokens.js';
import type { Services } from '../services.js';
import { bindEntraTenant, EntraBindingClosed } from '../tenants/entra-binding.js';
import { allowsSignIn, isBoundEntraTenant } from '../tenants/sign-in-methods.js';
import { readTenantFresh, type Tenant } from '../tenants/tenants.js';
import { constantTimeEqual, hashSecret, newSecret } from '../tokens/secrets.js';
import {
  AccountTurnedOff,
  EmailTaken,
  mayConnectOrganisation,
  NotProvisioned,
  roleFromClaims,
  signInEntraPerson,
  ADMIN_APP_ROLE,
} from '../users/entra-identity.js';
import { isDeactivated } from '../users/activation.js';
import { writeLoginRecord } from '../users/login-records.js';
import { readUser, type LoginRecord } from '../users/users.js';
import type { Language } from '../web/i18n.js';
import { deleteIfUnchanged } from '../store/conditional-replace.js';
import { deleteUserTokenCache, mergeIntoUserTokenCache } from './token-cache.js';
import { classifyMicrosoftFailure } from './unavailable.js';

/**
 * Sign in with Microsoft (docs/flows.md, Sign in with Microsoft), the upstream half of our
 * authorization endpoint: the browser leaves for Entra ID with a pending sign-in stored here, and
 * comes back to `GET /oauth/microsoft/callback` with a code, which MSAL redeems (checking state
 * and nonce), the id_token is verified (signature, issuer, audience), the `tid` checked against
 * the tenant's bound Entra tenants, and the person found or created.
 *
 * The pending sign-in lives server-side in the `deviceCodes` container (id = hash of `state`,
 * item TTL), single use: spent by an ETag-conditional delete once Entra has answered. It is bound
 * to the browser that started it by a random value in a cookie whose hash it holds: a callback
 * URL planted in another browser (login CSRF) does not sign that browser in.
 */
export const CALLBACK_PATH = '/oauth/microsoft/callback';
export const SIGN_IN_COOKIE = 'roger_ms_signin';
export const PENDING_LIFETIME_SECONDS = 600;
/**
 * What we ask Entra for: who the person is, a refresh token to read their roles again at every
 * refresh, and OneDrive (one consent for both: the link is made at sign-in, shared/onedrive/connect.ts).
 */
export const SIGN_IN_SCOPES = ['openid', 'profile', 'email', 'offline_access', ...ONEDRIVE_SCOPES];

export type PendingPurpose =
  /** Our authorization endpoint's sign-in: ends in an authorization code for the client. */
  | { readonly kind: 'sign-in'; readonly request: AuthorizationRequest }
  /** After admin consent: proves the consenting browser signs in at that `tid` before it is bound. */
  | { readonly kind: 'bind'; readonly adminUserId: string; readonly consentedTid: string };

interface PendingSignInDoc {
  readonly id: string;
  readonly type: 'microsoft-sign-in';
  readonly tenantId: string;
  readonly purpose: PendingPurpose;
  readonly nonce: string;
  /** Sealed, bound to the item id. */
  readonly codeVerifier: string;
  /** Hash of the cookie value that binds the callback to the browser that started. */
  readonly browser: string;
  /** For the bind purpose: the authority tenant the sign-in ran at. */
  readonly authorityTenant?: string;
  readonly lang: Language;
  readonly expiresAt: string;
  readonly ttl: number;
  readonly _etag?: string;
}

const pendingId = (state: string) => `ms-sign-in:${hashSecret(state)}`;

/** Why a callback did not sign anyone in; each has its own page (functions/microsoft-sign-in.ts). */
export type SignInRefusal =
  /** Unknown, spent or expired state: start again. */
  | 'expired'
  /** The callback came to a browser that did not start it (login CSRF), or without its cookie. */
  | 'other-browser'
  /** The person's Entra tenant is not bound to the tenant. */
  | 'not-connected'
  /** No Roger user, and the tenant does not create them on first sign-in. */
  | 'not-provisioned'
  /** The token's email is another user's. */
  | 'email-taken'
  /** The person's user is deactivated (their organisation's directory turned it off over SCIM). */
  | 'deactivated'
  /**
   * After admin consent: the account that signed in is not one that can grant consent there
   * (no directory admin role nor Roger.Admin, or a guest), or the Roger admin who started it is
   * no longer an admin.
   */
  | 'bind-not-allowed'
  /** Microsoft said no, or its answer did not check out: one generic message. */
  | 'failed';

export class MicrosoftSignInRefused extends Error {
  constructor(
    readonly reason: SignInRefusal,
    readonly lang: Language,
    readonly tenantName?: string,
  ) {
    super(`Microsoft sign-in refused: ${reason}`);
    this.name = 'MicrosoftSignInRefused';
  }
}

/** Entra ID did not answer (or answered 429/5xx): the pending sign-in is kept, so the same callback can be loaded again. */
export const microsoftUnavailable = (retryAfterSeconds: number | undefined) =>
  new Unavailable(Math.max(1, Math.ceil(retryAfterSeconds ?? 30)), 'Microsoft is not answering right now; try again shortly');

/**
 * Starts "Sign in with Microsoft" for an authorization request at a tenant: stores a pending
 * sign-in (state → hashed id, nonce, sealed PKCE verifier, the request, a hash binding it to
 * this browser), returns MSAL's authorization URL and the Set-Cookie value that binds the
 * callback to this browser (SameSite=Lax: the callback is a cross-site top-level navigation,
 * Strict cookies are not sent). Throws Unavailable when Microsoft sign-in is not configured in
 * this region.
 */
export function startMicrosoftSignIn(
  services: Services,
  input: { tenant: Tenant; request: AuthorizationRequest; loginHint?: string; lang: Language },
): Promise<{ url: string; setCookie: string }> {
  return startPending(services, input.tenant.id, { kind: 'sign-in', request: input.request }, input.lang, input.loginHint);
}

/** After an admin's consent (functions/tenant-entra.ts): a Microsoft sign-in at the consenting `tid`. */
export function startBindingSignIn(
  services: Services,
  input: { tenantId: string; adminUserId: string; consentedTid: string; lang: Language },
): Promise<{ url: string; setCookie: string }> {
  return startPending(
    services,
    input.tenantId,
    { kind: 'bind', adminUserId: input.adminUserId, consentedTid: input.consentedTid.toLowerCase() },
    input.lang,
    undefined,
    input.consentedTid.toLowerCase(),
  );
}

async function startPending(
  services: Services,
  tenantId: string,
  purpose: PendingPurpose,
  lang: Language,
  loginHint: string | undefined,
  authorityTenant?: string,
): Promise<{ url: string; setCookie: string }> {
  const microsoft = await services.microsoft();
  const state = newSecret(32);
  const nonce = newSecret(32);
  const browser = newSecret(32);
  const pkce = await microsoft.pkce();
  const id = pendingId(state);
  const client = await microsoft.client(authorityTenant ? { tenant: authorityTenant } : {});
  const url = await client.getAuthCodeUrl({
    redirectUri: `${services.config.oauth.issuer}${CALLBACK_PATH}`,
    scopes: SIGN_IN_SCOPES,
    state,
    nonce,
    codeChallenge: pkce.challenge,
    codeChallengeMethod: 'S256',
    // Entra refuses an account hint with prompt=select_account (MSAL drops the hint): the person
    // picks an account unless the page already knows who they are.
    ...(loginHint ? { loginHint } : { prompt: 'select_account' }),
  });
  const expiresAt = new Date(services.now().getTime() + PENDING_LIFETIME_SECONDS * 1000).toISOString();
  await services.store.container('deviceCodes').items.create<PendingSignInDoc>({
    id,
    type: 'microsoft-sign-in',
    tenantId,
    purpose,
    nonce,
    codeVerifier: microsoft.cipher.seal(pkce.verifier, id),
    browser: hashSecret(browser),
    ...(authorityTenant ? { authorityTenant } : {}),
    lang,
    expiresAt,
    ttl: PENDING_LIFETIME_SECONDS,
  });
  const secure = services.config.oauth.issuer.startsWith('https:') ? '; Secure' : '';
  return {
    url,
    setCookie: `${SIGN_IN_COOKIE}=${browser}; Path=${CALLBACK_PATH}; Max-Age=${PENDING_LIFETIME_SECONDS}; HttpOnly; SameSite=Lax${secure}`,
  };
}

/** The cookie that ends the binding (sent with every answer of the callback that consumed it). */
export const clearSignInCookie = (issuer: string) =>
  `${SIGN_IN_COOKIE}=; Path=${CALLBACK_PATH}; Max-Age=0; HttpOnly; SameSite=Lax${issuer.startsWith('https:') ? '; Secure' : ''}`;

async function readPending(services: Services, state: string): Promise<PendingSignInDoc | undefined> {
  const id = pendingId(state);
  const { resource } = await services.store.container('deviceCodes').item(id, id).read<PendingSignInDoc>();
  if (resource?.type !== 'microsoft-sign-in') return undefined;
  return Date.parse(resource.expiresAt) > services.now().getTime() ? resource : undefined;
}

/** Of two callbacks with one state, exactly one spends it. */
function spend(services: Services, pending: PendingSignInDoc): Promise<boolean> {
  return deleteIfUnchanged(services.store.container('deviceCodes'), pending, pending.id);
}

export interface CallbackInput {
  readonly state: string;
  readonly code: string;
  /** The binding cookie's value, if the browser sent one. */
  readonly browser: string | undefined;
  readonly lang: Language;
  readonly ip?: string;
}

/**
 * Microsoft sent the browser back with an error instead of a code (the person cancelled, or Entra
 * refused: RFC 6749 §4.1.2.1). When the state is this browser's own pending sign-in (its cookie
 * matches), the sign-in is spent, and for our authorization endpoint the client is told
 * `access_denied` (with its `state` and our `iss`), so the app does not wait for an answer that
 * never comes. Otherwise (an unknown or spent state, another browser's, or the verification
 * sign-in after admin consent, which has no client), `redirect` is absent: a page says it.
 */
export async function declineMicrosoftSignIn(
  services: Services,
  input: { state: string | undefined; browser: string | undefined; error: string },
  log: Logger,
): Promise<{ spent: boolean; redirect?: string }> {
  if (!input.state || !input.browser) return { spent: false };
  const pending = await readPending(services, input.state);
  if (!pending || !constantTimeEqual(hashSecret(input.browser), pending.browser)) return { spent: false };
  if (!(await spend(services, pending))) return { spent: false };
  log.info('microsoft-sign-in-declined', { tenantId: pending.tenantId, purpose: pending.purpose.kind, error: input.error.slice(0, 64) });
  if (pending.purpose.kind !== 'sign-in') return { spent: true };
  const description = 'the sign-in with Microsoft was cancelled or refused';
  return {
    spent: true,
    redirect: authorizationErrorUrl(services.config.oauth.issuer, pending.purpose.request, 'access_denied', description),
  };
}

/** Where the browser goes next: the client's redirect URI with our code, or (bind) the tenant's page. */
export type CallbackOutcome =
  | { readonly kind: 'signed-in'; readonly redirect: string }
  | { readonly kind: 'bound'; readonly tenantName: string; readonly lang: Language };

/**
 * The callback: throws MicrosoftSignInRefused (a page), Unavailable (Entra down or slow: a 503
 * page with Retry-After, the pending sign-in kept), or returns where the browser goes.
 */
export async function finishMicrosoftSignIn(services: Services, input: CallbackInput, log: Logger): Promise<CallbackOutcome> {
  const pending = await readPending(services, input.state);
  // The callback's own Accept-Language: the same browser, and the one reading the page now.
  const { lang } = input;
  if (!pending) throw new MicrosoftSignInRefused('expired', lang);
  if (!input.browser || !constantTimeEqual(hashSecret(input.browser), pending.browser)) {
    log.warn('microsoft-sign-in-refused', { tenantId: pending.tenantId, reason: 'other-browser' });
    throw new MicrosoftSignInRefused('other-browser', lang);
  }
  const microsoft = await services.microsoft();
  const client = await microsoft.client(pending.authorityTenant ? { tenant: pending.authorityTenant } : {});
  let result: AuthenticationResult;
  try {
    // The code is single use: the keys that check the id_token it buys are loaded first, so an
    // Entra that does not serve them fails here, with the code unspent and the page's reload working.
    await microsoft.signingKeysReady();
    result = await client.acquireTokenByCode(
      {
        code: input.code,
        redirectUri: `${services.config.oauth.issuer}${CALLBACK_PATH}`,
        scopes: SIGN_IN_SCOPES,
        codeVerifier: microsoft.cipher.open(pending.codeVerifier, pending.id),
        state: input.state,
        nonce: pending.nonce,
      },
      { code: input.code, state: input.state, nonce: pending.nonce },
    );
  } catch (error) {
    // Entra down, or refusing our registration (an expired secret): ours to fix, the code unspent,
    // a reload later works. Anything else (the code refused, state or nonce not matching) ends here.
    const failure = classifyMicrosoftFailure(error);
    if (failure.kind === 'unavailable') {
      log.warn('microsoft-sign-in-unavailable', { tenantId: pending.tenantId, reason: (error as Error).message });
      throw microsoftUnavailable(failure.retryAfterSeconds);
    }
    log.warn('microsoft-sign-in-refused', { tenantId: pending.tenantId, reason: 'token', error: errorCodeOf(error) });
    await spend(services, pending);
    throw new MicrosoftSignInRefused('failed', lang);
  }

  let claims: Record<string, unknown>;
  try {
    claims = await microsoft.verifyIdToken(result.idToken);
    if (claims.nonce !== pending.nonce) throw new Error('nonce');
    if (typeof claims.oid !== 'string' || !claims.oid) throw new Error('oid');
  } catch (error) {
    // The code is redeemed already (keys fetched again for a key id we did not know, and not
    // served): a reload cannot finish this sign-in, so it is not promised; the person starts again.
    const reason = classifyMicrosoftFailure(error).kind === 'unavailable' ? 'keys-unavailable' : 'id-token';
    log.warn('microsoft-sign-in-refused', { tenantId: pending.tenantId, reason, error: errorCodeOf(error) });
    await spend(services, pending);
    throw new MicrosoftSignInRefused('failed', lang);
  }
  const tid = (claims.tid as string).toLowerCase();
  const oid = claims.oid as string;
  // From here on the answer is Microsoft's: the state is spent whatever we make of it (a second
  // callback with it, a replay, finds nothing).
  if (!(await spend(services, pending))) throw new MicrosoftSignInRefused('expired', lang);

  const tenant = await readTenantFresh(services.store, pending.tenantId);
  if (!tenant) throw new MicrosoftSignInRefused('failed', lang);

  if (pending.purpose.kind === 'bind') {
    if (tid !== pending.purpose.consentedTid) {
      log.warn('microsoft-sign-in-refused', { tenantId: tenant.id, reason: 'bind-other-tid' });
      throw new MicrosoftSignInRefused('not-connected', lang, tenant.name);
    }
    // The Roger admin who started the consent, read again now: one who lost the role, was
    // deactivated or was erased in the meantime no longer connects anything.
    const starter = await readUser(services.store, tenant.id, pending.purpose.adminUserId);
    if (starter?.role !== 'admin' || isDeactivated(starter)) {
      log.warn('microsoft-sign-in-refused', { tenantId: tenant.id, reason: 'bind-starter-not-admin' });
      throw new MicrosoftSignInRefused('bind-not-allowed', lang, tenant.name);
    }
    // And someone of that organisation who could have granted the consent, not any member or guest.
    if (!mayConnectOrganisation(claims)) {
      log.warn('microsoft-sign-in-refused', { tenantId: tenant.id, reason: 'bind-not-entra-admin' });
      throw new MicrosoftSignInRefused('bind-not-allowed', lang, tenant.name);
    }
    await bindEntraTenant(services, tenant.id, tid, { kind: 'admin-consent', adminUserId: pending.purpose.adminUserId }, log);
    return { kind: 'bound', tenantName: tenant.name, lang };
  }

  const { request } = pending.purpose;
  const role = roleFromClaims(claims, tenant.policy.entraAdminGroupId);
  let signInTenant = tenant;
  if (!allowsSignIn(tenant, 'microsoft')) throw new MicrosoftSignInRefused('failed', lang);
  if (!isBoundEntraTenant(tenant, tid)) {
    // The first admin of a tenant the operator created for a Microsoft-first start binds their
    // `tid`; only with the app role (a group id in our policy proves nothing before binding).
    const firstAdmin = tenant.bindEntraOnFirstAdminSignIn === true && Array.isArray(claims.roles) && claims.roles.includes(ADMIN_APP_ROLE);
    if (!firstAdmin) {
      log.warn('microsoft-sign-in-refused', { tenantId: tenant.id, reason: 'unbound-tid' });
      throw new MicrosoftSignInRefused('not-connected', lang, tenant.name);
    }
    try {
      signInTenant = await bindEntraTenant(services, tenant.id, tid, { kind: 'first-admin' }, log);
    } catch (error) {
      if (!(error instanceof EntraBindingClosed)) throw error;
      log.warn('microsoft-sign-in-refused', { tenantId: tenant.id, reason: 'first-admin-lost' });
      throw new MicrosoftSignInRefused('not-connected', lang, tenant.name);
    }
  }

  let user;
  try {
    ({ user } = await signInEntraPerson(
      services.store,
      signInTenant,
      {
        tid,
        oid,
        role,
        ...(typeof claims.name === 'string' ? { name: claims.name } : {}),
        ...(typeof claims.email === 'string' ? { email: claims.email } : {}),
        ...(typeof claims.preferred_username === 'string' ? { preferredUsername: claims.preferred_username } : {}),
      },
      services.now(),
      log,
    ));
  } catch (error) {
    if (error instanceof NotProvisioned) throw new MicrosoftSignInRefused('not-provisioned', lang, tenant.name);
    if (error instanceof EmailTaken) throw new MicrosoftSignInRefused('email-taken', lang, tenant.name);
    if (error instanceof AccountTurnedOff) {
      log.warn('microsoft-sign-in-refused', { tenantId: tenant.id, reason: 'deactivated' });
      throw new MicrosoftSignInRefused('deactivated', lang, tenant.name);
    }
    throw error;
  }

  await mergeIntoUserTokenCache(
    services.store,
    microsoft.cipher,
    { tenantId: user.tenantId, userId: user.id },
    client.getTokenCache().serialize(),
    services.now(),
  );
  // An erasure that ran since the user was read (data-rights.ts deletes the cache, then this
  // wrote it again) must not leave the person's Microsoft tokens behind: read the user again
  // after the write, and take the cache away if they are gone.
  const current = await readUser(services.store, user.tenantId, user.id);
  if (!current) {
    await deleteUserTokenCache(services.store, user.tenantId, user.id);
    log.info('authorization-refused', { tenantId: user.tenantId, userId: user.id, clientId: request.clientId, reason: 'no-user' });
    return {
      kind: 'signed-in',
      redirect: authorizationErrorUrl(services.config.oauth.issuer, request, 'access_denied', 'the account no longer exists'),
    };
  }
  // Deactivated since it was read: no code (completeAuthorization would refuse too), and nothing else written for them.
  if (isDeactivated(current)) throw new MicrosoftSignInRefused('deactivated', lang, tenant.name);
  await connectOneDriveAfterSignIn(services, { tenantId: user.tenantId, userId: user.id }, log);
  const record: LoginRecord = {
    at: services.now().toISOString(),
    clientId: request.clientId,
    success: true,
    method: 'microsoft',
    ...(tenant.policy.loginHistoryKeepsIp && input.ip ? { ip: input.ip } : {}),
  };
  // One small item of its own (docs/data.md#login-records): the user item is not written for it.
  await writeLoginRecord(services.store, current, record, tenant.policy);
  log.info('microsoft-sign-in', { tenantId: user.tenantId, userId: user.id, clientId: request.clientId });
  return { kind: 'signed-in', redirect: await completeAuthorization(services, request, { tenantId: user.tenantId, userId: user.id }, log) };
}

/** MSAL's error code (e.g. invalid_grant, state_mismatch), never its message (it can quote tokens). */
const errorCodeOf = (error: unknown) =>
  error && typeof error === 'object' && 'errorCode' in error ? String(error.errorCode) : error instanceof Error ? error.name : 'unknown';
