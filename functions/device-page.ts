import { Type } from '@sinclair/typebox';
import { clientIp } from '../shared/http/client-ip.js';
import { NotFound, RateLimited } from '../shared/errors.js';
import type { ErrorPages } from '../shared/http/error-rendering.js';
import { defineRoute, type RouteResult } from '../shared/http/route.js';
import type { Logger } from '../shared/logging/logger.js';
import { approveUserCode, denyUserCode, describeUserCode } from '../shared/oauth/approval.js';
import { formatUserCode, normalizeUserCode } from '../shared/oauth/device-codes.js';
import type { Services } from '../shared/services.js';
import { qrSessionsAllowed } from '../shared/tenants/policy.js';
import { allowsSignIn } from '../shared/tenants/sign-in-methods.js';
import { findTenantBySlug, readTenant, TenantSlugSchema, type Tenant } from '../shared/tenants/tenants.js';
import { spendVerifyTime } from '../shared/tokens/credential-hash.js';
import { signIn } from '../shared/users/sign-in.js';
import { withinSignInFailureLimit } from '../shared/users/sign-in-limits.js';
import { readUser } from '../shared/users/users.js';
import { checkCsrf, csrfCookie, csrfTokenFor } from '../shared/web/csrf.js';
import {
  approvedPage,
  confirmPage,
  deniedPage,
  DEVICE_PAGE_PATH,
  FIELD_LIMITS,
  messagePage,
  signInPage,
  type ConfirmView,
  type PendingRequest,
  type SignInView,
} from '../shared/web/device-page-views.js';
import {
  DEVICE_PAGE_CLIENT_ID,
  principalOfTicket,
  signDeviceTicket,
  verifyDeviceTicket,
  type VerifiedDeviceTicket,
} from '../shared/web/device-ticket.js';
import { htmlResult } from '../shared/web/html.js';

/**
 * The web verification page of RFC 8628 (`verification_uri`, docs/flows.md#the-web-verification-page): for a user without
 * the mobile app. Server-rendered HTML, no JavaScript. Step 1 signs the user in (same checks,
 * lockout and login history as every password sign-in) and shows who is asking; step 2
 * approves or denies, carried by a 2-minute signed ticket so the password is typed once.
 * Errors are pages too: the form schemas only cap lengths, and the handlers judge the values;
 * what a handler throws (and what the wrapper refuses) is rendered as a page with DEVICE_ERRORS.
 */
const Field = (maxLength: number) => Type.Optional(Type.String({ maxLength }));
const Html = Type.String({ description: 'An HTML page' });
const page = (description: string) => ({ description, schema: Html, contentType: 'text/html' });

const GENERIC_SIGN_IN_ERROR =
  'The organization, username or password is not right, or the account is locked for a while. Check them and try again.';
const NO_SUCH_CODE =
  'No pending request has this code. Check the code on your device (it may have expired), and note that connecting a new printer needs an administrator.';
const TOO_MANY_CODES = 'Too many wrong codes. Wait a few minutes, then try again.';
const TOO_MANY_SIGN_INS = 'Too many failed sign-ins from this network. Wait a few minutes, then try again.';
const MICROSOFT_ONLY =
  'This organization signs in with Microsoft, and this page takes Roger passwords only. Approve the request in the Roger app instead.';
const QR_DISABLED = 'Your organization has turned off starting printer sessions with a code. Sign in at the printer instead.';

const SLUG = new RegExp(TenantSlugSchema.pattern!);

/** Cookies are `Secure` whenever the page is served over https, as the issuer URL says. */
const isHttps = (services: Services) => new URL(services.config.oauth.issuer).protocol === 'https:';

/** Double-submit check failed: nothing was read or changed. */
function csrfRejected(log: Logger): RouteResult {
  log.warn('device-page-csrf-rejected');
  return htmlResult(
    403,
    messagePage(
      'Please start again',
      'This form could not be accepted: it is too old, it was sent from another site, or your browser does not keep cookies for this page. Start again and sign in.',
    ),
  );
}

/**
 * The approval code's errors in this page's words; anything else gets its problem's title and
 * detail. Every error page links back to the start.
 */
const DEVICE_ERRORS: ErrorPages = {
  byKind: {
    'not-found': {
      title: 'This request is no longer pending',
      message: 'It has expired or was answered already. Start again from your device to get a new code.',
    },
    conflict: { title: 'Already answered', message: 'This code was answered already, perhaps in another window.' },
    'too-many-requests': { title: 'Too many wrong codes', message: TOO_MANY_CODES },
    'service-unavailable': { title: 'Please try again', message: 'A service we depend on did not answer. Wait a moment, then try again.' },
  },
  startAgain: DEVICE_PAGE_PATH,
};

function qrSessionsDisabled(tenant: Tenant, request: PendingRequest): boolean {
  return request.scope === 'session' && !qrSessionsAllowed(tenant.policy);
}

