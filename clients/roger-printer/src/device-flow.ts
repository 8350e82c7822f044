import type { Backoff } from '@roger-cloud/client-kit/backoff';
import { oauth } from '@roger-cloud/client-kit/oauth';
import { qrText } from '@roger-cloud/client-kit/qr';
import { retrying } from './retry.js';

/**
 * The two uses of the device authorization grant at the printer (docs/clients.md#roger-printer):
 * enrollment (scope `device`) and a person's session (scope `session`). Both show a QR code of
 * the approval link with its code, then poll until someone answers.
 */

/** The QR code, `<label>: <code>` and `open: <link>`: what `roger-printer` prints for a code. */
export async function codeLines(authorization: oauth.DeviceAuthorizationResponse, label: string): Promise<string[]> {
  const link = authorization.verification_uri_complete ?? authorization.verification_uri;
  return [await qrText(link), `${label}: ${authorization.user_code}`, `open: ${link}`];
}

/**
 * The tokens once the code is approved; undefined when it expires first. A network fault or a
 * 5xx resumes polling the same code after a backoff; a denial is thrown (ResponseBodyError
 * `access_denied`); `signal` stops polling.
 */
export async function pollDeviceCode(
  config: oauth.Configuration,
  authorization: oauth.DeviceAuthorizationResponse,
  options: { backoff: Backoff; signal: AbortSignal; onRetry?: (error: unknown, delayMs: number) => void },
): Promise<oauth.TokenEndpointResponse | undefined> {
  const expired = new AbortController();
  const timer = setTimeout(() => expired.abort(new Error('the code expired')), authorization.expires_in * 1000);
  const signal = AbortSignal.any([options.signal, expired.signal]);
  try {
    return await retrying(() => oauth.pollDeviceAuthorizationGrant(config, authorization, undefined, { signal }), {
      backoff: options.backoff,
      signal,
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
    });
  } catch (error) {
    options.signal.throwIfAborted();
    if (expired.signal.aborted) return undefined;
    if (error instanceof oauth.ResponseBodyError && error.error === 'expired_token') return undefined;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
