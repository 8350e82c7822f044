import type { Transport } from './amqp-transport.js';

/**
 * What the agent's parts share (docs/clients.md#roger-printer): the printer's own credentials,
 * and the session tokens its panel obtained for people, which the receiving side uses to
 * report what it printed for them.
 */

/** The enrolled printer's device token, refreshed as it slides (90 days from each use). */
export interface DeviceCredentials {
  readonly apiUrl: string;
  readonly deviceId: string;
  /** A device access token valid for at least a minute; throws Disconnected when the printer has lost its enrollment. */
  accessToken(): Promise<string>;
  /**
   * The API refused `token` (401): a fresh one, refreshed unless a newer token is already held.
   * Throws Disconnected when the refresh says the enrollment has ended.
   */
  rejected(token: string): Promise<string>;
}

/** The printer's enrollment has ended (disconnected by an admin, unused 90 days, token revoked): the agent stops and says why. */
export class Disconnected extends Error {
  constructor(reason: string) {
    super(`this printer is no longer connected to Roger: ${reason}. Enroll it again with \`roger-printer enroll\``);
    this.name = 'Disconnected';
  }
}

/** Session tokens by session id (the release message's correlationId; the token's `sid`, else `jti`). */
export interface SessionTokens {
  remember(sessionId: string, accessToken: string, expiresAt: Date): void;
  /** The session's token while it is valid. */
  tokenFor(sessionId: string): string | undefined;
}

/** What the receiving side (receiver.ts) needs from the rest of the agent. */
export interface ReceiverOptions {
  readonly credentials: DeviceCredentials;
  readonly sessions: SessionTokens;
  /** Where printed documents are written, one file per job. */
  readonly outputDir: string;
  /** The persisted, bounded list of job ids already printed (never print a job twice). */
  readonly ledgerPath: string;
  /** AMQP (5671) or AMQP over WebSockets (443): docs/clients.md#amqp-over-websockets. */
  readonly transport: Transport;
  /** One line for the person watching the panel's terminal; never a token. */
  log(line: string): void;
  /** Aborted when the agent stops. */
  readonly signal: AbortSignal;
}
