import type { Backoff } from '@roger-cloud/client-kit/backoff';
import { ApiError } from '@roger-cloud/client-kit/http';
import { oauth, oauthClient } from '@roger-cloud/client-kit/oauth';
import { CLIENT_ID, type DeviceTokens } from './device-credentials.js';
import { retrying } from './retry.js';
import { sessionIdOf } from './token-claims.js';

/** A person signed in at the panel: their session token for this printer. */
export interface PanelSession {
  readonly sessionId: string;
  readonly token: string;
  readonly expiresAt: Date;
}

/**
 * The panel's OAuth requests (docs/clients.md#roger-printer): the printer authenticates each one
 * with its own device access token (SPEC §3.3, §3.4). When the server refuses that token (its
 * clock ran past our estimate of the expiry, or it was revoked) the token is refreshed once and
 * the request made again; a refresh that finds the enrollment ended throws Disconnected.
 */
export class PanelSignIn {
  #bearer?: string;
  #config?: Promise<oauth.Configuration>;

  constructor(
    private readonly credentials: DeviceTokens,
    private readonly backoff: Backoff,
    private readonly signal: AbortSignal,
  ) {}

  /** A session code for the panel's QR (scope `session`): a person approves it in the app. */
  startSession(): Promise<{ config: oauth.Configuration; authorization: oauth.DeviceAuthorizationResponse }> {
    return this.#asPrinter(async (config) => ({
      config,
      authorization: await oauth.initiateDeviceAuthorization(config, { scope: 'session' }),
    }));
  }

  /** The password grant with a PIN (or password) for `username` at this printer; scope `jobs:submit` may also release. */
  async withPin(username: string, pin: string): Promise<PanelSession> {
    const tokens = await this.#asPrinter((config) =>
      oauth.genericGrantRequest(config, 'password', { username, password: pin, scope: 'jobs:submit' }),
    );
    return sessionFrom(tokens);
  }

  /**
   * The badge grant (docs/clients.md#roger-printer): the number the card reader typed, with the
   * person's PIN when the organization asks for badge and PIN. Same scope as `withPin`.
   */
  async withBadge(badge: string, pin?: string): Promise<PanelSession> {
    const parameters = { badge, ...(pin === undefined ? {} : { pin }), scope: 'jobs:submit' };
    return sessionFrom(await this.#asPrinter((config) => oauth.genericGrantRequest(config, BADGE_GRANT, parameters)));
  }

  /** PIN-only sign-in, for organizations whose PINs are long enough to say who someone is. Same scope as `withPin`. */
  async withPinOnly(pin: string): Promise<PanelSession> {
    return sessionFrom(await this.#asPrinter((config) => oauth.genericGrantRequest(config, PIN_ONLY_GRANT, { pin, scope: 'jobs:submit' })));
  }

  /**
   * A request with the printer's Bearer token, once more after a refresh if that token is refused.
   * A sign-in refused for too many failures at this printer (429) is not tried again: the person
   * at the panel is told at once how long to wait, rather than the panel waiting it out silently.
   */
  async #asPrinter<T>(request: (config: oauth.Configuration) => Promise<T>): Promise<T> {
    const config = await this.#client();
    const once = async (token: string) => {
      this.#bearer = token;
      return retrying(() => request(config), { backoff: this.backoff, signal: this.signal, retryable: (error) => !tooManyFailures(error) });
    };
    const token = await this.credentials.accessToken();
    try {
      return await once(token);
    } catch (error) {
      if (!refusedPrinterToken(error)) throw error;
      return once(await this.credentials.rejected(token));
    }
  }

  #client(): Promise<oauth.Configuration> {
    this.#config ??= retrying(() => oauthClient(this.credentials.apiUrl, CLIENT_ID, () => this.#bearer ?? this.credentials.current), {
      backoff: this.backoff,
      signal: this.signal,
    }).catch((error: unknown) => {
      this.#config = undefined;
      throw error;
    });
    return this.#config;
  }
}

/** The extension grants (RFC 6749 §4.5) of SPEC §9 and issue 22. */
export const BADGE_GRANT = 'urn:roger:params:oauth:grant-type:badge';
export const PIN_ONLY_GRANT = 'urn:roger:params:oauth:grant-type:pin';

/** A sign-in refused for too many failures (the token endpoint's 429, with Retry-After): worth saying, not retrying. */
export function tooManyFailures(error: unknown): boolean {
  return error instanceof oauth.ResponseBodyError && error.status === 429;
}

/**
 * The badge grant's answer when the organization wants badge and PIN and none was sent:
 * invalid_request whose description names the `pin` parameter (RFC 6749 §5.2).
 */
export function pinNeeded(error: unknown): boolean {
  return error instanceof oauth.ResponseBodyError && error.error === 'invalid_request' && /\bpin\b/i.test(error.error_description ?? '');
}

/** What the token endpoint answered to a session: the session id (`sid`) and when it ends on our clock. */
export function sessionFrom(tokens: oauth.TokenEndpointResponse): PanelSession {
  return {
    sessionId: sessionIdOf(tokens.access_token),
    token: tokens.access_token,
    expiresAt: new Date(Date.now() + (tokens.expires_in ?? 0) * 1000),
  };
}

/**
 * The server did not accept the printer's own token: RFC 6749 §5.2 invalid_client, which comes
 * as a 401 with a WWW-Authenticate challenge when the client authenticated with a header (so
 * openid-client throws WWWAuthenticateChallengeError), or a 401 from the API.
 */
export function refusedPrinterToken(error: unknown): boolean {
  if (error instanceof oauth.WWWAuthenticateChallengeError) return error.status === 401;
  if (error instanceof oauth.ResponseBodyError) return error.error === 'invalid_client';
  return error instanceof ApiError && error.status === 401;
}