export const devicePage = defineRoute({
  name: 'device-page',
  methods: ['GET'],
  route: 'device',
  summary:
    'The web verification page (RFC 8628 verification_uri): enter the code and sign in. HTML without JavaScript; sets the CSRF cookie.',
  tags: ['oauth'],
  errorFormat: 'html',
  errorPages: DEVICE_ERRORS,
  // Prefill only; anything else in the query is ignored.
  request: { query: Type.Object({ user_code: Field(64) }, { additionalProperties: true }) },
  responses: { 200: page('The code and sign-in form') },
  handler: async ({ query, headers }, services) => {
    const csrf = csrfTokenFor(headers);
    const code = query.user_code ? normalizeUserCode(query.user_code) : undefined;
    return htmlResult(200, signInPage({ csrf, ...(code ? { userCode: formatUserCode(code) } : {}) }), {
      'Set-Cookie': csrfCookie(csrf, isHttps(services)),
    });
  },
});

export const devicePageSignIn = defineRoute({
  name: 'device-page-sign-in',
  methods: ['POST'],
  route: 'device',
  summary: 'The web verification page, step 1: code, organization, username and password → who is asking (approve or deny).',
  tags: ['oauth'],
  errorFormat: 'html',
  errorPages: DEVICE_ERRORS,
  request: {
    form: Type.Object(
      {
        csrf: Field(64),
        user_code: Field(FIELD_LIMITS.userCode),
        tenant: Field(FIELD_LIMITS.tenant),
        username: Field(FIELD_LIMITS.username),
        password: Field(FIELD_LIMITS.password),
      },
      { additionalProperties: true },
    ),
  },
  responses: {
    200: page('Signed in: who is asking, with Approve and Deny'),
    400: page('The form again: a field is missing or the code is malformed'),
    403: page(
      'The form again: wrong organization, username or password, or a locked account (one message for all); or the CSRF check failed, or the tenant does not allow this. (Not 401: that needs an HTTP authentication scheme.)',
    ),
    404: page('The form again: no pending request has this code'),
    429: page('The form again: too many wrong codes'),
  },
  handler: async ({ form, headers }, services, { log }) => {
    const csrf = checkCsrf(headers, form.csrf);
    if (!csrf) return csrfRejected(log);

    const typed = {
      userCode: (form.user_code ?? '').trim(),
      tenant: (form.tenant ?? '').trim().toLowerCase(),
      username: (form.username ?? '').trim(),
    };
    const again = (status: number, error: SignInView['error'], extraHeaders: Record<string, string> = {}) =>
      htmlResult(status, signInPage({ csrf, ...typed, ...(error ? { error } : {}) }), extraHeaders);

    const missing = (['user_code', 'tenant', 'username', 'password'] as const).filter((field) =>
      field === 'user_code' ? !typed.userCode : field === 'password' ? !form.password : !typed[field],
    );
    if (missing.length > 0) {
      const names = { user_code: 'the code', tenant: 'your organization', username: 'your username', password: 'your password' };
      return again(400, { message: `Please enter ${missing.map((f) => names[f]).join(', ')}.`, fields: missing });
    }
    const userCode = normalizeUserCode(typed.userCode);
    if (!userCode) {
      return again(400, { message: 'The code has 8 letters, for example BCDF-GHJK. Check it on your device.', fields: ['user_code'] });
    }

    const password = form.password!;
    const ip = clientIp(headers, services.config.http.trustedProxyHops);
    const tenant = SLUG.test(typed.tenant) ? await findTenantBySlug(services.store, typed.tenant, services.config.region.id) : undefined;
    // Decided from the tenant alone, before any user is looked up, at the cost of a wrong password (grants/password.ts).
    const passwordOff = tenant !== undefined && !allowsSignIn(tenant, 'password');
    let user;
    try {
      user = await withinSignInFailureLimit(services, { ip }, 'password', async () => {
        if (tenant && !passwordOff)
          return signIn(services, tenant, {
            loginName: typed.username,
            secret: password,
            method: 'password',
            clientId: DEVICE_PAGE_CLIENT_ID,
            ip,
          });
        await spendVerifyTime(password); // an unknown organization costs the same as a wrong password
        services.telemetry.signIn('password', 'failure');
        return undefined;
      });
    } catch (error) {
      if (!(error instanceof RateLimited)) throw error;
      return again(429, { message: TOO_MANY_SIGN_INS, fields: ['password'] }, { 'Retry-After': String(error.retryAfterSeconds) });
    }
    if (passwordOff) {
      log.info('device-page-sign-in', { tenantId: tenant.id, outcome: 'password-off' });
      return again(403, { message: MICROSOFT_ONLY, fields: ['tenant'] });
    }
    if (!tenant || !user) {
      log.info('device-page-sign-in', { tenantId: tenant?.id, outcome: 'failed' });
      return again(403, { message: GENERIC_SIGN_IN_ERROR, fields: ['tenant', 'username', 'password'] });
    }
    log.info('device-page-sign-in', { tenantId: tenant.id, userId: user.id, outcome: 'ok' });

    const { token, ticket } = await signDeviceTicket(
      services.keys,
      services.config.oauth.issuer,
      { tenantId: tenant.id, userId: user.id, role: user.role, userCode },
      csrf,
      services.now(),
    );
    let request: PendingRequest;
    try {
      request = await describeUserCode(services, principalOfTicket(ticket), userCode);
    } catch (error) {
      // Either is the form again, pointing at the code; anything else is an error page.
      if (error instanceof NotFound) return again(404, { message: NO_SUCH_CODE, fields: ['user_code'] });
      if (error instanceof RateLimited)
        return again(429, { message: TOO_MANY_CODES, fields: ['user_code'] }, { 'Retry-After': String(error.retryAfterSeconds) });
      throw error;
    }
    if (qrSessionsDisabled(tenant, request)) return htmlResult(403, messagePage('Not allowed here', QR_DISABLED));
    return htmlResult(
      200,
      confirmPage({
        csrf,
        ticket: token,
        request,
        userCode: formatUserCode(userCode),
        signedInAs: user.username,
        tenantName: tenant.name,
        now: services.now(),
      }),
    );
  },
});

