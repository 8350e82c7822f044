import type { SessionTokens } from './contracts.js';

/**
 * The session tokens the panel obtained (docs/clients.md#roger-printer), kept in memory only:
 * they live 20 minutes, and a restarted agent has no business acting for anyone. Bounded, so a
 * panel used all day holds no more than the most recent sessions; expired ones are dropped.
 */
export class SessionTokenStore implements SessionTokens {
  readonly #tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(
    private readonly limit = 64,
    private readonly now: () => number = Date.now,
  ) {}

  remember(sessionId: string, accessToken: string, expiresAt: Date): void {
    this.#drop();
    this.#tokens.delete(sessionId); // re-inserted last: the newest
    this.#tokens.set(sessionId, { token: accessToken, expiresAt: expiresAt.getTime() });
    // A Map iterates in insertion order: the first keys are the oldest sessions.
    for (const oldest of this.#tokens.keys()) {
      if (this.#tokens.size <= this.limit) break;
      this.#tokens.delete(oldest);
    }
  }

  tokenFor(sessionId: string): string | undefined {
    const entry = this.#tokens.get(sessionId);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.#tokens.delete(sessionId);
      return undefined;
    }
    return entry.token;
  }

  /** How many sessions are still valid. */
  get size(): number {
    this.#drop();
    return this.#tokens.size;
  }

  #drop() {
    const time = this.now();
    for (const [id, entry] of this.#tokens) if (entry.expiresAt <= time) this.#tokens.delete(id);
  }
}
