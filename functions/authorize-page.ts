import { Type } from '@sinclair/typebox';
import { RateLimited } from '../shared/errors.js';
import { clientIp } from '../shared/http/client-ip.js';
import type { ErrorPages } from '../shared/http/error-rendering.js';
import { defineRoute, type RouteResult } from '../shared/http/route.js';
import type { Logger } from '../shared/logging/logger.js';
import { startMicrosoftSignIn } from '../shared/microsoft/sign-in.js';
import { oauthDefaults } from '../shared/oauth/defaults.js';
import { checkAuthorizationRequest, completeAuthorization, type AuthorizationRequest } from '../shared/oauth/authorization-request.js';
import { addressBucket, reserve } from '../shared/rate-limit.js';
import type { Services } from '../shared/services.js';
import { allowsSignIn } from '../shared/tenants/sign-in-methods.js';
import { findTenantForSignIn, readTenant, type Tenant } from '../shared/tenants/tenants.js';
import { spendVerifyTime } from '../shared/tokens/credential-hash.js';
import { signIn } from '../shared/users/sign-in.js';
import { withinSignInFailureLimit } from '../shared/users/sign-in-limits.js';
import { signAuthorizeTicket, verifyAuthorizeTicket, type AuthorizeTicket } from '../shared/web/authorize-ticket.js';
import {
  accountPage,
  AUTHORIZE_FIELD_LIMITS,
  invalidLinkPage,
  methodsPage,
  startAgainPage,
  type AuthorizeMessage,
  type CredentialsField,
} from '../shared/web/authorize-views.js';
import { AUTHORIZE_CSRF, checkCsrf, csrfCookie, csrfTokenFor } from '../shared/web/csrf.js';
import { htmlResult, pageContentSecurityPolicy } from '../shared/web/html.js';
import { languageOf, type Language } from '../shared/web/i18n.js';

/**
 * The authorization endpoint (RFC 6749 §4.1, RFC 7636 S256 only, RFC 8252, RFC 9207) and its
 * sign-in page (docs/flows.md, the authorization code grant). Server-rendered HTML without
 * JavaScript, in English or French by Accept-Language. The request is checked once, on
 * arrival; from then on it travels in a signed ticket bound to the page's CSRF cookie:
 *  1. `GET /oauth/authorize`: the request; an email or organization;
 *  2. `POST /oauth/authorize`: the tenant's ways to sign in (Microsoft, password or both);
 *  3. `POST /oauth/authorize/password`: signed in, the browser goes back to the client with a
 *     code (303); or `POST /oauth/authorize/microsoft` (fields `csrf` and `ticket` only): on to
 *     Microsoft (303), whose callback (functions/microsoft-sign-in.ts) ends the same way.
 * Every credential failure says the same thing; lockout and the per-address limit are those of
 * every password sign-in.
 */
const Field = (maxLength: number) => Type.Optional(Type.String({ maxLength }));
const Html = Type.String({ description: 'An HTML page' });
const page = (description: string) => ({ description, schema: Html, contentType: 'text/html' });
const TICKET_LIMIT = 8192;

/** Unexpected errors (an outage, a bug) are pages too; there is no start to link back to: the client starts the flow. */
const AUTHORIZE_ERRORS: ErrorPages = {
  byKind: {
    'service-unavailable': { title: 'Please try again', message: 'A service we depend on did not answer. Wait a moment, then try again.' },
  },
};

const isHttps = (services: Services) => new URL(services.config.oauth.issuer).protocol === 'https:';

/**
 * `form-action` sources for a page whose forms end in a redirect away from this origin (the
 * browser checks every redirect of a form submission against it, and blocks the navigation
 * otherwise): the client's redirect URI (its origin, or its private-use scheme) and, with the
 * Microsoft button, the origin of the authority MSAL sends the browser to.
 */
async function formTargets(services: Services, request: AuthorizationRequest, microsoft: boolean): Promise<string[]> {
  const redirect = new URL(request.redirectUri);
  const special = ['http:', 'https:'].includes(redirect.protocol);
  // CSP's host-source grammar has no IPv6 literal (Chromium ignores `http://[::1]:port` as
  // invalid), so the desktop app's `[::1]` loopback can only be allowed by its scheme.
  const ipv6 = redirect.hostname.startsWith('[');
  const targets = [!special ? redirect.protocol : ipv6 ? redirect.protocol : redirect.origin];
  if (microsoft) targets.push(new URL((await services.microsoft()).authority).origin);
  return targets;
}

