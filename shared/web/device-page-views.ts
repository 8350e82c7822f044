import { DeviceLocationSchema, DeviceNameSchema } from '../devices/devices.js';
import { html, layout, type SafeHtml } from './html.js';
import { CSRF_FIELD } from './csrf.js';
import { messagePage as genericMessagePage } from './message-page.js';

/**
 * The device verification page's views (docs/flows.md#the-web-verification-page, RFC 8628 §3.3): sign in with the code,
 * confirm who is asking, the outcome. Plain forms; every field has a label; an error is one
 * `role="alert"` box that the fields it concerns point at with `aria-describedby`.
 */
export const DEVICE_PAGE_PATH = '/device';
export const DEVICE_DECISION_PATH = '/device/decision';

/** HTML `maxlength`s; the route schemas allow exactly these, so a browser never trips them. */
export const FIELD_LIMITS = {
  userCode: 16,
  tenant: 63,
  username: 254,
  password: 128,
  printerName: DeviceNameSchema.maxLength ?? 100,
  printerLocation: DeviceLocationSchema.maxLength ?? 200,
} as const;

const ERROR_ID = 'form-error';

export interface FormError<Field extends string> {
  readonly message: string;
  /** The fields the message is about: marked invalid and pointed at the message. */
  readonly fields: readonly Field[];
}

function errorBox(error: FormError<string> | undefined): SafeHtml | '' {
  return error ? html`<div class="alert" id="${ERROR_ID}" role="alert"><p>${error.message}</p></div>` : '';
}

/** `aria-invalid` and `aria-describedby` for a field (its hint first, then the error). */
function described(field: string, error: FormError<string> | undefined, hintId?: string): SafeHtml {
  const invalid = error?.fields.includes(field) ?? false;
  const ids = [hintId, invalid ? ERROR_ID : undefined].filter(Boolean).join(' ');
  return html`${invalid ? html` aria-invalid="true"` : ''}${ids ? html` aria-describedby="${ids}"` : ''}`;
}

const csrfField = (token: string) => html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;

// --- step 1: code and sign-in ---------------------------------------------------------------

export type SignInField = 'user_code' | 'tenant' | 'username' | 'password';

export interface SignInView {
  readonly csrf: string;
  readonly userCode?: string;
  readonly tenant?: string;
  readonly username?: string;
  readonly error?: FormError<SignInField>;
  /** A line above the form (e.g. "your sign-in expired"), not tied to a field. */
  readonly notice?: string;
}

export function signInPage(view: SignInView): SafeHtml {
  const { error } = view;
  return layout(
    'Sign in to connect a device',
    html`<p>Enter the code your device shows, then sign in with your Roger account. Next, you will see what is asking and can approve or deny it.</p>
${view.notice && !error ? html`<div class="alert" id="${ERROR_ID}" role="alert"><p>${view.notice}</p></div>` : errorBox(error)}
<form method="post" action="${DEVICE_PAGE_PATH}" accept-charset="utf-8" novalidate>
${csrfField(view.csrf)}
<label for="user_code">Code</label>
<span class="hint" id="user_code-hint">8 letters as shown on your device, for example BCDF-GHJK</span>
<input id="user_code" name="user_code" type="text" class="code" value="${view.userCode ?? ''}" maxlength="${FIELD_LIMITS.userCode}" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" required${described('user_code', error, 'user_code-hint')}>
<label for="tenant">Organization</label>
<span class="hint" id="tenant-hint">Your organization’s short name in Roger, for example contoso</span>
<input id="tenant" name="tenant" type="text" value="${view.tenant ?? ''}" maxlength="${FIELD_LIMITS.tenant}" autocomplete="organization" autocapitalize="none" spellcheck="false" required${described('tenant', error, 'tenant-hint')}>
<label for="username">Username or email</label>
<input id="username" name="username" type="text" value="${view.username ?? ''}" maxlength="${FIELD_LIMITS.username}" autocomplete="username" autocapitalize="none" spellcheck="false" required${described('username', error)}>
<label for="password">Password</label>
<input id="password" name="password" type="password" maxlength="${FIELD_LIMITS.password}" autocomplete="current-password" required${described('password', error)}>
<button type="submit">Sign in and continue</button>
</form>`,
  );
}

// --- step 2: who is asking, approve or deny -------------------------------------------------

export interface PendingRequest {
  readonly clientId: string;
  readonly scope: string;
  readonly expiresAt: string;
  readonly printer: { readonly name: string; readonly location: string } | null;
}

