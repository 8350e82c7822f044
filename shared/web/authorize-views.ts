import { CSRF_FIELD } from './csrf.js';
import { html, layout, type SafeHtml } from './html.js';
import type { Language, Texts } from './i18n.js';

/**
 * The authorization endpoint's sign-in pages (docs/flows.md, the authorization code grant), in
 * English and French: step 1 asks for an email or an organization, step 2 offers what that
 * tenant allows (Sign in with Microsoft, a Roger password, or both). Plain forms, no JavaScript;
 * every field has a label; an error is one `role="alert"` box the fields it concerns point at.
 */
export const AUTHORIZE_PATH = '/oauth/authorize';
export const AUTHORIZE_PASSWORD_PATH = '/oauth/authorize/password';
export const AUTHORIZE_MICROSOFT_PATH = '/oauth/authorize/microsoft';

/** HTML `maxlength`s; the route schemas allow exactly these. */
export const AUTHORIZE_FIELD_LIMITS = { account: 254, username: 254, password: 128 } as const;

const ERROR_ID = 'form-error';

const TEXT = {
  en: {
    signIn: 'Sign in',
    intro: (client: string) => `${client} asks you to sign in with your Roger account.`,
    account: 'Email or organization',
    accountHint: 'Your work email address, or your organization’s short name in Roger, for example contoso',
    continue: 'Continue',
    signingInAs: 'Email or organization:',
    chooseAnother: 'Use another email or organization',
    microsoft: 'Sign in with Microsoft',
    or: 'or',
    passwordHeading: 'With your Roger password',
    username: 'Username or email',
    password: 'Password',
    submit: 'Sign in',
    noMethod:
      'Your organization signs in with Microsoft, which is not available here right now. Try again later, or ask your administrator.',
    missingAccount: 'Please enter your email address or your organization.',
    missingCredentials: 'Please enter your username and your password.',
    failed: 'The organization, username or password is not right, or the account is locked for a while. Check them and try again.',
    tooMany: 'Too many failed sign-ins from this network. Wait a few minutes, then try again.',
    tooManyStarts: 'Too many sign-ins were started from this network. Wait a few minutes, then try again.',
    expired: 'This sign-in page lasts 10 minutes and has ended. Please start again.',
    startAgainTitle: 'Please start again',
    startAgain:
      'This form could not be accepted: it is too old, it was sent from another site, or your browser does not keep cookies for this page. Go back to the app and sign in again.',
    invalidLinkTitle: 'This sign-in link is not valid',
    invalidLink:
      'The app that sent you here is not known, or asked to come back to an address it may not use. Nothing was sent to it. Go back to the app and try again.',
    clients: { 'roger-mobile': 'The Roger app', 'roger-desktop': 'Roger for desktop', 'roger-web': 'Roger on the web' } as Record<
      string,
      string
    >,
    aClient: 'An app',
  },
  fr: {
    signIn: 'Connexion',
    intro: (client: string) => `${client} vous demande de vous connecter avec votre compte Roger.`,
    account: 'Adresse e\u2011mail ou organisation',
    accountHint: 'Votre adresse e\u2011mail professionnelle, ou le nom court de votre organisation dans Roger, par exemple contoso',
    continue: 'Continuer',
    signingInAs: 'Adresse e\u2011mail ou organisation\u00a0:',
    chooseAnother: 'Utiliser une autre adresse ou organisation',
    microsoft: 'Se connecter avec Microsoft',
    or: 'ou',
    passwordHeading: 'Avec votre mot de passe Roger',
    username: 'Nom d’utilisateur ou adresse e\u2011mail',
    password: 'Mot de passe',
    submit: 'Se connecter',
    noMethod:
      'Votre organisation se connecte avec Microsoft, qui n’est pas disponible ici pour le moment. Réessayez plus tard, ou contactez votre administrateur.',
    missingAccount: 'Saisissez votre adresse e-mail ou votre organisation.',
    missingCredentials: 'Saisissez votre nom d’utilisateur et votre mot de passe.',
    failed:
      'L’organisation, le nom d’utilisateur ou le mot de passe est incorrect, ou le compte est bloqué pour un moment. Vérifiez-les et réessayez.',
    tooMany: 'Trop de connexions ont échoué depuis ce réseau. Attendez quelques minutes, puis réessayez.',
    tooManyStarts: 'Trop de connexions ont été commencées depuis ce réseau. Attendez quelques minutes, puis réessayez.',
    expired: 'Cette page de connexion est valable 10\u00a0minutes et a expiré. Veuillez recommencer.',
    startAgainTitle: 'Veuillez recommencer',
    startAgain:
      'Ce formulaire n’a pas pu être accepté\u00a0: il est trop ancien, il a été envoyé depuis un autre site, ou votre navigateur ne conserve pas les cookies de cette page. Revenez à l’application et reconnectez-vous.',
    invalidLinkTitle: 'Ce lien de connexion n’est pas valide',
    invalidLink:
      'L’application qui vous a envoyé ici est inconnue, ou a demandé à revenir vers une adresse qu’elle n’a pas le droit d’utiliser. Rien ne lui a été envoyé. Revenez à l’application et réessayez.',
    clients: {
      'roger-mobile': 'L’application Roger',
      'roger-desktop': 'Roger pour ordinateur',
      'roger-web': 'Roger sur le Web',
    } as Record<string, string>,
    aClient: 'Une application',
  },
} satisfies Texts<unknown>;

