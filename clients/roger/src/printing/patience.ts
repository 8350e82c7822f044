import { backoffDelay, sleep, type Backoff } from '@roger-cloud/client-kit/backoff';
import { ApiError, isTransient } from '@roger-cloud/client-kit/http';

/**
 * How long `roger print` keeps trying while the API or OneDrive is away for a moment
 * (docs/clients.md#printing): backoff with jitter between tries, Retry-After honoured, and a
 * bound on how long the failures may last before it gives up, leaving the upload to be resumed
 * by running the same command again. A person at a terminal should not wait for ever; two
 * minutes outlast a restart of the API or a brief throttling.
 */
export const DEFAULT_RETRY_SECONDS = 120;
/** Shorter pauses than a long-running agent's: someone is waiting at the terminal. */
export const PRINT_BACKOFF: Backoff = { firstMs: 500, maxMs: 10_000 };

/** Something away for a moment that says when to try again (429 or 503 with Retry-After). */
export interface Busy {
  readonly retryAfterSeconds?: number | undefined;
}

/** The failures lasted longer than the bound: `cause` is the last one. */
export class GaveUp extends Error {
  constructor(
    readonly seconds: number,
    cause: unknown,
  ) {
    super(`${describe(cause)}; gave up after trying for ${seconds} s`, { cause });
    this.name = 'GaveUp';
  }
}

export class Patience {
  #failingSince: number | undefined;
  #attempt = 0;

  constructor(
    readonly limitSeconds: number,
    readonly isRetryable: (error: unknown) => boolean = isTransient,
  ) {}

  /**
   * After a failure worth retrying: waits before the next try, or throws GaveUp when that try
   * would come later than the bound allows, counted from the first failure of this streak.
   */
  async pause(error: unknown): Promise<void> {
    const now = Date.now();
    this.#failingSince ??= now;
    const retryAfterMs = ((error as Busy).retryAfterSeconds ?? 0) * 1000;
    const delay = Math.max(backoffDelay(this.#attempt, PRINT_BACKOFF), retryAfterMs);
    this.#attempt += 1;
    if (now + delay - this.#failingSince > this.limitSeconds * 1000) throw new GaveUp(this.limitSeconds, error);
    await sleep(delay);
  }

  /** A try went through: the next failure starts a new streak. */
  succeeded(): void {
    this.#failingSince = undefined;
    this.#attempt = 0;
  }

  /**
   * `work` until it succeeds, pausing after each retryable failure; other failures are thrown at
   * once. `progress: false`: its success does not end the streak (a status question between
   * failed sends).
   */
  async run<T>(work: () => Promise<T>, { progress = true }: { progress?: boolean } = {}): Promise<T> {
    for (;;) {
      try {
        const result = await work();
        if (progress) this.succeeded();
        return result;
      } catch (error) {
        if (!this.isRetryable(error)) throw error;
        await this.pause(error);
      }
    }
  }
}

/** The bound from ROGER_RETRY_FOR_SECONDS (tests make it short), else two minutes. */
export function retrySecondsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.ROGER_RETRY_FOR_SECONDS;
  if (value === undefined || value === '') return DEFAULT_RETRY_SECONDS;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`ROGER_RETRY_FOR_SECONDS: not a number of seconds: ${value}`);
  return seconds;
}

/** One line about what went wrong; an API problem with its status. */
export function describe(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (HTTP ${error.status})`;
  return (error as Error)?.message ?? String(error);
}
