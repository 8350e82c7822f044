import { html, htmlResult, layout, type HtmlResult } from '../web/html.js';
import type { Language, Texts } from '../web/i18n.js';
import type { SignInRefusal } from './sign-in.js';

/**
 * The pages the browser sees at the end of a Microsoft round trip (functions/microsoft-sign-in.ts,
 * functions/tenant-entra.ts), in English and French. Each says what happened and what to do;
 * credential failures share one message, so the page does not tell an attacker which check failed.
 */
type PageText = { readonly title: string; readonly message: (tenant: string) => string };

const GENERIC: Texts<PageText> = {
  en: {
    title: 'Sign-in did not succeed',
    message: () => 'Signing in with Microsoft did not succeed. Go back to the app and sign in again.',
  },
  fr: {
    title: 'La connexion a échoué',
    message: () => 'La connexion avec Microsoft n’a pas abouti. Revenez dans l’application et connectez-vous à nouveau.',
  },
};

const REFUSALS: Readonly<Record<SignInRefusal, Texts<PageText>>> = {
  failed: GENERIC,
  expired: {
    en: {
      title: 'Please start again',
      message: () => 'This sign-in has expired or was used already. Go back to the app and sign in again.',
    },
    fr: {
      title: 'Veuillez recommencer',
      message: () => 'Cette connexion a expiré ou a déjà été utilisée. Revenez dans l’application et connectez-vous à nouveau.',
    },
  },
  'other-browser': {
    en: {
      title: 'Please start again',
      message: () =>
        'This sign-in was started in another browser, or your browser does not keep cookies for this site. Start again from the app, in this browser.',
    },
    fr: {
      title: 'Veuillez recommencer',
      message: () =>
        'Cette connexion a été commencée dans un autre navigateur, ou votre navigateur ne garde pas les cookies de ce site. Recommencez depuis l’application, dans ce navigateur.',
    },
  },
  'not-connected': {
    en: {
      title: 'Organisation not connected',
      message: (tenant) =>
        `This Microsoft organisation is not connected to ${tenant}. Sign in with an account of the organisation ${tenant} uses, or ask your Roger administrator to connect yours.`,
    },
    fr: {
      title: 'Organisation non connectée',
      message: (tenant) =>
        `Cette organisation Microsoft n’est pas connectée à ${tenant}. Connectez-vous avec un compte de l’organisation qu’utilise ${tenant}, ou demandez à votre administrateur Roger de connecter la vôtre.`,
    },
  },
  'not-provisioned': {
    en: {
      title: 'No account yet',
      message: (tenant) => `You do not have an account in ${tenant} yet. Ask your Roger administrator to create one.`,
    },
    fr: {
      title: 'Pas encore de compte',
      message: (tenant) => `Vous n’avez pas encore de compte dans ${tenant}. Demandez à votre administrateur Roger d’en créer un.`,
    },
  },
  'email-taken': {
    en: {
      title: 'Account needs your administrator',
      message: (tenant) =>
        `Another account in ${tenant} already uses your email address. Ask your Roger administrator to sort it out; nothing was created.`,
    },
    fr: {
      title: 'Votre administrateur doit intervenir',
      message: (tenant) =>
        `Un autre compte de ${tenant} utilise déjà votre adresse e-mail. Demandez à votre administrateur Roger de régler cela ; rien n’a été créé.`,
    },
  },
  deactivated: {
    en: {
      title: 'Account turned off',
      message: (tenant) =>
        `Your organisation has turned your Roger account in ${tenant} off. If you think this is a mistake, ask your IT department.`,
    },
    fr: {
      title: 'Compte désactivé',
      message: (tenant) =>
        `Votre organisation a désactivé votre compte Roger dans ${tenant}. Si vous pensez qu’il s’agit d’une erreur, adressez-vous à votre service informatique.`,
    },
  },
  'bind-not-allowed': {
    en: {
      title: 'Not connected',
      message: (tenant) =>
        `Nothing was connected. Connecting a Microsoft organisation to ${tenant} needs a sign-in by an administrator of that organisation, started by a Roger administrator of ${tenant}. Ask them to start again from Roger.`,
    },
    fr: {
      title: 'Rien n’a été connecté',
      message: (tenant) =>
        `Rien n’a été connecté. Pour connecter une organisation Microsoft à ${tenant}, un administrateur de cette organisation doit se connecter, à la demande d’un administrateur Roger de ${tenant}. Demandez-leur de recommencer depuis Roger.`,
    },
  },
};