export type AuthorizeMessage = 'missingAccount' | 'missingCredentials' | 'failed' | 'tooMany' | 'tooManyStarts' | 'expired' | 'noMethod';

export interface FormError<Field extends string> {
  readonly message: AuthorizeMessage;
  readonly fields: readonly Field[];
}

const csrfField = (token: string) => html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;
const ticketField = (ticket: string) => html`<input type="hidden" name="ticket" value="${ticket}">`;

function alertBox(text: string | undefined): SafeHtml | '' {
  return text ? html`<div class="alert" id="${ERROR_ID}" role="alert"><p>${text}</p></div>` : '';
}

function described(field: string, error: FormError<string> | undefined, hintId?: string): SafeHtml {
  const invalid = error?.fields.includes(field) ?? false;
  const ids = [hintId, invalid ? ERROR_ID : undefined].filter(Boolean).join(' ');
  return html`${invalid ? html` aria-invalid="true"` : ''}${ids ? html` aria-describedby="${ids}"` : ''}`;
}

const clientName = (lang: Language, clientId: string) => TEXT[lang].clients[clientId] ?? TEXT[lang].aClient;

// --- step 1: email or organization ------------------------------------------------------------

export interface AccountView {
  readonly lang: Language;
  readonly csrf: string;
  readonly ticket: string;
  readonly clientId: string;
  readonly account?: string;
  readonly error?: FormError<'account'>;
  /** A line above the form, not tied to a field (the page expired). */
  readonly notice?: AuthorizeMessage;
}

export function accountPage(view: AccountView): SafeHtml {
  const t = TEXT[view.lang];
  const { error } = view;
  return layout(
    t.signIn,
    html`<p>${t.intro(clientName(view.lang, view.clientId))}</p>
${alertBox(error ? t[error.message] : view.notice ? t[view.notice] : undefined)}
<form method="post" action="${AUTHORIZE_PATH}" accept-charset="utf-8" novalidate>
${csrfField(view.csrf)}
${ticketField(view.ticket)}
<label for="account">${t.account}</label>
<span class="hint" id="account-hint">${t.accountHint}</span>
<input id="account" name="account" type="text" value="${view.account ?? ''}" maxlength="${AUTHORIZE_FIELD_LIMITS.account}" autocomplete="username" autocapitalize="none" spellcheck="false" required${described('account', error, 'account-hint')}>
<button type="submit">${t.continue}</button>
</form>`,
    view.lang,
  );
}

// --- step 2: the tenant's ways to sign in -----------------------------------------------------

export type CredentialsField = 'username' | 'password';

export interface MethodsView {
  readonly lang: Language;
  readonly csrf: string;
  readonly ticket: string;
  /** What was typed at step 1, shown back. */
  readonly account: string;
  readonly microsoft: boolean;
  readonly password: boolean;
  readonly username?: string;
  readonly error?: FormError<CredentialsField>;
}

export function methodsPage(view: MethodsView): SafeHtml {
  const t = TEXT[view.lang];
  const { error } = view;
  const microsoft = view.microsoft
    ? html`<form method="post" action="${AUTHORIZE_MICROSOFT_PATH}" accept-charset="utf-8">
${csrfField(view.csrf)}
${ticketField(view.ticket)}
<button type="submit">${t.microsoft}</button>
</form>
`
    : '';
  const password = view.password
    ? html`${view.microsoft ? html`<p class="or">${t.or}</p>\n<h2>${t.passwordHeading}</h2>\n` : ''}<form method="post" action="${AUTHORIZE_PASSWORD_PATH}" accept-charset="utf-8" novalidate>
${csrfField(view.csrf)}
${ticketField(view.ticket)}
<label for="username">${t.username}</label>
<input id="username" name="username" type="text" value="${view.username ?? ''}" maxlength="${AUTHORIZE_FIELD_LIMITS.username}" autocomplete="username" autocapitalize="none" spellcheck="false" required${described('username', error)}>
<label for="password">${t.password}</label>
<input id="password" name="password" type="password" maxlength="${AUTHORIZE_FIELD_LIMITS.password}" autocomplete="current-password" required${described('password', error)}>
<button type="submit">${t.submit}</button>
</form>
`
    : '';
  const none = !view.microsoft && !view.password;
  return layout(
    t.signIn,
    html`<p>${t.signingInAs} <strong>${view.account}</strong></p>
${alertBox(error ? t[error.message] : none ? t.noMethod : undefined)}
${microsoft}${password}<form method="post" action="${AUTHORIZE_PATH}" accept-charset="utf-8">
${csrfField(view.csrf)}
${ticketField(view.ticket)}
<input type="hidden" name="change" value="1">
<button type="submit" class="secondary">${t.chooseAnother}</button>
</form>`,
    view.lang,
  );
}

// --- pages that end the flow here -------------------------------------------------------------

function messagePage(lang: Language, title: string, message: string): SafeHtml {
  return layout(title, html`<div class="alert" role="alert"><p>${message}</p></div>`, lang);
}

/** RFC 6749 §4.1.2.1: an unknown client or redirect URI is shown here, never redirected to. */
export const invalidLinkPage = (lang: Language) => messagePage(lang, TEXT[lang].invalidLinkTitle, TEXT[lang].invalidLink);

/** The CSRF check or the ticket failed: nothing was read or changed. */
export const startAgainPage = (lang: Language) => messagePage(lang, TEXT[lang].startAgainTitle, TEXT[lang].startAgain);
