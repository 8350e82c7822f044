import { randomBytes } from 'node:crypto';
import type { ItemDefinition } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../shared/logging/logger.js';
import { userTokenCacheId, type UserTokenCacheDoc } from '../../shared/microsoft/token-cache.js';
import { containerSpecs, type ContainerName } from '../../shared/store/containers.js';
import { linkId, linkOwner, type OneDriveLinkDoc } from '../../shared/onedrive/links.js';
import { createTokenCipher } from '../../shared/onedrive/token-cipher.js';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { approvedSession, enrolledPrinter, freshTenant, uniqueName } from '../helpers/fixtures.js';
import { browserGet } from '../helpers/microsoft.js';
import { amqpCredentials, printerClient, receiveReleases } from '../helpers/printer.js';
import { consentToOneDrive, loadCallback, startHostWithMicrosoft } from '../helpers/onedrive.js';
import { api, lastCosmosRequests, type Person } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';

/**
 * docs/flows.md#onedrive-for-business end to end: the API, the real Graph client and MSAL over
 * HTTP(S) to the local Entra ID and Graph, releases through the real Service Bus SDK. Documents
 * go from the test (the client) to the upload URL and from the download URL to the test (the
 * printer); the API's own byte counter shows they never passed through it.
 */
const admin: Person = { email: 'ada@fabrikam.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-12' };
const user: Person = { email: 'uma@fabrikam.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12', pin: '4711' };

const quietLog: Logger = { info() {}, warn() {}, error() {} };
const key = (kid: string) => ({ kid, key: randomBytes(32).toString('base64') });
const oldKey = key('k2026a');
const newKey = key('k2026b');

