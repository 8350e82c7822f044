import { Type } from '@sinclair/typebox';
import { Unavailable } from '../shared/errors.js';
import { clientIp } from '../shared/http/client-ip.js';
import { defineRoute } from '../shared/http/route.js';
import { boundPage, microsoftErrorPage, notConfiguredPage, refusalPage, unavailablePage } from '../shared/microsoft/pages.js';
import {
  clearSignInCookie,
  declineMicrosoftSignIn,
  finishMicrosoftSignIn,
  MicrosoftSignInRefused,
  SIGN_IN_COOKIE,
} from '../shared/microsoft/sign-in.js';
import { readCookie } from '../shared/web/csrf.js';
import { languageOf } from '../shared/web/i18n.js';

/**
 * `GET /oauth/microsoft/callback`: where Microsoft Entra ID sends the browser back after "Sign in
 * with Microsoft" (docs/flows.md, Sign in with Microsoft), both for our authorization endpoint's
 * sign-in and for the verification sign-in after an admin's consent (functions/tenant-entra.ts).
 * It answers with a 303 to the client's redirect URI (our code, `state`, `iss`), or a page:
 * refused (why, in the browser's language), or Microsoft not answering (503, Retry-After; the
 * same URL can be loaded again). Microsoft's own error (the person cancelled) for this browser's
 * sign-in goes on to the client as `access_denied`; a page only when there is no client to tell.
 */
export const microsoftSignInCallback = defineRoute({
  name: 'microsoft-sign-in-callback',
  methods: ['GET'],
  route: 'oauth/microsoft/callback',
  summary:
    'Where Microsoft Entra ID returns the browser after Sign in with Microsoft (the app registration redirect URI): the code is redeemed with MSAL, the person checked against the tenant, and the browser sent on to the client with our authorization code.',
  tags: ['oauth'],
  errorFormat: 'html',
  request: {
    query: Type.Object(
      {
        state: Type.Optional(Type.String({ maxLength: 256 })),
        code: Type.Optional(Type.String({ maxLength: 8192 })),
        error: Type.Optional(Type.String({ maxLength: 256 })),
        error_description: Type.Optional(Type.String({ maxLength: 4096 })),
      },
      // Entra adds parameters of its own (session_state, client_info): ignored.
      { additionalProperties: true },
    ),
  },
  responses: {
    303: { description: "Signed in: to the client's redirect URI with the authorization code (or to the client with `access_denied`)" },
    200: { description: 'Microsoft Entra ID connected to the tenant (after admin consent)', contentType: 'text/html' },
    400: { description: 'Expired, already used, started in another browser, or not accepted', contentType: 'text/html' },
    403: {
      description: 'The Microsoft organisation is not connected to the tenant, or the person has no account there',
      contentType: 'text/html',
    },
    409: { description: "The person's email is another account's", contentType: 'text/html' },
    503: {
      description: 'Microsoft is not answering (Retry-After), or sign-in with Microsoft is not configured here',
      contentType: 'text/html',
    },
  },
  handler: async ({ query, headers }, services, context) => {
    const lang = languageOf(headers);
    const clear = { 'Set-Cookie': clearSignInCookie(services.config.oauth.issuer) };
    if (query.error) {
      const browser = readCookie(headers, SIGN_IN_COOKIE);
      const declined = await declineMicrosoftSignIn(services, { state: query.state, browser, error: query.error }, context.log);
      if (declined.redirect) return { status: 303, headers: { Location: declined.redirect, 'Cache-Control': 'no-store', ...clear } };
      if (!declined.spent) context.log.info('microsoft-sign-in-declined', { error: query.error.slice(0, 64) });
      // Another browser's (or no) pending sign-in: this browser's own cookie is left alone.
      return microsoftErrorPage(query.error, lang, declined.spent ? clear : {});
    }
    if (!query.state || !query.code) return refusalPage('failed', lang, undefined, clear);
    try {
      const outcome = await finishMicrosoftSignIn(
        services,
        {
          state: query.state,
          code: query.code,
          browser: readCookie(headers, SIGN_IN_COOKIE),
          lang,
          ...ipOf(headers, services.config.http.trustedProxyHops),
        },
        context.log,
      );
      if (outcome.kind === 'bound') return boundPage(outcome.tenantName, outcome.lang, clear);
      return { status: 303, headers: { Location: outcome.redirect, 'Cache-Control': 'no-store', ...clear } };
    } catch (error) {
      // A callback from another browser leaves this browser's own pending sign-in (and its cookie) alone.
      if (error instanceof MicrosoftSignInRefused) {
        return refusalPage(error.reason, error.lang, error.tenantName, error.reason === 'other-browser' ? {} : clear);
      }
      // The pending sign-in is kept (and the cookie with it): reloading this page finishes it.
      if (error instanceof Unavailable) {
        return error.code === 'microsoft-sign-in-not-configured' ? notConfiguredPage(lang) : unavailablePage(error.retryAfterSeconds, lang);
      }
      throw error;
    }
  },
});

function ipOf(headers: Headers, hops: number): { ip?: string } {
  const ip = clientIp(headers, hops);
  return ip ? { ip } : {};
}