const seeOther = (location: string, headers: Record<string, string> = {}): RouteResult => ({
  status: 303,
  headers: { Location: location, 'Cache-Control': 'no-store', ...headers },
});

/** The CSRF check or the ticket failed: nothing was read or changed. */
function startAgain(lang: Language, log: Logger, reason: string): RouteResult {
  log.warn('authorize-page-rejected', { reason });
  return htmlResult(403, startAgainPage(lang));
}

interface Step {
  readonly csrf: string;
  readonly ticket: AuthorizeTicket;
  readonly lang: Language;
}

/**
 * Every POST: the double-submit CSRF check, then the ticket (signature, audience, expiry,
 * binding to this browser's CSRF token). An expired ticket whose request is intact starts the
 * page over with it, so a slow typist does not have to go back to the app.
 */
async function checkStep(
  services: Services,
  form: { csrf?: string; ticket?: string },
  headers: Headers,
  log: Logger,
): Promise<Step | RouteResult> {
  const lang = languageOf(headers);
  const csrf = checkCsrf(headers, form.csrf, AUTHORIZE_CSRF);
  if (!csrf) return startAgain(lang, log, 'csrf');
  const check = await verifyAuthorizeTicket(services.keys, services.config.oauth.issuer, form.ticket, csrf, services.now());
  if (check.ok) return { csrf, ticket: check.ticket, lang };
  if (check.reason === 'expired' && check.request) {
    log.info('authorize-page-expired');
    return showAccount(services, { csrf, lang, ticket: { request: check.request }, status: 403, notice: 'expired' });
  }
  return startAgain(lang, log, 'ticket');
}

const isStep = (value: Step | RouteResult): value is Step => 'ticket' in value;

async function showAccount(
  services: Services,
  view: { csrf: string; lang: Language; ticket: AuthorizeTicket; status: number; notice?: AuthorizeMessage; missing?: boolean },
  headers: Record<string, string> = {},
): Promise<RouteResult> {
  const { issuer } = services.config.oauth;
  const ticket = await signAuthorizeTicket(services.keys, issuer, { request: view.ticket.request }, view.csrf, services.now());
  return htmlResult(
    view.status,
    accountPage({
      lang: view.lang,
      csrf: view.csrf,
      ticket,
      clientId: view.ticket.request.clientId,
      ...(view.ticket.account ? { account: view.ticket.account } : {}),
      ...(view.notice ? { notice: view.notice } : {}),
      ...(view.missing ? { error: { message: 'missingAccount', fields: ['account'] } } : {}),
    }),
    headers,
  );
}

/** What the tenant offers: an unknown one looks like a password tenant, and fails like a wrong password. */
function methodsOf(services: Services, tenant: Tenant | undefined) {
  return {
    microsoft: !!tenant && allowsSignIn(tenant, 'microsoft') && !services.config.microsoft.disabledBecause,
    password: !tenant || allowsSignIn(tenant, 'password'),
  };
}

async function showMethods(
  services: Services,
  step: Step,
  tenant: Tenant | undefined,
  status: number,
  extra: { username?: string; error?: { message: AuthorizeMessage; fields: readonly CredentialsField[] } } = {},
  headers: Record<string, string> = {},
): Promise<RouteResult> {
  const { issuer } = services.config.oauth;
  const ticket = await signAuthorizeTicket(services.keys, issuer, step.ticket, step.csrf, services.now());
  const methods = methodsOf(services, tenant);
  const account = step.ticket.account ?? '';
  const username = extra.username ?? (account.includes('@') ? account : undefined);
  return htmlResult(
    status,
    methodsPage({
      lang: step.lang,
      csrf: step.csrf,
      ticket,
      account,
      ...methods,
      ...(username ? { username } : {}),
      ...(extra.error ? { error: extra.error } : {}),
    }),
    {
      'Content-Security-Policy': pageContentSecurityPolicy(await formTargets(services, step.ticket.request, methods.microsoft)),
      ...headers,
    },
  );
}

const tenantOfTicket = async (services: Services, ticket: AuthorizeTicket) =>
  ticket.tenantId ? readTenant(services.store, ticket.tenantId) : undefined;

const QueryParam = (maxLength: number) => Type.Optional(Type.String({ maxLength }));