/** "Roger for desktop", "the printer MFP 3 (Floor 3)", "a new printer", or the client id. */
export function askingParty(request: Pick<PendingRequest, 'clientId' | 'scope' | 'printer'>): string {
  if (request.clientId === 'roger-desktop') return 'Roger for desktop';
  if (request.clientId === 'roger-emb' && request.scope === 'device') return 'a new printer';
  if (request.clientId === 'roger-emb' && request.printer) {
    const { name, location } = request.printer;
    return location ? `the printer ${name} (${location})` : `the printer ${name}`;
  }
  if (request.clientId === 'roger-emb') return 'a printer';
  return request.clientId;
}

const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function whatItMeans(request: PendingRequest, tenantName: string): string {
  if (request.scope === 'device') return `It will join ${tenantName}, so that its users can print there.`;
  if (request.scope === 'session') return 'It will start a session for you and print the jobs you have waiting.';
  return 'It will be signed in to your account and can send print jobs for you.';
}

function expiresIn(expiresAt: string, now: Date): string {
  const minutes = Math.ceil((Date.parse(expiresAt) - now.getTime()) / 60_000);
  return minutes <= 1 ? 'in about a minute' : `in about ${minutes} minutes`;
}

export type ConfirmField = 'name' | 'location';

export interface ConfirmView {
  readonly csrf: string;
  readonly ticket: string;
  readonly request: PendingRequest;
  /** Formatted `XXXX-XXXX`. */
  readonly userCode: string;
  readonly signedInAs: string;
  readonly tenantName: string;
  readonly now: Date;
  /** Enrollment: what was typed, kept when the form comes back with an error. */
  readonly name?: string;
  readonly location?: string;
  readonly error?: FormError<ConfirmField>;
}

export function confirmPage(view: ConfirmView): SafeHtml {
  const { request, error } = view;
  const asking = askingParty(request);
  const enrollment = request.scope === 'device';
  return layout(
    'Approve this request?',
    html`<p>Signed in as <strong>${view.signedInAs}</strong> (${view.tenantName}).</p>
<div class="request">
<p><strong>${capitalized(asking)}</strong> is asking for access. ${whatItMeans(request, view.tenantName)}</p>
<dl>
<dt>Client</dt><dd>${capitalized(asking)}</dd>
<dt>Client ID</dt><dd class="code">${request.clientId}</dd>
<dt>Code</dt><dd class="code">${view.userCode}</dd>
<dt>Expires</dt><dd>${expiresIn(request.expiresAt, view.now)}</dd>
</dl>
</div>
<p>Approve only if you started this yourself and the code matches the one on your device.</p>
${errorBox(error)}
<form method="post" action="${DEVICE_DECISION_PATH}" accept-charset="utf-8" novalidate>
${csrfField(view.csrf)}
<input type="hidden" name="ticket" value="${view.ticket}">
${
  enrollment
    ? html`<label for="name">Printer name</label>
<span class="hint" id="name-hint">Users see this name, for example MFP 3rd floor</span>
<input id="name" name="name" type="text" value="${view.name ?? ''}" maxlength="${FIELD_LIMITS.printerName}" autocomplete="off" required${described('name', error, 'name-hint')}>
<label for="location">Location (optional)</label>
<span class="hint" id="location-hint">Where to find it, for example Building A, 3rd floor</span>
<input id="location" name="location" type="text" value="${view.location ?? ''}" maxlength="${FIELD_LIMITS.printerLocation}" autocomplete="off"${described('location', error, 'location-hint')}>`
    : ''
}
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`,
  );
}

// --- step 3: the outcome, and pages for errors ----------------------------------------------

export function approvedPage(request: PendingRequest, detail: { printerName?: string; released?: number }): SafeHtml {
  const asking = capitalized(askingParty(request));
  const text =
    request.scope === 'device'
      ? `The printer ${detail.printerName ?? ''} is now connected.`
      : request.scope === 'session'
        ? `Your session at ${askingParty(request)} has started.${detail.released ? ` ${detail.released} of your jobs ${detail.released === 1 ? 'was' : 'were'} sent to it.` : ''}`
        : `${asking} is now signed in to your account.`;
  return layout(
    'Done — return to your device',
    html`<p>${text}</p>
<p>You can close this page.</p>`,
  );
}

export function deniedPage(request: PendingRequest): SafeHtml {
  return layout(
    'Denied',
    html`<p>You denied the request. ${capitalized(askingParty(request))} gets no access.</p>
<p>You can close this page.</p>`,
  );
}

/** A notice on this page, with a way back to the start. */
export const messagePage = (title: string, message: string): SafeHtml =>
  genericMessagePage(title, message, { startAgain: DEVICE_PAGE_PATH });
