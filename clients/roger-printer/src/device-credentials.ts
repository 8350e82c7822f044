import type { Backoff } from '@roger-cloud/client-kit/backoff';
import { oauth, oauthClient } from '@roger-cloud/client-kit/oauth';
import { Disconnected, type DeviceCredentials } from './contracts.js';
import { explain } from './explain.js';
import { retrying } from './retry.js';
import { writeState, type AgentState } from './state.js';

export const CLIENT_ID = 'roger-emb';

/** Refresh this long before the token expires (at most half its life), so no call carries a dying token. */
const EARLY_REFRESH_MS = 60_000;

export interface DeviceTokenOptions {
  readonly statePath: string;
  readonly backoff: Backoff;
  /** Aborted when the agent stops: a refresh waiting to retry gives up. */
  readonly signal: AbortSignal;
  /** Called once when the enrollment is found to have ended, wherever that was noticed. */
  onDisconnected(error: Disconnected): void;
  /** One line for the terminal: a refresh that failed for a moment. Never a token. */
  log(line: string): void;
  readonly now?: () => number;
}

/**
 * The printer's own tokens (docs/clients.md#roger-printer): a device access token, refreshed
 * with the rotating refresh token before it expires. The rotated refresh token is written to
 * the state file *before* the new access token is handed out, so a crash right after a refresh
 * never loses the only valid refresh token. One refresh at a time: callers asking at the same
 * moment share it (two refreshes with one token would be a replay, which revokes the printer).
 */
export class DeviceTokens implements DeviceCredentials {
  #state: AgentState;
  #access?: { token: string; expiresAt: number; earlyMs: number };
  #refreshing?: Promise<string>;
  #disconnected?: Disconnected;
  #config?: Promise<oauth.Configuration>;
  readonly #now: () => number;

  constructor(
    state: AgentState,
    private readonly options: DeviceTokenOptions,
    access?: oauth.TokenEndpointResponse,
  ) {
    this.#state = state;
    this.#now = options.now ?? Date.now;
    if (access) this.#access = this.#accessFrom(access);
  }

  get apiUrl(): string {
    return this.#state.apiUrl;
  }

  get deviceId(): string {
    return this.#state.deviceId;
  }

  get state(): AgentState {
    return this.#state;
  }

  /** The access token when one is held and not expiring: for openid-client's synchronous bearer hook. */
  get current(): string | undefined {
    return this.#access && !this.#expiring(this.#access) ? this.#access.token : undefined;
  }

  async accessToken(): Promise<string> {
    if (this.#disconnected) throw this.#disconnected;
    return this.current ?? this.#refresh();
  }

  /**
   * The API refused `token` (401): the server's clock may be ahead of ours, or the token was
   * revoked. Refresh, unless a newer token than the refused one is already held.
   */
  async rejected(token: string): Promise<string> {
    if (this.#disconnected) throw this.#disconnected;
    if (this.#access && this.#access.token !== token && !this.#expiring(this.#access)) return this.#access.token;
    this.#access = undefined;
    return this.#refresh();
  }

  #refresh(): Promise<string> {
    this.#refreshing ??= retrying(() => this.#refreshOnce(), {
      backoff: this.options.backoff,
      signal: this.options.signal,
      onRetry: (error, delay) => this.options.log(`token refresh failed for now (${explain(error)}); again in ${delay} ms`),
    }).finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #refreshOnce(): Promise<string> {
    this.#config ??= oauthClient(this.#state.apiUrl, CLIENT_ID).catch((error: unknown) => {
      this.#config = undefined; // discovery failed: try it again next time
      throw error;
    });
    const config = await this.#config;
    let tokens: oauth.TokenEndpointResponse;
    try {
      tokens = await oauth.refreshTokenGrant(config, this.#state.refreshToken);
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError && error.error === 'invalid_grant') {
        throw this.#disconnect(error.error_description ?? 'the server refused its refresh token');
      }
      throw error;
    }
    if (!tokens.refresh_token) throw new Error('the server answered the refresh without a new refresh token');
    const next: AgentState = { ...this.#state, refreshToken: tokens.refresh_token };
    // The old refresh token is spent now: keep the new one in memory even if the write fails,
    // so the next attempt uses (and saves) it rather than replaying the spent one.
    this.#state = next;
    await writeState(this.options.statePath, next);
    this.#access = this.#accessFrom(tokens);
    return tokens.access_token;
  }

  #disconnect(why: string): Disconnected {
    this.#disconnected ??= new Disconnected(why);
    this.options.onDisconnected(this.#disconnected);
    return this.#disconnected;
  }

  #accessFrom(tokens: oauth.TokenEndpointResponse) {
    // Our own clock from the moment of receipt: the server's `exp` is on the server's clock.
    const lifetimeMs = (tokens.expires_in ?? 0) * 1000;
    return { token: tokens.access_token, expiresAt: this.#now() + lifetimeMs, earlyMs: Math.min(EARLY_REFRESH_MS, lifetimeMs / 2) };
  }

  #expiring(access: { expiresAt: number; earlyMs: number }): boolean {
    return access.expiresAt - this.#now() < access.earlyMs;
  }
}
