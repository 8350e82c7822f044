import { createHash } from 'node:crypto';
import type { Language } from './i18n.js';

/**
 * Server-rendered HTML for the few pages a browser sees (the device verification page, the
 * authorization endpoint's sign-in). No
 * JavaScript, no third-party assets: one inline style sheet, allowed by its hash in a CSP that
 * allows nothing else.
 */

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text → HTML text or attribute value (attributes are always double-quoted here). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Markup that is already safe: built by `html`, never from input. */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Interpolated = SafeHtml | string | number | false | null | undefined | readonly Interpolated[];

function render(value: Interpolated): string {
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

/** Template tag: every interpolated value is escaped unless it is SafeHtml (nested `html`). */
export function html(strings: TemplateStringsArray, ...values: Interpolated[]): SafeHtml {
  let text = strings[0]!;
  values.forEach((value, i) => {
    text += render(value) + strings[i + 1]!;
  });
  return new SafeHtml(text);
}

/**
 * The one style sheet. Contrast (WCAG 2.2 AA, ≥ 4.5:1 on white or the tinted boxes): body text
 * #1b1b1b 16.9:1, hints #4a4a4a 8.9:1, brand blue #0a4f94 8.2:1 (also white on it), error text
 * #8c1d18 on #fdf0ef 8.4:1. Touch targets are at least 48 px high; focus is a 3 px outline.
 */
export const PAGE_STYLE = [
  ':root{color-scheme:light}',
  '*{box-sizing:border-box}',
  'html{-webkit-text-size-adjust:100%;text-size-adjust:100%}',
  'body{margin:0;background:#fff;color:#1b1b1b;font:1.125rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}',
  'main{max-width:32rem;margin:0 auto;padding:1.25rem 1rem 3rem}',
  '.brand{margin:0 0 .75rem;font-weight:700;color:#0a4f94;letter-spacing:.02em}',
  'h1{font-size:1.625rem;line-height:1.25;margin:0 0 1rem}',
  'h2{font-size:1.25rem;line-height:1.3;margin:.5rem 0 0}',
  '.or{margin:1.5rem 0 .5rem;text-align:center;color:#4a4a4a}',
  'p{margin:0 0 1rem}',
  'label{display:block;font-weight:600;margin:1.25rem 0 .25rem}',
  '.hint{display:block;margin:0 0 .375rem;color:#4a4a4a;font-size:1rem}',
  'input{display:block;width:100%;min-height:3rem;padding:.5rem .75rem;font:inherit;color:#1b1b1b;background:#fff;border:2px solid #595959;border-radius:.375rem}',
  'input[aria-invalid="true"]{border-color:#b3261e;border-width:3px}',
  '.code{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,monospace;letter-spacing:.08em}',
  'button{display:block;width:100%;min-height:3rem;margin:1.5rem 0 0;padding:.75rem 1rem;font:inherit;font-weight:600;color:#fff;background:#0a4f94;border:2px solid #0a4f94;border-radius:.375rem;cursor:pointer}',
  'button.secondary{color:#0a4f94;background:#fff}',
  'button+button{margin-top:.75rem}',
  ':focus{outline:3px solid #1b1b1b;outline-offset:3px}',
  ':focus:not(:focus-visible){outline:none}',
  ':focus-visible{outline:3px solid #1b1b1b;outline-offset:3px}',
  '.alert{margin:0 0 1.25rem;padding:.75rem 1rem;color:#8c1d18;background:#fdf0ef;border-left:.375rem solid #b3261e}',
  '.alert p{margin:0}',
  '.request{margin:0 0 1rem;padding:.75rem 1rem;background:#f1f5fa;border-left:.375rem solid #0a4f94}',
  '.request p{margin:0 0 .5rem}',
  'dl{margin:0}',
  'dt{font-weight:600}',
  'dd{margin:0 0 .5rem;overflow-wrap:anywhere}',
  'a{color:#0a4f94}',
  '.small{font-size:1rem;color:#4a4a4a}',
].join('\n');

/** `'sha256-…'` of the style element's exact text, for `style-src`. */
export const PAGE_STYLE_HASH = `'sha256-${createHash('sha256').update(PAGE_STYLE, 'utf8').digest('base64')}'`;

/** Nothing but the page's own style sheet; forms post only to this origin; never framed. */
export const PAGE_CONTENT_SECURITY_POLICY = pageContentSecurityPolicy();

/**
 * The page CSP, with more `form-action` sources when a form's POST answers with a redirect
 * elsewhere: browsers check `form-action` against every redirect of a form submission (CSP 3
 * §6.3.1), so the sign-in form that ends in a 303 to the client's redirect URI needs that URI's
 * origin (or private-use scheme) here, and no more.
 */
export function pageContentSecurityPolicy(formTargets: readonly string[] = []): string {
  const formAction = ["'self'", ...formTargets].join(' ');
  return `default-src 'none'; style-src ${PAGE_STYLE_HASH}; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`;
}

/** A whole page: one `<main>` with one `<h1>`, in the language of its texts (`lang`, WCAG 3.1.1). */
export function layout(title: string, content: SafeHtml, lang: Language = 'en'): SafeHtml {
  return html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<meta name="robots" content="noindex">
<title>${title} – Roger</title>
<style>${new SafeHtml(PAGE_STYLE)}</style>
</head>
<body>
<main>
<p class="brand">Roger</p>
<h1>${title}</h1>
${content}
</main>
</body>
</html>
`;
}

/** A page as a route answers it (a RouteResult, said here without depending on the HTTP layer). */
export interface HtmlResult {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** An HTML route result: the page's own CSP (it replaces the API's default), never cached. */
export function htmlResult(status: number, page: SafeHtml, headers: Readonly<Record<string, string>> = {}): HtmlResult {
  return {
    status,
    contentType: 'text/html; charset=utf-8',
    body: page.text,
    headers: { 'Content-Security-Policy': PAGE_CONTENT_SECURITY_POLICY, 'Cache-Control': 'no-store', ...headers },
  };
}
