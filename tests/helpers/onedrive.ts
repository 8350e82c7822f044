import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { saveLink } from '../../shared/onedrive/links.js';
import type { Store } from '../../shared/store/store.js';
import { startLocalMicrosoft, type LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { api, oauthEnv } from './roger.js';
import { startTestHost, type TestHost } from './test-host.js';

/** The local host pointed at a local Entra ID and Graph of the test's own, as Azure points it at Microsoft's. */
export async function startHostWithMicrosoft(clientId: string) {
  const clientSecret = `${clientId}-client-secret`;
  const ms = await startLocalMicrosoft({ clientId, clientSecret });
  const host = await startTestHost({
    env: {
      ...oauthEnv,
      ENTRA_CLIENT_ID: clientId,
      ENTRA_CLIENT_SECRET: clientSecret,
      ENTRA_AUTHORITY: ms.authority,
      GRAPH_BASE_URL: ms.graphUrl,
      ONEDRIVE_TOKEN_KEYS: JSON.stringify({ keys: [{ kid: 'test', key: randomBytes(32).toString('base64') }] }),
    },
  });
  return { ms, host };
}

/**
 * The user's browser in the OneDrive connection (docs/flows.md#onedrive-for-business), one step at a time: the app asks
 * for the authorization URL, Microsoft (the local stand-in) consents as `upn` and redirects.
 * Returns where it redirects to, our callback with `code` and `state`, not yet loaded.
 */
export async function consentToOneDrive(host: TestHost, ms: LocalMicrosoft, token: string, upn: string) {
  ms.setDefaultAccount(upn);
  const started = await api(host, token, 'GET', '/api/onedrive/connect');
  expect(started.status, JSON.stringify(started.body)).toBe(200);
  const authorizationUrl = new URL(started.body.authorizationUrl);
  const consent = await fetch(authorizationUrl, { redirect: 'manual' });
  expect(consent.status).toBe(302);
  return { authorizationUrl, callbackUrl: new URL(consent.headers.get('location')!) };
}

/** The browser loading the callback URL: problems parsed, the HTML page as text. */
export async function loadCallback(callbackUrl: URL) {
  const response = await fetch(callbackUrl, { redirect: 'manual' });
  const text = await response.text();
  const body = response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  return { status: response.status, headers: response.headers, body };
}

/**
 * A OneDrive link item as the callback writes it, put straight into the store (no Graph needed):
 * for tests of what erasure and admin writes do with a user's link. The sealed token is a dummy.
 */
export async function writeLinkFixture(store: Store, tenantId: string, userId: string): Promise<void> {
  const time = new Date().toISOString();
  await saveLink(store, {
    tenantId,
    userId,
    status: 'connected',
    refreshToken: 'v1.k1.aaaa.bbbb.cccc',
    printFolderId: 'p',
    scanFolderId: 's',
    connectedAt: time,
    updatedAt: time,
  });
}