const DECLINED: Texts<PageText> = {
  en: {
    title: 'Sign-in cancelled',
    message: () => 'Microsoft did not sign you in: the sign-in was cancelled or not allowed. Go back to the app to try again.',
  },
  fr: {
    title: 'Connexion annulée',
    message: () =>
      'Microsoft ne vous a pas connecté : la connexion a été annulée ou n’est pas autorisée. Revenez dans l’application pour réessayer.',
  },
};

const UNAVAILABLE: Texts<{ title: string; message: (seconds: number) => string }> = {
  en: {
    title: 'Microsoft is not answering',
    message: (seconds) => `Microsoft is not answering right now. Try again in ${seconds} seconds: reload this page.`,
  },
  fr: {
    title: 'Microsoft ne répond pas',
    message: (seconds) => `Microsoft ne répond pas pour le moment. Réessayez dans ${seconds} secondes : rechargez cette page.`,
  },
};

const NOT_CONFIGURED: Texts<PageText> = {
  en: {
    title: 'Not available here',
    message: () => 'Sign in with Microsoft is not available in this region yet. Ask your administrator.',
  },
  fr: {
    title: 'Indisponible ici',
    message: () => 'La connexion avec Microsoft n’est pas encore disponible dans cette région. Demandez à votre administrateur.',
  },
};

const BOUND: Texts<PageText> = {
  en: {
    title: 'Microsoft Entra ID connected',
    message: (tenant) =>
      `Your Microsoft organisation is now connected to ${tenant}. Its people can sign in with Microsoft. You can close this page.`,
  },
  fr: {
    title: 'Microsoft Entra ID connecté',
    message: (tenant) =>
      `Votre organisation Microsoft est maintenant connectée à ${tenant}. Ses membres peuvent se connecter avec Microsoft. Vous pouvez fermer cette page.`,
  },
};

function page(
  status: number,
  text: PageText,
  tenant: string,
  lang: Language,
  headers: Record<string, string> = {},
  alert = true,
): HtmlResult {
  const body = alert ? html`<div class="alert" role="alert"><p>${text.message(tenant)}</p></div>` : html`<p>${text.message(tenant)}</p>`;
  return htmlResult(status, layout(text.title, body, lang), headers);
}

const STATUS: Readonly<Record<SignInRefusal, number>> = {
  failed: 400,
  expired: 400,
  'other-browser': 400,
  'not-connected': 403,
  'not-provisioned': 403,
  'email-taken': 409,
  deactivated: 403,
  'bind-not-allowed': 403,
};

export const refusalPage = (reason: SignInRefusal, lang: Language, tenantName = 'Roger', headers: Record<string, string> = {}) =>
  page(STATUS[reason], REFUSALS[reason][lang], tenantName, lang, headers);

/** Microsoft's own `error=` on the callback: access_denied (the user cancelled, or consent is not granted) kindly, anything else generically. */
export const microsoftErrorPage = (error: string, lang: Language, headers: Record<string, string> = {}) =>
  error === 'access_denied' || error === 'consent_required' || error === 'interaction_required'
    ? page(403, DECLINED[lang], '', lang, headers)
    : page(400, GENERIC[lang], '', lang, headers);

export function unavailablePage(retryAfterSeconds: number, lang: Language, headers: Record<string, string> = {}): HtmlResult {
  const text = UNAVAILABLE[lang];
  return htmlResult(503, layout(text.title, html`<div class="alert" role="alert"><p>${text.message(retryAfterSeconds)}</p></div>`, lang), {
    ...headers,
    'Retry-After': String(retryAfterSeconds),
  });
}

export const notConfiguredPage = (lang: Language, headers: Record<string, string> = {}) =>
  page(503, NOT_CONFIGURED[lang], '', lang, { ...headers, 'Retry-After': '300' });

export const boundPage = (tenantName: string, lang: Language, headers: Record<string, string> = {}) =>
  page(200, BOUND[lang], tenantName, lang, headers, false);
