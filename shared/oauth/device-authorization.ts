import { readDevice } from '../devices/devices.js';
import { RateLimited } from '../errors.js';
import { addressBucket, reserve } from '../rate-limit.js';
import type { Services } from '../services.js';
import { deriveSecret, hashSecret } from '../tokens/secrets.js';
import { clientById, DEVICE_CODE_GRANT, parseScope } from './clients.js';
import { oauthDefaults } from './defaults.js';
import { formatUserCode, issueDeviceCode } from './device-codes.js';
import { OAuthError } from './errors.js';
import { authenticatePrinter } from './printer-client.js';

/** The first refresh token of a device-code grant is derived from the device code (see DeviceCodeRecord). */
export const initialRefreshSecret = (deviceCodeSecret: string) => deriveSecret(deviceCodeSecret, 'roger refresh token 0');

export interface DeviceAuthorizationRequest {
  readonly client_id?: string;
  readonly scope?: string;
}

/**
 * RFC 8628 §3.1–3.2. Three uses (docs/flows.md#sign-in):
 *  - `roger-emb` + `device`: an unenrolled printer asks to join a tenant (an admin approves);
 *  - `roger-emb` + `session`: an enrolled printer (Bearer device token) shows a session QR code;
 *  - `roger-desktop` + `jobs offline_access`: the desktop client signs a user in.
 */
export async function startDeviceAuthorization(services: Services, request: DeviceAuthorizationRequest, headers: Headers, ip?: string) {
  const { config, store, now } = services;
  if (!request.client_id) throw new OAuthError('invalid_request', 'client_id is required');
  const client = clientById(request.client_id);
  if (!client) throw new OAuthError('invalid_client', 'unknown client');
  if (!client.grants.includes(DEVICE_CODE_GRANT)) {
    throw new OAuthError('unauthorized_client', 'this client may not use the device authorization grant');
  }

  const requested = parseScope(request.scope);
  let fields: { scope: string; tenantId?: string; deviceId?: string };
  let lifetime: number;
  if (client.id === 'roger-emb') {
    if (requested.length !== 1 || (requested[0] !== 'device' && requested[0] !== 'session')) {
      throw new OAuthError('invalid_scope', 'the printer asks for exactly one of: device, session');
    }
    if (requested[0] === 'device') {
      fields = { scope: 'device' };
      lifetime = oauthDefaults.enrollmentCodeLifetimeSeconds;
    } else {
      const printer = await authenticatePrinter(headers, services);
      const device = await readDevice(store, printer.tenantId, printer.deviceId);
      if (!device || device.status !== 'connected') throw new OAuthError('invalid_client', 'this printer is not enrolled');
      fields = { scope: 'session', tenantId: printer.tenantId, deviceId: printer.deviceId };
      lifetime = oauthDefaults.sessionCodeLifetimeSeconds;
    }
  } else {
    const scope = requested.length > 0 ? requested : [...client.scopes];
    if (scope.some((s) => !client.scopes.includes(s))) throw new OAuthError('invalid_scope', `allowed scopes: ${client.scopes.join(' ')}`);
    fields = { scope: scope.join(' ') };
    lifetime = oauthDefaults.desktopCodeLifetimeSeconds;
  }

  await reserveCodeCreation(services, fields.deviceId, ip);
  const mintsRefreshToken = fields.scope === 'device' || parseScope(fields.scope).includes('offline_access');
  const issued = await issueDeviceCode(
    store,
    { clientId: client.id, interval: config.oauth.pollIntervalSeconds, ...fields },
    lifetime,
    now(),
    mintsRefreshToken ? (secret) => hashSecret(initialRefreshSecret(secret)) : undefined,
  );
  const userCode = formatUserCode(issued.userCode);
  return {
    device_code: issued.deviceCode,
    user_code: userCode,
    // Typing the code: the no-JavaScript page. Scanning the QR code: the web app's approve
    // screen, which says who is asking and what they get, where this host serves the web app;
    // elsewhere (a region without a custom domain) the same page with the code filled in (docs/flows.md).
    verification_uri: `${config.oauth.issuer}/device`,
    verification_uri_complete: config.oauth.webAppServed
      ? `${config.oauth.issuer}/app/approve?code=${userCode}`
      : `${config.oauth.issuer}/device?user_code=${userCode}`,
    expires_in: lifetime,
    interval: config.oauth.pollIntervalSeconds,
  };
}

/**
 * Every request here writes a device-code item, and anyone may ask: without a bound one
 * address could fill the store. Counted per printer for session codes (it authenticated), per
 * client address otherwise. A key's first code on an instance in a window is counted there only
 * (rate-limit.ts `firstLocal`): most callers ask once (a desktop signing in, a printer showing a
 * code), so most device authorizations cost the one write of their record
 * (docs/security.md#rate-limits says what that allows across instances).
 */
async function reserveCodeCreation(services: Services, deviceId: string | undefined, ip: string | undefined): Promise<void> {
  const { limits } = oauthDefaults;
  const [key, rule] = deviceId
    ? [`device-authorizations:printer:${deviceId}`, limits.printerDeviceAuthorizations]
    : [`device-authorizations:${addressBucket(ip)}`, limits.addressDeviceAuthorizations];
  try {
    await reserve(services.store, key, rule, services.now(), { firstLocal: true });
  } catch (error) {
    if (!(error instanceof RateLimited)) throw error;
    throw new RateLimited(error.retryAfterSeconds, `too many codes requested; try again in ${error.retryAfterSeconds} seconds`);
  }
}