export const authorize = defineRoute({
  name: 'oauth-authorize',
  methods: ['GET'],
  route: 'oauth/authorize',
  summary:
    'Authorization endpoint (RFC 6749 §4.1, PKCE S256 only, RFC 9207 `iss`): the sign-in page, step 1 (email or organization). An unknown client or redirect URI is an error page, never a redirect; any other error goes back to the client.',
  tags: ['oauth'],
  errorFormat: 'html',
  errorPages: AUTHORIZE_ERRORS,
  // RFC 6749 §3.1: unknown parameters are ignored; a repeated one is refused (as a page).
  request: {
    query: Type.Object(
      {
        response_type: QueryParam(64),
        client_id: QueryParam(128),
        redirect_uri: QueryParam(2048),
        scope: QueryParam(512),
        state: QueryParam(1024),
        code_challenge: QueryParam(128),
        code_challenge_method: QueryParam(16),
        login_hint: QueryParam(AUTHORIZE_FIELD_LIMITS.account),
      },
      { additionalProperties: true },
    ),
  },
  responses: {
    200: page('Step 1: email or organization; sets the CSRF cookie'),
    303: { description: 'RFC 6749 §4.1.2.1 error response to the verified redirect URI, with `error`, `state` and `iss`' },
    400: page('The client or its redirect URI is not known: no redirect'),
  },
  handler: async ({ query, headers }, services, { log }) => {
    const lang = languageOf(headers);
    const check = checkAuthorizationRequest(services.config.oauth.issuer, query);
    if (check.outcome === 'no-redirect') {
      log.info('authorize-refused', { reason: check.reason });
      return htmlResult(400, invalidLinkPage(lang));
    }
    if (check.outcome === 'redirect') {
      log.info('authorize-refused', { clientId: query.client_id, error: check.error });
      return seeOther(check.url);
    }
    const csrf = csrfTokenFor(headers, AUTHORIZE_CSRF);
    const ticket = { request: check.request, ...(check.loginHint ? { account: check.loginHint } : {}) };
    return showAccount(
      services,
      { csrf, lang, ticket, status: 200 },
      { 'Set-Cookie': csrfCookie(csrf, isHttps(services), AUTHORIZE_CSRF) },
    );
  },
});

const StepForm = { csrf: Field(64), ticket: Field(TICKET_LIMIT) };

export const authorizeAccount = defineRoute({
  name: 'oauth-authorize-account',
  methods: ['POST'],
  route: 'oauth/authorize',
  summary: 'The sign-in page, step 2: the email or organization → the ways this organization signs in (Microsoft, password or both).',
  tags: ['oauth'],
  errorFormat: 'html',
  errorPages: AUTHORIZE_ERRORS,
  request: {
    form: Type.Object({ ...StepForm, account: Field(AUTHORIZE_FIELD_LIMITS.account), change: Field(1) }, { additionalProperties: true }),
  },
  responses: {
    200: page('Step 2: Sign in with Microsoft and/or username and password'),
    400: page('Step 1 again: nothing was typed'),
    403: page('The CSRF check or the ticket failed (start again from the app), or the page expired (step 1 again)'),
  },
  handler: async ({ form, headers }, services, { log }) => {
    const step = await checkStep(services, form, headers, log);
    if (!isStep(step)) return step;
    const account = (form.account ?? '').trim();
    if (form.change || !account) {
      return showAccount(services, { ...step, status: form.change ? 200 : 400, missing: !form.change });
    }
    const tenant = await findTenantForSignIn(services.store, account, services.config.region.id);
    log.info('authorize-page-account', { tenantId: tenant?.id, found: !!tenant });
    return showMethods(
      services,
      { ...step, ticket: { request: step.ticket.request, account, ...(tenant ? { tenantId: tenant.id } : {}) } },
      tenant,
      200,
    );
  },
});