describe('OneDrive for Business: connect, print, scan', () => {
  let ms: LocalMicrosoft;
  let host: TestHost;

  /** The user's browser: open the authorization URL, follow Entra's redirect to our callback. */
  async function connect(token: string, upn: string) {
    const { authorizationUrl, callbackUrl } = await consentToOneDrive(host, ms, token, upn);
    const callback = await fetch(callbackUrl, { redirect: 'manual' });
    return { callback, authorizationUrl, redirect: callbackUrl };
  }

  /** The client's upload: ranges of at most `chunk` bytes, no Authorization header. */
  async function upload(url: string, bytes: Buffer, chunk = 64 * 1024) {
    let last: Response | undefined;
    for (let start = 0; start < bytes.length; start += chunk) {
      const end = Math.min(start + chunk, bytes.length) - 1;
      last = await fetch(url, {
        method: 'PUT',
        headers: { 'content-range': `bytes ${start}-${end}/${bytes.length}` },
        body: bytes.subarray(start, end + 1),
      });
      expect([200, 201, 202]).toContain(last.status);
    }
    return (await last!.json()) as { id: string; name: string; size: number };
  }

  async function readItem<T extends ItemDefinition = ItemDefinition>(container: ContainerName, id: string, partitionKey: string) {
    const { store } = await host.services();
    return (await store.container(container).item(id, partitionKey).read<T>()).resource;
  }

  async function allItems(container: ContainerName) {
    const { store } = await host.services();
    return (await store.container(container).items.readAll().fetchAll()).resources;
  }

  /** A Fabrikam of the test's own with Ada alone, her Microsoft account one no other test uses. */
  async function fabrikamAdmin() {
    const tenant = await freshTenant(host, 'fabrikam', admin);
    return { tenantId: tenant.id, adminToken: tenant.admin.token, adaUpn: `${uniqueName('ada')}@fabrikam.example` };
  }

  /**
   * A Fabrikam of the test's own: Ada the admin, Uma signed in with a Microsoft account no other
   * test uses, and the printer on floor 2. `connected`: Uma has linked her OneDrive.
   */
  async function fabrikam(options: { connected?: boolean } = {}) {
    const tenant = await freshTenant(host, 'fabrikam', admin, [user]);
    const world = {
      tenantId: tenant.id,
      adminToken: tenant.admin.token,
      userToken: tenant.users[0]!.token,
      userId: tenant.users[0]!.id,
      umaUpn: `${uniqueName('uma')}@fabrikam.example`,
      printer: await enrolledPrinter(host, tenant.admin.token, 'Floor 2'),
    };
    if (options.connected) expect((await connect(world.userToken, world.umaUpn)).callback.status).toBe(200);
    return world;
  }

  /** The user's sealed MSAL cache: where OneDrive's Microsoft tokens are. */
  async function tokenCache(tenantId: string, userId: string) {
    return (await readItem<UserTokenCacheDoc>('accounts', userTokenCacheId(userId), tenantId))!;
  }

  beforeAll(async () => {
    ({ ms, host } = await startHostWithMicrosoft({ ONEDRIVE_TOKEN_KEYS: JSON.stringify({ keys: [oldKey] }) }));
  });
  afterAll(async () => {
    await host?.close();
  });

  it('connects with authorization code + PKCE, creates Print and Scan, and /api/me says so', async () => {
    const { userToken, umaUpn } = await fabrikam();
    expect((await api(host, userToken, 'GET', '/api/me')).body.onedrive).toEqual({ status: 'not-connected' });
    const { callback, authorizationUrl, redirect } = await connect(userToken, umaUpn);
    expect(Object.fromEntries(authorizationUrl.searchParams)).toMatchObject({
      client_id: 'roger-local',
      response_type: 'code',
      redirect_uri: `${host.url}/api/onedrive/callback`,
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    // MSAL adds the OpenID Connect scopes (an id_token names the account in the user's MSAL cache).
    expect(authorizationUrl.searchParams.get('scope')!.split(' ').sort()).toEqual([
      'Files.ReadWrite',
      'offline_access',
      'openid',
      'profile',
    ]);
    expect(callback.status).toBe(200);
    expect(callback.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await callback.text()).toContain('OneDrive is connected');
    // Cosmos requests: connect = the user (still there?) + the pending consent; callback = the
    // consent read, the user's MSAL cache read, the consent spent, the cache and the link written,
    // and the user read again after those writes.
    expect(lastCosmosRequests(host, '/api/onedrive/connect')).toBeLessThanOrEqual(2);
    expect(lastCosmosRequests(host, '/api/onedrive/callback')).toBeLessThanOrEqual(6);
    expect(ms.listFolder(umaUpn, '')).toEqual(expect.arrayContaining(['Print', 'Scan']));
    expect((await api(host, userToken, 'GET', '/api/me')).body.onedrive).toMatchObject({ status: 'connected' });

    // The state is single-use: the same callback again is refused, and nothing changes.
    const replay = await fetch(redirect, { redirect: 'manual' });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { detail: string }).detail).toMatch(/expired or was used/);
  });

  it('one state, two callbacks at once (the authorization URL opened twice): one connects, the other is refused', async () => {
    const { userToken, umaUpn } = await fabrikam();
    const { authorizationUrl, callbackUrl } = await consentToOneDrive(host, ms, userToken, umaUpn);
    const again = new URL((await browserGet(authorizationUrl.href)).location!);
    expect(again.searchParams.get('state')).toBe(callbackUrl.searchParams.get('state'));
    expect(again.searchParams.get('code')).not.toBe(callbackUrl.searchParams.get('code'));
    const answers = await Promise.all([callbackUrl, again].map(async (url) => (await loadCallback(url)).status));
    expect(answers.sort()).toEqual([200, 400]);
    expect(
      ms
        .listFolder(umaUpn, '')
        .filter((name) => /^(print|scan)/i.test(name))
        .sort(),
    ).toEqual(['Print', 'Scan']);
  });

  it('refuses a declined consent and an unknown state without writing a link', async () => {
    const { tenantId } = await fabrikamAdmin();
    const declined = await fetch(`${host.url}/api/onedrive/callback?state=${'a'.repeat(43)}&error=access_denied&error_description=no`);
    expect(declined.status).toBe(400);
    expect(declined.headers.get('content-type')).toBe('application/problem+json');
    expect((await fetch(`${host.url}/api/onedrive/callback?state=${'b'.repeat(43)}&code=xyz`)).status).toBe(400);
    expect((await fetch(`${host.url}/api/onedrive/callback`)).status).toBe(400);
    expect(await readItem('accounts', linkId('0'.repeat(32)), tenantId)).toBeUndefined();
  });

  it('keeps the Microsoft tokens only in the user’s MSAL cache, as AES-256-GCM ciphertext bound to the user, named by key id', async () => {
    const { tenantId, userId } = await fabrikam({ connected: true });
    const link = (await readItem<OneDriveLinkDoc>('accounts', linkId(userId), tenantId))!;
    // The link names the account, and holds no token.
    expect(link).not.toHaveProperty('refreshToken');
    expect(link.account).toEqual({
      homeAccountId: expect.stringMatching(/^[\w-]+\.[\w-]+$/),
      environment: expect.any(String),
      tenantId: expect.any(String),
    });
    const { sealed } = await tokenCache(tenantId, userId);
    expect(sealed).toMatch(/^v1\.k2026a\.[\w-]{16}\.[\w-]+\.[\w-]{22}$/);
    const cipher = createTokenCipher({ keys: [oldKey] });
    const serialized = JSON.parse(cipher.open(sealed, linkOwner(tenantId, userId))) as Record<
      string,
      Record<string, { secret: string; home_account_id: string }>
    >;
    const refreshTokens = Object.values(serialized.RefreshToken!);
    expect(refreshTokens).toHaveLength(1);
    expect(refreshTokens[0]!.home_account_id).toBe(link.account!.homeAccountId);
    const plaintext = refreshTokens[0]!.secret;
    expect(plaintext.length).toBeGreaterThan(20);
    // Not readable from the database: nowhere in any container, in any encoding we store.
    for (const name of Object.keys(containerSpecs) as ContainerName[]) {
      if (containerSpecs[name].account !== 'regional') continue;
      expect(JSON.stringify(await allItems(name))).not.toContain(plaintext);
    }
    // Only with the key, only for this user.
    expect(() => createTokenCipher({ keys: [key('k2026a')] }).open(sealed, linkOwner(tenantId, userId))).toThrow(/cannot be decrypted/);
    expect(() => cipher.open(sealed, linkOwner(tenantId, 'someone-else'))).toThrow(/cannot be decrypted/);
  });

  it('print: register → upload straight to OneDrive → ready → session release → the download URL serves exactly those bytes; the API never saw them', async () => {
    const { userToken, printer } = await fabrikam({ connected: true });
    const document = randomBytes(300 * 1024);
    const before = { ...host.traffic };
    const uploadedBefore = ms.stats.uploadedBytes;
    const downloadedBefore = ms.stats.downloadedBytes;

    const created = await api(host, userToken, 'POST', '/api/jobs', { fileName: 'Budget 2027.pdf', size: document.length });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      state: 'registered',
      document: 'onedrive',
      upload: { url: expect.stringMatching(/^http/), expiresAt: expect.any(String) },
    });
    const item = await upload(created.body.upload.url, document);
    expect(item).toMatchObject({ name: 'Budget 2027.pdf', size: document.length });

    const ready = await api(host, userToken, 'POST', `/api/jobs/${created.body.id}/ready`, { itemId: item.id });
    expect(ready.status).toBe(200);
    expect(ready.body.state).toBe('queued');
    // Cosmos requests: ready = job + link + the user's MSAL cache (read for each request that calls
    // Graph: another instance may have refreshed it) + conditional write.
    expect(lastCosmosRequests(host, '/api/jobs/{id}/ready')).toBeLessThanOrEqual(4);

    const { release } = await approvedSession(host, printer, userToken);
    expect(release).toEqual({ released: 1, queued: 0, dispatched: true });
    const credentials = await amqpCredentials(host, printer.access);
    const client = printerClient(credentials);
    try {
      const [message, ...rest] = await receiveReleases(client, credentials.entityPath, 5);
      expect(rest).toHaveLength(0);
      expect(message!.body).toMatchObject({
        jobId: created.body.id,
        fileName: 'Budget 2027.pdf',
        downloadUrl: expect.stringMatching(/^http/),
      });
      const expiresAt = Date.parse(message!.body.downloadUrlExpiresAt);
      expect(expiresAt).toBeGreaterThan(Date.now());
      // The message lives no longer than its URL (docs/flows.md#release-to-printers).
      expect(message!.timeToLive!).toBeLessThanOrEqual(expiresAt - Date.parse(message!.body.releasedAt));
      const download = await fetch(message!.body.downloadUrl);
      expect(download.status).toBe(200);
      expect(Buffer.from(await download.arrayBuffer()).equals(document)).toBe(true);
    } finally {
      await client.close();
    }

    expect(ms.stats.uploadedBytes - uploadedBefore).toBe(document.length);
    expect(ms.stats.downloadedBytes - downloadedBefore).toBe(document.length);
    // Everything the API received during this test: JSON of a few hundred bytes, never the document.
    expect(host.traffic.requestBodyBytes - before.requestBodyBytes).toBeLessThan(4096);
    expect(host.traffic.largestRequestBody).toBeLessThan(document.length);
  });

  it('ready checks the uploaded file: its size and name must match', async () => {
    const { userToken } = await fabrikam({ connected: true });
    const created = await api(host, userToken, 'POST', '/api/jobs', { fileName: 'Notes.txt', size: 10 });
    const wrong = await upload(created.body.upload.url, Buffer.from('only 9 by'));
    // Without the item id the Print folder is searched by name and size: the 9-byte Notes.txt is not it.
    expect((await api(host, userToken, 'POST', `/api/jobs/${created.body.id}/ready`)).status).toBe(404);
    const mismatch = await api(host, userToken, 'POST', `/api/jobs/${created.body.id}/ready`, { itemId: wrong.id });
    expect(mismatch.status).toBe(409);
    expect(mismatch.body.detail).toMatch(/does not match/);
    // No such file in the Print folder: 404, as printing from the folder answers (one check); 409 is for a file that is there but differs.
    expect((await api(host, userToken, 'POST', `/api/jobs/${created.body.id}/ready`, { itemId: 'LOCALNOSUCHITEM' })).status).toBe(404);
    // A second upload of the same name is renamed by OneDrive ("Notes 1.txt") and still accepted.
    const again = await api(host, userToken, 'POST', '/api/jobs', { fileName: 'Notes.txt', size: 10 });
    // Cosmos requests, warm: user + link + MSAL cache + job write (tenant cached per instance).
    expect(lastCosmosRequests(host, '/api/jobs')).toBeLessThanOrEqual(4);
    const renamed = await upload(again.body.upload.url, Buffer.from('ten bytes!'));
    expect(renamed.name).toBe('Notes 1.txt');
    expect((await api(host, userToken, 'POST', `/api/jobs/${again.body.id}/ready`, { itemId: renamed.id })).body.state).toBe('queued');
    expect((await api(host, userToken, 'GET', `/api/jobs/${created.body.id}`)).body.state).toBe('registered');
  });

  it('ready without the item id (the last range’s answer lost): the newest upload of that name and size since the job, or 404 while there is none', async () => {
    const { userToken, tenantId, userId, umaUpn } = await fabrikam({ connected: true });
    const document = randomBytes(1000);
    const earlier = ms.putFile(umaUpn, 'Print/Lost answer.pdf', document); // an earlier print of the same file, same name and size
    const created = await api(host, userToken, 'POST', '/api/jobs', { fileName: 'Lost answer.pdf', size: document.length });
    const unfinished = await api(host, userToken, 'POST', '/api/jobs', { fileName: 'Never sent.pdf', size: document.length });
    // The one range is taken in and the file created, but its answer never comes back.
    ms.loseUploadAnswerNext(1);
    await expect(upload(created.body.upload.url, document)).rejects.toThrow();
    expect((await fetch(created.body.upload.url)).status).toBe(404); // the session closed with the last byte
    const ready = await api(host, userToken, 'POST', `/api/jobs/${created.body.id}/ready`);
    expect([ready.status, ready.body.state]).toEqual([200, 'queued']);
    const job = await readItem<{ onedrive: { itemId: string } }>('jobs', created.body.id, `${tenantId}|${userId}`);
    // OneDrive renamed the new upload ("Lost answer 1.pdf"): the job names it, not the earlier file.
    expect(ms.listFolder(umaUpn, 'Print')).toEqual(expect.arrayContaining(['Lost answer.pdf', 'Lost answer 1.pdf']));
    expect(job?.onedrive.itemId).toEqual(expect.any(String));
    expect(job?.onedrive.itemId).not.toBe(earlier);
    // Nothing of that name arrived for the other job: 404, and it stays registered for the client to cancel.
    expect((await api(host, userToken, 'POST', `/api/jobs/${unfinished.body.id}/ready`)).status).toBe(404);
    expect((await api(host, userToken, 'GET', `/api/jobs/${unfinished.body.id}`)).body.state).toBe('registered');
  });

  it('from the panel: lists the Print folder (paged) and prints a file from it', async () => {
    const { userToken, printer, umaUpn } = await fabrikam({ connected: true });
    // The Print folder as the uploads of a few earlier jobs left it.
    for (const name of ['Budget 2027.pdf', 'Notes.txt', 'Notes 1.txt']) ms.putFile(umaUpn, `Print/${name}`, randomBytes(16));
    const menu = randomBytes(2048);
    ms.putFile(umaUpn, 'Print/Menu.pdf', menu);
    const { token: sessionToken } = await approvedSession(host, printer, userToken);
    const credentials = await amqpCredentials(host, printer.access);
    const client = printerClient(credentials);
    try {
      const names: string[] = [];
      let continuationToken: string | null = null;
      do {
        const page: { status: number; body: { items: { id: string; name: string }[]; continuationToken: string | null } } = await api(
          host,
          sessionToken,
          'GET',
          `/api/onedrive/print?limit=1${continuationToken ? `&continuationToken=${encodeURIComponent(continuationToken)}` : ''}`,
        );
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(1);
        names.push(...page.body.items.map((i) => i.name));
        continuationToken = page.body.continuationToken;
      } while (continuationToken);
      expect(names).toEqual(expect.arrayContaining(['Budget 2027.pdf', 'Menu.pdf', 'Notes.txt', 'Notes 1.txt']));

      const menuItem = (await api(host, sessionToken, 'GET', '/api/onedrive/print?limit=100')).body.items.find(
        (i: { name: string }) => i.name === 'Menu.pdf',
      );
      const printed = await api(host, sessionToken, 'POST', '/api/onedrive/print', { itemId: menuItem.id, options: { copies: 3 } });
      expect(printed.status).toBe(201);
      expect(printed.body).toMatchObject({ fileName: 'Menu.pdf', size: 2048, state: 'released', options: { copies: 3 } });
      const [message] = await receiveReleases(client, credentials.entityPath, 1);
      expect(Buffer.from(await (await fetch(message!.body.downloadUrl)).arrayBuffer()).equals(menu)).toBe(true);

      expect((await api(host, sessionToken, 'POST', '/api/onedrive/print', { itemId: 'LOCALNOSUCHITEM' })).status).toBe(404);
      // The user's own token is not a panel session.
      expect((await api(host, userToken, 'GET', '/api/onedrive/print')).status).toBe(403);
    } finally {
      await client.close();
    }
  });

  it('scan: only profiles the user may use; the upload goes to Scan; only {timestamp, tenant} is stored', async () => {
    const { tenantId, userId, adminToken, userToken, printer, umaUpn } = await fabrikam({ connected: true });
    const everyone = await api(host, adminToken, 'POST', '/api/scan-profiles', {
      name: 'Colour PDF',
      format: 'pdf',
      resolution: 300,
      color: 'color',
      duplex: true,
      roles: ['user', 'admin'],
      userIds: [],
    });
    expect(everyone.status).toBe(201);
    const adminsOnly = await api(host, adminToken, 'POST', '/api/scan-profiles', {
      name: 'Archive TIFF',
      format: 'tiff',
      resolution: 600,
      color: 'grayscale',
      duplex: false,
      roles: ['admin'],
      userIds: [],
    });
    expect((await api(host, userToken, 'POST', '/api/scan-profiles', { name: 'x' })).status).toBe(403);

    const { token: sessionToken } = await approvedSession(host, printer, userToken);
    const offered = await api(host, sessionToken, 'GET', '/api/scan-profiles');
    expect(offered.body.items.map((p: { name: string }) => p.name)).toEqual(['Colour PDF']);
    expect(offered.body.items[0]).not.toHaveProperty('roles');
    expect((await api(host, adminToken, 'GET', '/api/scan-profiles')).body.items).toHaveLength(2);
    expect((await api(host, sessionToken, 'POST', '/api/scans', { profileId: adminsOnly.body.id, fileName: 'x' })).status).toBe(404);

    const earlier = new Set((await allItems('scans')).map((record) => record.id));
    const scansBefore = earlier.size;
    const started = await api(host, sessionToken, 'POST', '/api/scans', { profileId: everyone.body.id, fileName: 'Invoice: March?' });
    expect(started.status).toBe(200);
    // Warm (the SDK reads a container's metadata before its first write in a process): user + profile + link + MSAL cache + the record.
    expect((await api(host, sessionToken, 'POST', '/api/scans', { profileId: everyone.body.id, fileName: 'Second' })).status).toBe(200);
    expect(lastCosmosRequests(host, '/api/scans')).toBeLessThanOrEqual(5);
    expect(started.body).toMatchObject({
      fileName: 'Invoice_ March_.pdf',
      profile: { format: 'pdf', resolution: 300, color: 'color', duplex: true },
    });
    const scanned = randomBytes(5000);
    await upload(started.body.uploadUrl, scanned, 2000);
    expect(ms.fileBytes(umaUpn, 'Scan/Invoice_ March_.pdf')?.equals(scanned)).toBe(true);

    const scans = await allItems('scans');
    expect(scans).toHaveLength(scansBefore + 2);
    for (const record of scans) {
      expect(
        Object.keys(record)
          .filter((k) => !k.startsWith('_'))
          .sort(),
      ).toEqual(['id', 'scannedAt', 'tenantId', 'ttl']);
      if (!earlier.has(record.id)) expect(record.tenantId).toBe(tenantId); // earlier records are other tests' scans
      const stored = JSON.stringify(record);
      for (const personal of [userId, user.email, user.username, 'Invoice', 'Second', everyone.body.id])
        expect(stored).not.toContain(personal);
    }
  });

  it('Graph throttling: a short Retry-After is waited out; a long one becomes 503 with Retry-After at once', async () => {
    const { userToken, printer } = await fabrikam({ connected: true });
    const { token: sessionToken } = await approvedSession(host, printer, userToken);
    const throttledBefore = ms.stats.throttled;
    ms.throttleNext(1, 1);
    const waited = await api(host, sessionToken, 'GET', '/api/onedrive/print');
    expect(waited.status).toBe(200);
    expect(ms.stats.throttled - throttledBefore).toBe(1);

    ms.throttleNext(1, 120, 503);
    const startedAt = Date.now();
    const busy = await api(host, sessionToken, 'GET', '/api/onedrive/print');
    expect(Date.now() - startedAt).toBeLessThan(3000);
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('120');
    expect(busy.body.type).toBe('tag:roger.cloud,2026:problems/service-unavailable');

    ms.throttleNext(3, 1);
    const gaveUp = await api(host, sessionToken, 'GET', '/api/onedrive/print');
    expect(gaveUp.status).toBe(503);
    expect(ms.stats.throttled - throttledBefore).toBe(5);
  });

  it('rotating the token key keeps existing links working and re-seals the MSAL cache with the new key', async () => {
    const { tenantId, userId, umaUpn } = await fabrikam({ connected: true });
    ms.putFile(umaUpn, 'Print/Menu.pdf', randomBytes(64));
    expect(createTokenCipher({ keys: [oldKey] }).kidOf((await tokenCache(tenantId, userId)).sealed)).toBe('k2026a');
    // An instance configured with [new, old]: the same services, MSAL sealing with the new key.
    const services = await host.services();
    const signIn = await services.microsoft();
    const rotated = createTokenCipher({ keys: [newKey, oldKey] });
    const onRotatedInstance = { ...services, microsoft: async () => ({ ...signIn, cipher: rotated }) };
    // The access token in the cache has expired for Graph: MSAL refreshes, and the cache is written again.
    host.advanceClock(3700);
    const link = (await readItem<OneDriveLinkDoc>('accounts', linkId(userId), tenantId))!;
    const drive = await (await services.onedrive()).driveOf(onRotatedInstance, link, quietLog);
    expect((await drive.children(link.printFolderId, { limit: 10 })).items.length).toBeGreaterThan(0);
    const resealed = (await tokenCache(tenantId, userId)).sealed;
    expect(rotated.kidOf(resealed)).toBe('k2026b');
    // The instance still on the old key alone can no longer read it; the old key may be retired once all are re-sealed.
    expect(() => createTokenCipher({ keys: [oldKey] }).open(resealed, linkOwner(tenantId, userId))).toThrow();
  });

  it('consent withdrawn in Entra: a clear 409 telling the user to reconnect; reconnecting works again', async () => {
    const { tenantId, adminToken, adaUpn } = await fabrikamAdmin();
    // Ada connects too, then withdraws consent in her Microsoft account.
    expect((await connect(adminToken, adaUpn)).callback.status).toBe(200);
    expect((await api(host, adminToken, 'POST', '/api/jobs', { fileName: 'a.pdf', size: 5 })).status).toBe(201);
    ms.revokeConsent(adaUpn);

    const refused = await api(host, adminToken, 'POST', '/api/jobs', { fileName: 'b.pdf', size: 5 });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      type: 'tag:roger.cloud,2026:problems/onedrive-reconnect-required',
      detail: expect.stringMatching(/connect OneDrive again/),
      connect: '/api/onedrive/connect',
    });
    expect((await api(host, adminToken, 'GET', '/api/me')).body.onedrive.status).toBe('reconnect-required');
    // The link no longer names the refused account.
    const adminId = (await api(host, adminToken, 'GET', '/api/me')).body.user.id;
    expect((await readItem<OneDriveLinkDoc>('accounts', linkId(adminId), tenantId))!.account).toBeUndefined();

    ms.restoreConsent(adaUpn);
    expect((await connect(adminToken, adaUpn)).callback.status).toBe(200);
    expect((await api(host, adminToken, 'POST', '/api/jobs', { fileName: 'c.pdf', size: 5 })).status).toBe(201);
  });

  it('disconnect forgets the link and its Microsoft tokens (idempotent); jobs are then metadata only', async () => {
    const { tenantId, adminToken, adaUpn } = await fabrikamAdmin();
    expect((await connect(adminToken, adaUpn)).callback.status).toBe(200);
    expect((await api(host, adminToken, 'DELETE', '/api/onedrive')).status).toBe(204);
    expect((await api(host, adminToken, 'DELETE', '/api/onedrive')).status).toBe(204);
    expect((await api(host, adminToken, 'GET', '/api/me')).body.onedrive).toEqual({ status: 'not-connected' });
    const job = await api(host, adminToken, 'POST', '/api/jobs', { fileName: 'd.pdf', size: 5 });
    expect(job.body).toMatchObject({ document: 'none' });
    expect(job.body).not.toHaveProperty('upload');
    const adminId = (await api(host, adminToken, 'GET', '/api/me')).body.user.id;
    expect(await readItem('accounts', linkId(adminId), tenantId)).toBeUndefined();
    // Ada signs in with a password: the Microsoft account was only OneDrive's, and its tokens are gone too.
    const cache = JSON.parse(
      createTokenCipher({ keys: [oldKey] }).open((await tokenCache(tenantId, adminId)).sealed, linkOwner(tenantId, adminId)),
    );
    expect(cache).toMatchObject({ Account: {}, RefreshToken: {}, AccessToken: {}, IdToken: {} });
  });

  it('logs carry no tokens, codes, file names or emails', async () => {
    // Traffic of its own that carries each of them: a consent (code, state), an upload, a print from the panel, a scan.
    const { adminToken, userToken, printer, umaUpn } = await fabrikam({ connected: true });
    const created = await api(host, userToken, 'POST', '/api/jobs', { fileName: 'Budget 2027.pdf', size: 10 });
    const item = await upload(created.body.upload.url, randomBytes(10));
    expect((await api(host, userToken, 'POST', `/api/jobs/${created.body.id}/ready`, { itemId: item.id })).status).toBe(200);
    ms.putFile(umaUpn, 'Print/Menu.pdf', randomBytes(64));
    const { token: sessionToken } = await approvedSession(host, printer, userToken);
    const menu = (await api(host, sessionToken, 'GET', '/api/onedrive/print')).body.items.find(
      (i: { name: string }) => i.name === 'Menu.pdf',
    );
    expect((await api(host, sessionToken, 'POST', '/api/onedrive/print', { itemId: menu.id })).status).toBe(201);
    const profile = { name: 'Colour PDF', format: 'pdf', resolution: 300, color: 'color', duplex: true, roles: ['user'], userIds: [] };
    const profileId = (await api(host, adminToken, 'POST', '/api/scan-profiles', profile)).body.id;
    expect((await api(host, sessionToken, 'POST', '/api/scans', { profileId, fileName: 'Invoice: March?' })).status).toBe(200);
    const text = host.logs.join('\n');
    for (const secret of ['Budget 2027', 'Invoice', 'Menu.pdf', user.email, admin.email, 'test-client-secret-0123'])
      expect(text).not.toContain(secret);
    expect(text).not.toMatch(/code=|state=|refresh_token/);
  });
});
