import { readDevice } from '../devices/devices.js';
import { RateLimited } from '../errors.js';
import type { Services } from '../services.js';
import { withinSignInFailureLimit, type SignInSource } from '../users/sign-in-limits.js';
import { OAuthError } from './errors.js';
import { authenticatePrinter } from './printer-client.js';

/**
 * What every grant that signs a person in at a printer shares (the PIN command of
 * grants/password.ts, the badge grant of grants/badge.ts): the printer's own authentication,
 * and the failure limits that answer the same way whichever of them was guessed at.
 */

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