export const authorizePassword = defineRoute({
  name: 'oauth-authorize-password',
  methods: ['POST'],
  route: 'oauth/authorize/password',
  summary:
    'The sign-in page, step 3 with a Roger password: signed in → 303 to the client’s redirect URI with `code`, `state` and `iss`. Lockout as for every password sign-in.',
  tags: ['oauth'],
  errorFormat: 'html',
  errorPages: AUTHORIZE_ERRORS,
  request: {
    form: Type.Object(
      { ...StepForm, username: Field(AUTHORIZE_FIELD_LIMITS.username), password: Field(AUTHORIZE_FIELD_LIMITS.password) },
      { additionalProperties: true },
    ),
  },
  responses: {
    303: { description: 'Signed in: to the client’s redirect URI with the code (or `access_denied` if the account was erased meanwhile)' },
    400: page('Step 2 again: a field is missing'),
    403: page(
      'Step 2 again: wrong organization, username or password, a locked account, or passwords not allowed (one message for all); or the CSRF check or the ticket failed',
    ),
    429: page('Step 2 again: too many failed sign-ins from this address'),
  },
  handler: async ({ form, headers }, services, { log }) => {
    const step = await checkStep(services, form, headers, log);
    if (!isStep(step)) return step;
    const tenant = await tenantOfTicket(services, step.ticket);
    const username = (form.username ?? '').trim();
    const missing = (['username', 'password'] as const).filter((field) => (field === 'username' ? !username : !form.password));
    if (missing.length > 0)
      return showMethods(services, step, tenant, 400, { username, error: { message: 'missingCredentials', fields: missing } });

    const password = form.password!;
    const { request } = step.ticket;
    const ip = clientIp(headers, services.config.http.trustedProxyHops);
    let user;
    try {
      user = await withinSignInFailureLimit(services, { ip }, 'password', async () => {
        if (tenant && allowsSignIn(tenant, 'password')) {
          return signIn(services, tenant, { loginName: username, secret: password, method: 'password', clientId: request.clientId, ip });
        }
        // An unknown organization, or one that does not sign in with passwords, costs what a wrong password costs.
        await spendVerifyTime(password);
        services.telemetry.signIn('password', 'failure');
        return undefined;
      });
    } catch (error) {
      if (!(error instanceof RateLimited)) throw error;
      return showMethods(
        services,
        step,
        tenant,
        429,
        { username, error: { message: 'tooMany', fields: ['password'] } },
        { 'Retry-After': String(error.retryAfterSeconds) },
      );
    }
    if (!tenant || !user) {
      log.info('authorize-page-sign-in', { tenantId: tenant?.id, clientId: request.clientId, outcome: 'failed' });
      return showMethods(services, step, tenant, 403, { username, error: { message: 'failed', fields: ['username', 'password'] } });
    }
    log.info('authorize-page-sign-in', { tenantId: tenant.id, userId: user.id, clientId: request.clientId, outcome: 'ok' });
    return seeOther(await completeAuthorization(services, request, { tenantId: tenant.id, userId: user.id }, log));
  },
});

export const authorizeMicrosoft = defineRoute({
  name: 'oauth-authorize-microsoft',
  methods: ['POST'],
  route: 'oauth/authorize/microsoft',
  summary:
    'The sign-in page, step 3 with Microsoft: 303 to Microsoft Entra ID, with a cookie that binds its callback (`/oauth/microsoft/callback`) to this browser.',
  tags: ['oauth'],
  errorFormat: 'html',
  errorPages: AUTHORIZE_ERRORS,
  request: { form: Type.Object(StepForm, { additionalProperties: true }) },
  responses: {
    303: { description: 'To Microsoft’s authorization endpoint' },
    403: page('The CSRF check or the ticket failed, or this organization does not sign in with Microsoft (step 2 again)'),
    429: page('Step 2 again: too many Microsoft sign-ins started from this address (Retry-After)'),
    503: page('Microsoft sign-in is not configured in this region (Retry-After)'),
  },
  handler: async ({ form, headers }, services, { log }) => {
    const step = await checkStep(services, form, headers, log);
    if (!isStep(step)) return step;
    const tenant = await tenantOfTicket(services, step.ticket);
    if (!tenant || !methodsOf(services, tenant).microsoft) {
      log.info('authorize-page-microsoft-refused', { tenantId: tenant?.id });
      return showMethods(services, step, tenant, 403, { error: { message: 'failed', fields: [] } });
    }
    // Each start stores a pending sign-in, and anyone may press the button in a loop: counted
    // per client address before anything is written, like device authorizations.
    try {
      const ip = clientIp(headers, services.config.http.trustedProxyHops);
      await reserve(
        services.store,
        `microsoft-sign-in-starts:${addressBucket(ip)}`,
        oauthDefaults.limits.addressMicrosoftSignInStarts,
        services.now(),
      );
    } catch (error) {
      if (!(error instanceof RateLimited)) throw error;
      log.warn('authorize-page-microsoft-limited', { tenantId: tenant.id });
      const retryAfter = { 'Retry-After': String(error.retryAfterSeconds) };
      return showMethods(services, step, tenant, 429, { error: { message: 'tooManyStarts', fields: [] } }, retryAfter);
    }
    const account = step.ticket.account;
    const { url, setCookie } = await startMicrosoftSignIn(services, {
      tenant,
      request: step.ticket.request,
      lang: step.lang,
      ...(account?.includes('@') ? { loginHint: account } : {}),
    });
    log.info('authorize-page-microsoft', { tenantId: tenant.id, clientId: step.ticket.request.clientId });
    return seeOther(url, { 'Set-Cookie': setCookie });
  },
});
