/**
 * The domain's error vocabulary: what went wrong, said in the domain's terms and not in any
 * protocol's. Domain code (shared/<concept>/) throws these and nothing HTTP; the HTTP layer
 * (shared/http/error-rendering.ts) renders each one in the format of the route that was called:
 * RFC 9457 problem+json, RFC 6749 JSON on /oauth, or an HTML page. So one rule (a cancelled job
 * cannot be released) answers alike through every door, and a new door (a web page, a queue
 * trigger) needs a renderer, not new throws. This module imports nothing, so any layer may use it.
 */
export type DomainErrorKind =
  'invalid' | 'unauthorized' | 'forbidden' | 'not-found' | 'conflict' | 'rate-limited' | 'unavailable' | 'upstream-failed';

/**
 * A conflict the caller can act on, more precisely than "read it again": clients rely on these
 * (the app shows "connect OneDrive again" for `onedrive-reconnect-required`), so each keeps its
 * own stable problem type.
 */
export type ConflictCode =
  'onedrive-not-connected' | 'onedrive-reconnect-required' | 'onedrive-folder-blocked' | 'managed-by-directory' | 'badge-taken';

/** An outage with a cause the caller should know apart from a busy service: it lasts until an operator acts. */
export type UnavailableCode = 'onedrive-not-configured' | 'microsoft-sign-in-not-configured' | 'release-topics-full';

/** One failing field: a JSON pointer into the request (`/body/name`) and what is wrong with it. */
export interface FieldError {
  readonly pointer: string;
  readonly detail: string;
}

/**
 * Facts a caller may act on, as plain data (`{ state }` of a job that cannot move, `{ field }`
 * that is taken, `{ connect }` to start over, `{ errors }` per field). Renderers pass them on;
 * they must never hold a secret.
 */
export type ErrorFacts = Readonly<Record<string, unknown>> & { readonly errors?: readonly FieldError[] };

export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  constructor(
    /** For the caller, in plain words: it is shown as is. */
    readonly detail: string,
    readonly facts: ErrorFacts = {},
  ) {
    super(detail);
    this.name = new.target.name;
  }
}

/** The input breaks a rule the schema cannot say (a printer needs a name, a foreign list token). */
export class Invalid extends DomainError {
  readonly kind = 'invalid';
}

/** The credential names nobody (any more): the account it was issued to is gone. */
export class Unauthorized extends DomainError {
  readonly kind = 'unauthorized';
}

/** The caller is known and may not do this. */
export class Forbidden extends DomainError {
  readonly kind = 'forbidden';
}

/** Nothing there, or nothing this caller may see (the two look alike, so nothing is revealed). */
export class NotFound extends DomainError {
  readonly kind = 'not-found';
}

/** The current state forbids it (a job in the wrong state, a name taken, a write that lost a race). */
export class Conflict extends DomainError {
  readonly kind = 'conflict';
  constructor(
    detail: string,
    facts: ErrorFacts = {},
    readonly code?: ConflictCode,
  ) {
    super(detail, facts);
  }
}

/** Refused by a rate limit; `retryAfterSeconds` is when its window ends. */
export class RateLimited extends DomainError {
  readonly kind = 'rate-limited';
  constructor(
    readonly retryAfterSeconds: number,
    detail = 'too many requests; wait, then try again',
    facts: ErrorFacts = {},
  ) {
    super(detail, facts);
  }
}

/** Something this depends on (the store, messaging, Microsoft) cannot do it now; worth retrying after `retryAfterSeconds`. */
export class Unavailable extends DomainError {
  readonly kind = 'unavailable';
  constructor(
    readonly retryAfterSeconds: number,
    detail: string,
    facts: ErrorFacts = {},
    readonly code?: UnavailableCode,
  ) {
    super(detail, facts);
  }
}

/** A service this depends on answered, but not in a way that can be used (not worth retrying soon). */
export class UpstreamFailed extends DomainError {
  readonly kind = 'upstream-failed';
}
