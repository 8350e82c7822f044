import type { Backoff } from '@roger-cloud/client-kit/backoff';
import { oauth, oauthClient } from '@roger-cloud/client-kit/oauth';
import { CLIENT_ID } from './device-credentials.js';
import { codeLines, pollDeviceCode } from './device-flow.js';
import { explain } from './explain.js';
import { retrying } from './retry.js';
import { writeState, type AgentState } from './state.js';
import { claimsOf } from './token-claims.js';

export interface EnrollOptions {
  readonly apiUrl: string;
  readonly statePath: string;
  readonly name?: string;
  readonly backoff: Backoff;
  readonly signal: AbortSignal;
  /** Lines for the person at the printer (the QR is several lines). */
  say(text: string): void;
}

export interface Enrolled {
  readonly state: AgentState;
  /** The first device tokens, so the agent need not refresh at once. */
  readonly tokens: oauth.TokenEndpointResponse;
}

/**
 * Enrollment (docs/clients.md#roger-printer, SPEC §3.2): the device authorization grant with
 * scope `device`. The printer shows a QR code and a user code; an admin approves it in the app,
 * which makes the printer part of the admin's tenant; the poll then returns the device tokens.
 * A code that expires before anyone answers is replaced by a new one: a printer waits for its
 * admin as long as it takes. The state is written before this returns.
 */
export async function enroll(options: EnrollOptions): Promise<Enrolled> {
  const { apiUrl, backoff, signal } = options;
  const onRetry = (error: unknown, delay: number) => options.say(`Roger did not answer for now (${explain(error)}); again in ${delay} ms`);
  const config = await retrying(() => oauthClient(apiUrl, CLIENT_ID), { backoff, signal, onRetry });
  for (;;) {
    const authorization = await retrying(() => oauth.initiateDeviceAuthorization(config, { scope: 'device' }), {
      backoff,
      signal,
      onRetry,
    });
    for (const line of await codeLines(authorization, 'user code')) options.say(line);
    options.say(
      options.name
        ? `An admin of your organization approves this printer as "${options.name}" in the Roger app.`
        : 'An admin of your organization approves this printer in the Roger app, and names it.',
    );
    let tokens: oauth.TokenEndpointResponse | undefined;
    try {
      tokens = await pollDeviceCode(config, authorization, { backoff, signal, onRetry });
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError && error.error === 'access_denied') {
        throw new Error('an admin denied this enrollment: start again to show a new code', { cause: error });
      }
      throw error;
    }
    if (!tokens) {
      options.say('the code expired before anyone approved it; here is a new one');
      continue;
    }
    if (!tokens.refresh_token) throw new Error('the server enrolled this printer without a refresh token');
    const deviceId = claimsOf(tokens.access_token).sub;
    if (!deviceId) throw new Error('the device token names no printer');
    const state: AgentState = {
      apiUrl,
      deviceId,
      refreshToken: tokens.refresh_token,
      ...(options.name ? { name: options.name } : {}),
      enrolledAt: new Date().toISOString(),
    };
    await writeState(options.statePath, state);
    return { state, tokens };
  }
}
