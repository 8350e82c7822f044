import { html, layout, type SafeHtml } from './html.js';

export interface MessagePageOptions {
  /** Where "Start again" leads; no link without it. */
  readonly startAgain?: string;
  /** Names a logged failure of ours, for the user to quote to support. */
  readonly errorId?: string;
}

/**
 * A page that says one thing: an error or a notice, in the `role="alert"` box the forms use, so
 * a screen reader announces it. Every error page of every HTML route is this page.
 */
export function messagePage(title: string, message: string, options: MessagePageOptions = {}): SafeHtml {
  return layout(
    title,
    html`<div class="alert" role="alert"><p>${message}</p></div>
${options.errorId ? html`<p class="small">If this keeps happening, quote this to support: <span class="code">${options.errorId}</span></p>\n` : ''}${
      options.startAgain ? html`<p><a href="${options.startAgain}">Start again</a></p>` : ''
    }`,
  );
}