export const devicePageDecision = defineRoute({
  name: 'device-page-decision',
  methods: ['POST'],
  route: 'device/decision',
  summary: 'The web verification page, step 2: approve (a new printer needs a name) or deny, with the ticket from step 1.',
  tags: ['oauth'],
  errorFormat: 'html',
  errorPages: DEVICE_ERRORS,
  request: {
    form: Type.Object(
      {
        csrf: Field(64),
        ticket: Field(4096),
        decision: Field(16),
        name: Field(FIELD_LIMITS.printerName),
        location: Field(FIELD_LIMITS.printerLocation),
      },
      { additionalProperties: true },
    ),
  },
  responses: {
    200: page('Approved (“Done — return to your device”) or denied'),
    400: page('The confirmation again: a new printer needs a name'),
    403: page('The sign-in on this page ended (2 minutes; the form again), the CSRF check failed, or the tenant does not allow this'),
    404: page('The request expired or was answered'),
    409: page('Answered concurrently'),
    429: page('Too many wrong codes'),
  },
  handler: async ({ form, headers }, services, { log }) => {
    const csrf = checkCsrf(headers, form.csrf);
    if (!csrf) return csrfRejected(log);
    const { issuer } = services.config.oauth;
    const check = await verifyDeviceTicket(services.keys, issuer, form.ticket, csrf, services.now());
    if (!check.ok) {
      log.info('device-page-ticket-rejected', { reason: check.reason });
      const code = check.reason === 'expired' && check.userCode ? normalizeUserCode(check.userCode) : undefined;
      return htmlResult(
        403,
        signInPage({
          csrf,
          ...(code ? { userCode: formatUserCode(code) } : {}),
          notice: 'Your sign-in on this page lasts 2 minutes and has ended. Please sign in again.',
        }),
      );
    }
    const { ticket } = check;
    const caller = principalOfTicket(ticket);
    const decision = form.decision;
    if (decision !== 'approve' && decision !== 'deny') {
      return htmlResult(400, messagePage('Something went wrong', 'Choose Approve or Deny. Start again if the buttons are missing.'));
    }

    const request = await describeUserCode(services, caller, ticket.userCode);
    const fields = { tenantId: ticket.tenantId, userId: ticket.userId, clientId: request.clientId, scope: request.scope };

    if (decision === 'deny') {
      await denyUserCode(services, caller, ticket.userCode);
      log.info('device-page-denied', fields);
      return htmlResult(200, deniedPage(request));
    }

    const tenant = await readTenant(services.store, ticket.tenantId);
    if (!tenant) throw new NotFound('no such tenant');
    if (qrSessionsDisabled(tenant, request)) return htmlResult(403, messagePage('Not allowed here', QR_DISABLED));

    const name = form.name?.trim() ?? '';
    const location = form.location?.trim() ?? '';
    if (request.scope === 'device' && !name) {
      return confirmAgain(services, { ticket, token: form.ticket!, csrf, request, tenantName: tenant.name, name, location });
    }
    const approval = await approveUserCode(services, caller, ticket.userCode, request.scope === 'device' ? { name, location } : {}, log);
    log.info('device-page-approved', { ...fields, deviceId: approval.deviceId });
    return htmlResult(
      200,
      approvedPage(request, { printerName: name, ...(approval.release ? { released: approval.release.released } : {}) }),
    );
  },
});

/** The confirmation again, for an enrollment approved without a printer name. */
async function confirmAgain(
  services: Services,
  state: {
    ticket: VerifiedDeviceTicket;
    token: string;
    csrf: string;
    request: PendingRequest;
    tenantName: string;
    name: string;
    location: string;
  },
): Promise<RouteResult> {
  const user = await readUser(services.store, state.ticket.tenantId, state.ticket.userId);
  const view: ConfirmView = {
    csrf: state.csrf,
    ticket: state.token,
    request: state.request,
    userCode: formatUserCode(state.ticket.userCode),
    signedInAs: user?.username ?? '',
    tenantName: state.tenantName,
    now: services.now(),
    name: state.name,
    location: state.location,
    error: { message: 'Give the printer a name, so that users can recognize it.', fields: ['name'] },
  };
  return htmlResult(400, confirmPage(view));
}
