import { readDevice } from '../devices/devices.js';
import { RateLimited } from '../errors.js';
import type { Services } from '../services.js';
import { newId } from '../tokens/secrets.js';
import { withinSignInFailureLimit, type SignInSource } from '../users/sign-in-limits.js';
import { parseScope } from './clients.js';
import { OAuthError } from './errors.js';
import { authenticatePrinter } from './printer-client.js';
import { tokenResponse, type TokenResponse } from './token-response.js';

/**
 * What every grant that signs a person in at a printer shares (the PIN command of
 * grants/password.ts, the badge grant of grants/badge.ts, PIN-only of grants/pin-only.ts): the
 * printer's own authentication, the failure limits that answer the same way whichever of them
 * was guessed at, the scopes a session at a printer may have, and the session token it gets.
 */

/** A session at a printer submits jobs and scans, however the person signed in there: no way opens more than the PIN command. */
export const PRINTER_SESSION_SCOPES: readonly string[] = ['jobs:submit', 'scan'];

/** The scopes asked for (all of PRINTER_SESSION_SCOPES when none), or invalid_scope. */
export function printerSessionScope(requested: string | undefined): string[] {
  const asked = parseScope(requested);
  const scope = asked.length > 0 ? asked : [...PRINTER_SESSION_SCOPES];
  if (scope.some((s) => !PRINTER_SESSION_SCOPES.includes(s))) {
    throw new OAuthError('invalid_scope', `allowed scopes: ${PRINTER_SESSION_SCOPES.join(' ')}`);
  }
  return scope;
}

/** The session token of a person signed in at a printer: the printer as actor, a new session id, no refresh token. */
export function printerSessionToken(
  services: Services,
  session: {
    readonly userId: string;
    readonly tenantId: string;
    readonly deviceId: string;
    readonly clientId: string;
    readonly scope: readonly string[];
  },
): Promise<TokenResponse> {
  return tokenResponse(services, {
    sub: session.userId,
    client_id: session.clientId,
    scope: session.scope.join(' '),
    tid: session.tenantId,
    act: { sub: session.deviceId },
    sid: newId(),
  });
}

/**
 * Disconnection is immediate (docs/flows.md#printer-lifecycle). The printer's access token may live 20 more minutes, so
 * its record, read now, decides whether it may still sign anyone in.
 */
export async function connectedPrinter(services: Services, headers: Headers) {
  const printer = await authenticatePrinter(headers, services);
  const device = await readDevice(services.store, printer.tenantId, printer.deviceId);
  if (!device || device.status !== 'connected') throw new OAuthError('invalid_client', 'this printer is not enrolled');
  return printer;
}

/**
 * One sign-in attempt under its source's failure limit (sign-in-limits.ts), the 429 worded for
 * the printer or address it counts: a PIN, a password and a badge failed at one printer all
 * count in the one per-printer window.
 */
export async function withinFailureLimit<T>(
  services: Services,
  source: SignInSource,
  method: 'pin' | 'password' | 'badge',
  attempt: () => Promise<T | undefined>,
): Promise<T | undefined> {
  try {
    return await withinSignInFailureLimit(services, source, method, attempt);
  } catch (error) {
    if (!(error instanceof RateLimited)) throw error;
    const from = 'printerId' in source ? 'printer' : 'address';
    throw new RateLimited(
      error.retryAfterSeconds,
      `too many failed sign-ins from this ${from}; try again in ${error.retryAfterSeconds} seconds`,
    );
  }
}
