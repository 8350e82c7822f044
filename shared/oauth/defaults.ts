/**
 * Every OAuth tunable that is not a deployment setting, in one place with its reason.
 * (Access-token lifetime and the poll interval are settings: see shared/config/settings.ts.)
 */
export const oauthDefaults = {
  /** RFC 8628 §6.1: 20 consonants, no vowels (no words), no look-alikes. 20^8 ≈ 2^34.6. */
  userCodeAlphabet: 'BCDFGHJKLMNPQRSTVWXZ',
  userCodeLength: 8,
  /** Printer enrollment and desktop sign-in codes (docs/flows.md#tokens). */
  enrollmentCodeLifetimeSeconds: 600,
  desktopCodeLifetimeSeconds: 600,
  /** The dynamic QR code of a session is short-lived (docs/flows.md#sign-in). */
  sessionCodeLifetimeSeconds: 120,
  /** RFC 8628 §3.5: each `slow_down` adds 5 seconds to the interval. */
  slowDownStepSeconds: 5,
  /** A printer unused for 90 days is disconnected (docs/flows.md#printer-lifecycle). */
  deviceRefreshIdleDays: 90,
  /** User refresh tokens slide 30 days, capped absolutely (docs/flows.md#tokens). */
  userRefreshIdleDays: 30,
  userRefreshMaxDays: 180,
  /** Rotated token hashes kept per family to recognise reuse (RFC 9700 §4.14.2). */
  rotatedHashesKept: 10,
  /** Refresh-token families per user (sign-ins on phones/desktops); the oldest is dropped beyond. */
  familiesPerUser: 10,
  /** Failed user-code look-ups a caller may make per window before 429 (docs/security.md#rate-limits). */
  userCodeMissesPerWindow: 10,
  userCodeMissWindowSeconds: 600,
  /**
   * Limits at the OAuth endpoints, per client identity (docs/security.md#rate-limits; shared/rate-limit.ts). A
   * printer's failed sign-ins per window are the tenant policy's `printerFailedSignInLimit`.
   * An address may be a whole office behind one NAT, so its limits are generous: they stop a
   * script, not a busy floor.
   */
  limits: {
    printerSignInFailureWindowSeconds: 900,
    /** The app's password grant: failures per client address. */
    addressSignInFailures: { limit: 100, windowSeconds: 900 },
    /** Device authorizations (enrollment and desktop codes) per client address. */
    addressDeviceAuthorizations: { limit: 60, windowSeconds: 600 },
    /** Session QR codes per printer: a panel shows a new one per session and when one expires (120 s). */
    printerDeviceAuthorizations: { limit: 60, windowSeconds: 600 },
    /** "Sign in with Microsoft" starts on the sign-in page per client address: each stores a pending sign-in. */
    addressMicrosoftSignInStarts: { limit: 60, windowSeconds: 600 },
  },
} as const;
