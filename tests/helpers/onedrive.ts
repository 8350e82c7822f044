import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { saveLink } from '../../shared/onedrive/links.js';
import type { Services } from '../../shared/services.js';
import type { Store } from '../../shared/store/store.js';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { browserGet } from './microsoft.js';
import { api, oauthEnv } from './roger.js';
import { startTestHost, type TestHost } from './test-host.js';

/**
 * The local host with its own Entra ID and Graph stand-in (tools/local/microsoft.ts): MSAL
 * reaches it over its HTTPS listener, Graph over the plain one, on the host's clock. `env` adds
 * settings (e.g. ONEDRIVE_TOKEN_KEYS). The stand-in closes with the host.
 */
export async function startHostWithMicrosoft(env: Record<string, string> = {}) {
  const host = await startTestHost({
    env: {
      ...oauthEnv,
      ONEDRIVE_TOKEN_KEYS: JSON.stringify({ keys: [{ kid: 'test', key: randomBytes(32).toString('base64') }] }),
      ...env,
    },
  });
  return { ms: await standInOf(await host.services()), host };
}

/** The local host's Entra ID and Graph stand-in. */
export async function standInOf(services: Services): Promise<LocalMicrosoft> {
  return ((await services.onedrive()) as unknown as { microsoft: LocalMicrosoft }).microsoft;
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
  const consent = await browserGet(authorizationUrl.href);
  expect(consent.status, consent.body).toBe(302);
  return { authorizationUrl, callbackUrl: new URL(consent.location!) };
}

/** The browser loading the callback URL: problems parsed, the HTML page as text. */
export async function loadCallback(callbackUrl: URL) {
  const response = await fetch(callbackUrl, { redirect: 'manual' });
  const text = await response.text();
  const body = response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  return { status: response.status, headers: response.headers, body };
}

/**
 * A OneDrive link item as the callback wrote it before MSAL, put straight into the store (no
 * Graph needed): for tests of what erasure and admin writes do with a user's link. The sealed
 * token is a dummy.
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

/**
 * A OneDrive job as the apps make one: registered (the answer carries a Graph upload URL), `size`
 * random bytes sent straight to that URL, then made ready with the item the upload returned:
 * queued. The job id, the drive item and the name OneDrive gave the file.
 */
export async function queuedOneDriveJob(host: TestHost, token: string, fileName: string, size: number) {
  const bytes = randomBytes(size);
  const created = await api(host, token, 'POST', '/api/jobs', { fileName, size: bytes.length });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const uploaded = await fetch(created.body.upload.url, {
    method: 'PUT',
    headers: { 'content-range': `bytes 0-${bytes.length - 1}/${bytes.length}` },
    body: bytes,
  });
  expect(uploaded.status).toBe(201);
  const item = (await uploaded.json()) as { id: string; name: string };
  expect((await api(host, token, 'POST', `/api/jobs/${created.body.id}/ready`, { itemId: item.id })).body.state).toBe('queued');
  return { jobId: created.body.id as string, itemId: item.id, name: item.name };
}
