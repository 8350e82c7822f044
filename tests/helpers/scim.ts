import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import { formatLogLine, type Logger } from '../../shared/logging/logger.js';
import { PATCH_OP_SCHEMA } from '../../shared/scim/patch.js';
import type { ScimCaller } from '../../shared/scim/resources.js';
import type { Services } from '../../shared/services.js';
import type { FreshTenant } from './fixtures.js';
import { api, oauthEnv } from './roger.js';
import { startTestHost, type TestHost } from './test-host.js';

/**
 * What the SCIM tests set up alike (docs/provisioning.md): one host per file, a tenant's SCIM
 * token and the caller it authenticates as, the admin group named in the policy, PATCH bodies
 * and loggers for the domain functions.
 */

/**
 * The file's host (OAuth settings), started before its tests and closed after them. `started`
 * is given the host and its services once they exist, for the file's own variables:
 * `scimTestHost((started) => ({ host, services } = started))`.
 */
export function scimTestHost(started: (world: { host: TestHost; services: Services }) => void): void {
  let host: TestHost | undefined;
  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
    started({ host, services: await host.services() });
  });
  afterAll(() => host?.close());
}

/** A SCIM token the tenant's admin created over the API, and the caller it authenticates as. */
export async function scimToken(
  host: TestHost,
  tenant: FreshTenant,
  body: { expiresInDays?: number } = {},
): Promise<{ token: string; tokenId: string; caller: ScimCaller }> {
  const created = await api(host, tenant.admin.token, 'POST', '/api/tenant/scim-tokens', body);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const tokenId = created.body.id as string;
  return { token: created.body.token as string, tokenId, caller: { tenantId: tenant.id, tokenId } };
}

/** The tenant's policy names `groupId` (a fresh one unless given) as its admin group; returns it. */
export async function nameAdminGroup(host: TestHost, tenant: FreshTenant, groupId: string = randomUUID()): Promise<string> {
  const answer = await api(host, tenant.admin.token, 'PATCH', '/api/tenant', { policy: { entraAdminGroupId: groupId } });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return groupId;
}

/** A PATCH request body (RFC 7644 §3.5.2) with these operations. */
export const patchRequest = (...Operations: unknown[]) => ({ schemas: [PATCH_OP_SCHEMA], Operations });

/** A logger that keeps each line it is given in `lines`, as `level event key=value…`. */
export function collectingLog(lines: string[]): Logger {
  return {
    info: (event, fields) => lines.push(`info ${formatLogLine(event, fields)}`),
    warn: (event, fields) => lines.push(`warn ${formatLogLine(event, fields)}`),
    error: (event, fields) => lines.push(`error ${formatLogLine(event, fields)}`),
  };
}

/** A logger that drops everything (for tests that read the store, not the log). */
export const silentLog: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
