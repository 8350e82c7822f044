import { Type } from '@sinclair/typebox';
import { Invalid, Unavailable } from '../shared/errors.js';
import { defineRoute } from '../shared/http/route.js';
import { continueAdminConsent, startAdminConsent } from '../shared/microsoft/admin-consent.js';
import { microsoftErrorPage, notConfiguredPage, unavailablePage } from '../shared/microsoft/pages.js';
import { html, htmlResult, layout } from '../shared/web/html.js';
import { languageOf } from '../shared/web/i18n.js';

/**
 * "Connect Microsoft Entra ID" (docs/flows.md, Sign in with Microsoft): an admin asks for Entra's
 * admin-consent URL; Entra returns the browser to the callback, which sends it on through a
 * Microsoft sign-in at the consenting organisation: only an id_token from that `tid` binds it
 * (shared/microsoft/admin-consent.ts).
 */
const admins = { kinds: ['user'], anyRole: ['admin'] } as const;

export const tenantEntraConnect = defineRoute({
  name: 'tenant-entra-connect',
  methods: ['POST'],
  route: 'api/tenant/entra/connect',
  summary:
    "Start connecting the tenant to a Microsoft Entra ID organisation (admins): Entra's admin-consent URL, to open in a browser as an administrator of that organisation. Valid 10 minutes, once.",
  tags: ['tenant'],
  auth: admins,
  responses: {
    200: {
      description: 'Open `adminConsentUrl`; Entra returns the browser to `/api/tenant/entra/callback`.',
      schema: Type.Object({ adminConsentUrl: Type.String({ format: 'uri' }), expiresAt: Type.String({ format: 'date-time' }) }),
    },
    403: { description: 'Not an admin (as the user item says now)' },
    503: { description: 'Sign in with Microsoft is not configured in this region (`microsoft-sign-in-not-configured`)' },
  },
  handler: async (_input, services, context) => ({ status: 200, body: await startAdminConsent(services, await context.currentUser()) }),
});

export const tenantEntraCallback = defineRoute({
  name: 'tenant-entra-callback',
  methods: ['GET'],
  route: 'api/tenant/entra/callback',
  summary:
    "Where Entra returns the browser after admin consent (a redirect URI of the app registration): the organisation's `tenant` is not trusted as sent; the browser is sent through a Microsoft sign-in there, and only an id_token of that organisation binds it.",
  tags: ['tenant'],
  errorFormat: 'html',
  request: {
    query: Type.Object(
      {
        state: Type.Optional(Type.String({ maxLength: 256 })),
        tenant: Type.Optional(Type.String({ maxLength: 64 })),
        admin_consent: Type.Optional(Type.String({ maxLength: 16 })),
        error: Type.Optional(Type.String({ maxLength: 256 })),
        error_description: Type.Optional(Type.String({ maxLength: 4096 })),
      },
      { additionalProperties: true },
    ),
  },
  responses: {
    303: { description: 'On to the Microsoft sign-in at the consenting organisation (sets the sign-in cookie)' },
    400: { description: 'Expired or used already, or Microsoft named no organisation', contentType: 'text/html' },
    403: { description: 'Consent was declined', contentType: 'text/html' },
    503: { description: 'Microsoft is not answering, or sign-in with Microsoft is not configured here', contentType: 'text/html' },
  },
  handler: async ({ query, headers }, services, context) => {
    const lang = languageOf(headers);
    if (query.error || query.admin_consent?.toLowerCase() !== 'true') return microsoftErrorPage(query.error ?? 'access_denied', lang);
    try {
      const { url, setCookie } = await continueAdminConsent(
        services,
        { state: query.state ?? '', tenant: query.tenant ?? '', lang },
        context.log,
      );
      return { status: 303, headers: { Location: url, 'Set-Cookie': setCookie, 'Cache-Control': 'no-store' } };
    } catch (error) {
      if (error instanceof Invalid)
        return htmlResult(400, layout(lang === 'fr' ? 'Veuillez recommencer' : 'Please start again', refused(lang), lang));
      if (error instanceof Unavailable) {
        return error.code === 'microsoft-sign-in-not-configured' ? notConfiguredPage(lang) : unavailablePage(error.retryAfterSeconds, lang);
      }
      throw error;
    }
  },
});

const refused = (lang: 'en' | 'fr') =>
  html`<div class="alert" role="alert"><p>${
    lang === 'fr'
      ? 'Ce lien a expiré ou a déjà servi. Recommencez « Connecter Microsoft Entra ID » depuis Roger.'
      : 'This link has expired or was used already. Start “Connect Microsoft Entra ID” again from Roger.'
  }</p></div>`;
