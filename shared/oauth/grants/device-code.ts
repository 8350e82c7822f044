import type { Services } from '../../services.js';
import { isPreconditionFailed } from '../../store/cosmos-errors.js';
import { oauthDefaults } from '../defaults.js';
import { approvedSubjectOf, readDeviceCode, replaceDeviceCode, sessionPrinterOf, type DeviceCodeRecord } from '../device-codes.js';
import { initialRefreshSecret } from '../device-authorization.js';
import { OAuthError } from '../errors.js';
import { formatRefreshToken } from '../refresh-families.js';
import { tokenResponse, type TokenResponse } from '../token-response.js';
import type { TokenRequest } from './index.js';

export const grantType = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * RFC 8628 §3.4–3.5. Every poll is one read and one conditional write of the record: the write
 * remembers the poll time (for `slow_down`) or consumes the code, so a code is exchanged
 * exactly once even when two polls race.
 */
export async function handler(services: Services, { clientId, parameters }: TokenRequest): Promise<TokenResponse> {
  const { store, now } = services;
  const deviceCode = parameters.device_code;
  if (!deviceCode) throw new OAuthError('invalid_request', 'device_code is required');
  const found = await readDeviceCode(store, deviceCode);
  if (!found || found.record.clientId !== clientId) throw new OAuthError('invalid_grant', 'unknown device_code');
  const { record, secret } = found;
  const time = now();

  if (record.status === 'consumed') throw new OAuthError('invalid_grant', 'this device_code was already used');
  if (Date.parse(record.expiresAt) <= time.getTime()) throw new OAuthError('expired_token', 'the device_code expired; start again');
  if (record.status === 'denied') throw new OAuthError('access_denied', 'the request was denied');

  if (record.status === 'pending') {
    const tooSoon = record.lastPolledAt !== undefined && time.getTime() - Date.parse(record.lastPolledAt) < record.interval * 1000;
    const interval = tooSoon ? record.interval + oauthDefaults.slowDownStepSeconds : record.interval;
    await replaceDeviceCode(store, { ...record, lastPolledAt: time.toISOString(), interval }).catch((error: unknown) => {
      if (!isPreconditionFailed(error)) throw error; // a racing poll already wrote: fine
    });
    if (tooSoon) throw new OAuthError('slow_down', `poll at most every ${interval} seconds`);
    throw new OAuthError('authorization_pending', 'the user has not answered yet');
  }

  try {
    await replaceDeviceCode(store, { ...record, status: 'consumed' });
  } catch (error) {
    if (isPreconditionFailed(error)) throw new OAuthError('invalid_grant', 'this device_code was already used');
    throw error;
  }
  return tokensFor(services, record, secret);
}

function tokensFor(services: Services, record: DeviceCodeRecord, secret: string) {
  const { tenantId, subjectId } = approvedSubjectOf(record);
  const refreshToken = (owner: 'u' | 'd') =>
    record.refreshFamilyId
      ? formatRefreshToken(owner, tenantId, subjectId, record.refreshFamilyId, initialRefreshSecret(secret))
      : undefined;

  if (record.scope === 'device') {
    return tokenResponse(services, { sub: subjectId, client_id: record.clientId, scope: 'device', tid: tenantId }, refreshToken('d'));
  }
  if (record.scope === 'session') {
    // The user, acting at this printer; may release jobs and scan; no refresh token (docs/flows.md#sign-in).
    return tokenResponse(services, {
      sub: subjectId,
      client_id: record.clientId,
      scope: 'jobs:release scan',
      tid: tenantId,
      act: { sub: sessionPrinterOf(record).deviceId },
      sid: record.id,
    });
  }
  return tokenResponse(
    services,
    { sub: subjectId, client_id: record.clientId, scope: record.scope, tid: tenantId, roles: record.roles ?? [] },
    refreshToken('u'),
  );
}
