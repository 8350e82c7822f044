import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricNames } from '../../shared/telemetry/metric-names.js';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { approvedSession, enrolledPrinter, freshTenant, individual, uniqueName } from '../helpers/fixtures.js';
import { consentToOneDrive, loadCallback, standInOf } from '../helpers/onedrive.js';
import { amqpCredentials, printerClient, receiveReleases } from '../helpers/printer.js';
import { api, oauthEnv, tokenRequest, type Person } from '../helpers/roger.js';
import { counted, recordTelemetry, type ExportedTelemetry } from '../helpers/telemetry.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * docs/security.md#logs-errors-and-telemetry: nothing personal or secret reaches telemetry. The
 * real local host runs with its telemetry wired to in-memory exporters (the same OpenTelemetry
 * API and SDK the Azure Monitor distro uses); the security and end-to-end flows run against it;
 * then everything the exporters received — span names, attributes, events, log bodies and
 * attributes, metric names and data points, resources — is searched for every email, name,
 * username, PIN, password, token, code, file name and address the flows used, and for anything
 * shaped like a JWT or a long base64 secret. The metrics an operator's alerts query must be there.
 */
const admin = individual({ email: 'ada.admin@fabrikam.test', username: 'ada', fullName: 'Ada Lovelace', password: 'ada-Password-12' });
const uma = individual({
  email: 'uma.user@fabrikam.test',
  username: 'uma',
  fullName: 'Uma Thurman',
  password: 'uma-Password-12',
  pin: '47118253',
});
const victor = individual({
  email: 'victor.victim@fabrikam.test',
  username: 'victor',
  fullName: 'Victor Hugo',
  password: 'victor-Password-12',
  pin: '90357716',
});
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const FILE_NAME = 'Salary Review Uma Thurman.pdf';
const WRONG = ['wrong-Password-77', 'wrong-Password-78', 'wrong-Password-79', 'wrong-Password-80'];
const WRONG_PINS = ['13572468', '24683579', '35794680', '46805791', '57916802', '68027913'];

describe('telemetry: what an operator sees, and nothing personal', () => {
  let ms: LocalMicrosoft;
  let host: TestHost;
  let recorder: ReturnType<typeof recordTelemetry>;
  /** Every value the flows sent or received that must never reach telemetry. */
  const needles = new Set<string>();
  let exported: ExportedTelemetry;
  let dump: string;

  const keep = (...values: (string | undefined)[]) => values.forEach((value) => value && needles.add(value));

  beforeAll(async () => {
    recorder = recordTelemetry();
    // The host's own Entra ID and Graph stand-in (MSAL over its HTTPS listener), with an app registration made up for the run.
    host = await startTestHost({
      env: {
        ...oauthEnv,
        ONEDRIVE_TOKEN_KEYS: JSON.stringify({ keys: [{ kid: 'tel', key: randomBytes(32).toString('base64') }] }),
      },
      telemetry: recorder.telemetry,
    });
    ms = await standInOf(await host.services());
    keep(FILE_NAME, 'Salary Review', ...WRONG, ...WRONG_PINS, '127.0.0.1', '::1');
    for (const person of [admin, uma, victor]) keep(person.email, person.username, person.fullName, person.password, person.pin);
    keep('Lovelace', 'Thurman', 'Victor Hugo', 'fabrikam.test');

    // Admin user creation (tenant onboarding, then POST /api/users), password sign-ins from the app.
    const tenant = await freshTenant(host, 'fabrikam', admin, [uma, victor], {
      lockoutThreshold: 3,
      lockoutSeconds: 60,
      printerFailedSignInLimit: 5,
      loginHistoryKeepsIp: true,
    });
    keep(tenant.slug, tenant.admin.token, tenant.admin.refresh);
    for (const member of tenant.users) keep(member.token, member.refresh);
    const [umaMember] = tenant.users;

    // Device-code flow: a printer enrolled by the admin (device_code grant).
    const printer = await enrolledPrinter(host, tenant.admin.token, 'Floor 2 Uma corner');
    keep(printer.access, printer.refresh, 'Floor 2 Uma corner');

    // Password grant failures, then the lock, then a sign-in while locked.
    const password = (person: Person, secret: string) =>
      tokenRequest(host, {
        grant_type: 'password',
        client_id: 'roger-mobile',
        tenant: tenant.slug,
        username: person.username,
        password: secret,
        scope: 'jobs offline_access',
      });
    for (const secret of WRONG.slice(0, 3)) expect((await password(victor, secret)).status).toBe(400);
    expect((await password(victor, victor.password)).body.error).toBe('invalid_grant'); // locked
    // The admin sets new credentials (clearing the lock) and renames him.
    const victorId = tenant.users[1]!.id;
    const fresh = { pin: '73918264', password: 'victor-New-Password-34', fullName: 'Victor Marie Hugo' };
    keep(fresh.pin, fresh.password, fresh.fullName);
    expect(
      (await api(host, tenant.admin.token, 'PUT', `/api/users/${victorId}/credentials`, { pin: fresh.pin, password: fresh.password }))
        .status,
    ).toBe(204);
    expect((await api(host, tenant.admin.token, 'PATCH', `/api/users/${victorId}`, { fullName: fresh.fullName })).status).toBe(200);

    // PIN grant at the printer: right, wrong, then the printer's failure limit (unknown names, so no account locks).
    const pin = (username: string, secret: string) =>
      tokenRequest(
        host,
        { grant_type: 'password', client_id: 'roger-emb', username, password: secret, scope: 'jobs:submit' },
        printer.access,
      );
    const pinSession = await pin(uma.username, uma.pin!);
    expect(pinSession.status).toBe(200);
    keep(pinSession.body.access_token);
    expect((await pin(uma.username, WRONG_PINS[0]!)).status).toBe(400);
    const strangers = [0, 1, 2, 3].map(() => uniqueName('mallory'));
    keep(...strangers);
    for (const [i, stranger] of strangers.entries()) expect((await pin(stranger, WRONG_PINS[i + 1]!)).status).toBe(400);
    const refused = await pin(uma.username, uma.pin!);
    expect(refused.status).toBe(429);

    // Refresh: a rotation, then the old token again (reuse: the family is revoked).
    const rotated = await tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-mobile', refresh_token: umaMember!.refresh });
    expect(rotated.status).toBe(200);
    keep(rotated.body.access_token, rotated.body.refresh_token);
    const reused = await tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-mobile', refresh_token: umaMember!.refresh });
    expect(reused.body.error).toBe('invalid_grant');
    const signedIn = await password(uma, uma.password);
    expect(signedIn.status).toBe(200);
    const umaToken = signedIn.body.access_token as string;
    keep(umaToken, signedIn.body.refresh_token);

    // Desktop sign-in with the device flow, approved in the app; and one denied.
    const desktop = async (answer: 'approve' | 'deny') => {
      const started = await fetch(`${host.url}/oauth/device_authorization`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ client_id: 'roger-desktop', scope: 'jobs offline_access' }).toString(),
      });
      const authorization = (await started.json()) as { device_code: string; user_code: string };
      keep(authorization.device_code, authorization.user_code, authorization.user_code.replace('-', ''));
      const answered = await api(host, umaToken, 'POST', `/api/device-codes/${answer}`, { user_code: authorization.user_code });
      expect(answered.status).toBe(answer === 'approve' ? 200 : 204);
      return tokenRequest(host, { grant_type: DEVICE_CODE_GRANT, client_id: 'roger-desktop', device_code: authorization.device_code });
    };
    const desktopTokens = await desktop('approve');
    expect(desktopTokens.status).toBe(200);
    keep(desktopTokens.body.access_token, desktopTokens.body.refresh_token);
    expect((await desktop('deny')).body.error).toBe('access_denied');

    // OneDrive link: consent as Uma's Microsoft account, the callback stores the link.
    const upn = `${uniqueName('uma.thurman')}@fabrikam.example`;
    keep(upn);
    const { authorizationUrl, callbackUrl } = await consentToOneDrive(host, ms, umaToken, upn);
    keep(callbackUrl.searchParams.get('code') ?? undefined, callbackUrl.searchParams.get('state') ?? undefined);
    keep(authorizationUrl.searchParams.get('code_challenge') ?? undefined);
    expect((await loadCallback(callbackUrl)).status).toBe(200);

    // A job: registered, uploaded straight to OneDrive, ready, then released by a QR session.
    const created = await api(host, umaToken, 'POST', '/api/jobs', { fileName: FILE_NAME, size: 12 });
    expect(created.status).toBe(201);
    keep(created.body.upload.url);
    const uploaded = await fetch(created.body.upload.url, {
      method: 'PUT',
      headers: { 'content-range': 'bytes 0-11/12' },
      body: 'twelve bytes',
    });
    const item = (await uploaded.json()) as { id: string };
    expect((await api(host, umaToken, 'POST', `/api/jobs/${created.body.id}/ready`, { itemId: item.id })).status).toBe(200);
    const session = await approvedSession(host, printer, umaToken);
    expect(session.release).toEqual({ released: 1, queued: 0, dispatched: true });
    keep(session.token, session.userCode, session.userCode.replace('-', ''));
    const credentials = await amqpCredentials(host, printer.access);
    keep(credentials.sasToken);
    const client = printerClient(credentials);
    try {
      const [message] = await receiveReleases(client, credentials.entityPath, 1);
      keep(message?.body.downloadUrl);
    } finally {
      await client.close();
    }

    exported = await recorder.exported();
    dump = JSON.stringify(exported);
  });

  afterAll(async () => {
    await host?.close();
    await recorder?.shutdown();
  });

  it('exports the metrics the alerts query, with the attributes they filter on', () => {
    const names = exported.metrics.map((m) => m.name);
    for (const name of [
      metricNames.signIns,
      metricNames.lockouts,
      metricNames.refreshReuse,
      metricNames.releases,
      metricNames.messagesSent,
      metricNames.refusals,
    ]) {
      expect(names, name).toContain(name);
    }
    const signIns = (attributes: Record<string, string>) => counted(exported, metricNames.signIns, attributes);
    expect(signIns({ method: 'password', outcome: 'success' })).toBeGreaterThanOrEqual(4); // the tenant's sign-ins and Uma's
    expect(signIns({ method: 'password', outcome: 'failure' })).toBe(3);
    expect(signIns({ method: 'password', outcome: 'locked' })).toBe(1);
    expect(signIns({ method: 'pin', outcome: 'success' })).toBe(1);
    expect(signIns({ method: 'pin', outcome: 'failure' })).toBe(5);
    expect(signIns({ method: 'pin', outcome: 'rate_limited' })).toBe(1);
    expect(signIns({ method: 'device_code', outcome: 'success' })).toBe(3); // enrollment, the desktop, the session
    expect(signIns({ method: 'device_code', outcome: 'failure' })).toBe(1); // the desktop sign-in denied
    expect(signIns({ method: 'qr', outcome: 'success' })).toBe(1);
    expect(signIns({ method: 'refresh', outcome: 'success' })).toBe(1);
    expect(signIns({ method: 'refresh', outcome: 'failure' })).toBe(1);
    expect(counted(exported, metricNames.lockouts, { scope: 'user' })).toBe(1);
    expect(counted(exported, metricNames.lockouts, { scope: 'printer' })).toBe(1);
    expect(counted(exported, metricNames.refreshReuse)).toBe(1);
    expect(counted(exported, metricNames.releases)).toBeGreaterThanOrEqual(1);
    expect(counted(exported, metricNames.messagesSent)).toBe(1);
    expect(counted(exported, metricNames.refusals, { status: 429 })).toBe(1);
  });

  it('exports dependency spans for Cosmos DB, Service Bus, Graph and Entra ID, named by operation and target only', () => {
    const names = new Set(exported.spans.map((s) => s.name));
    for (const name of [
      'cosmosdb read accounts',
      'cosmosdb replace accounts',
      'cosmosdb query jobs',
      // A fresh region's first printer is given the first release topic (docs/flows.md#release-topics).
      'servicebus send releases-00',
      'servicebus createSubscription releases-00',
      'graph ensureFolder drive',
      'graph createUploadSession drive',
      'entra token authorization_code',
    ])
      expect([...names], name).toContain(name);
    const read = exported.spans.find((s) => s.name === 'cosmosdb read accounts')!;
    expect(read.attributes).toMatchObject({
      'db.system.name': 'azure.cosmosdb',
      'db.operation.name': 'read',
      'db.collection.name': 'accounts',
      'db.response.status_code': expect.any(Number),
      'azure.cosmosdb.operation.request_charge': expect.any(Number),
    });
    expect(exported.spans.find((s) => s.name === 'servicebus send releases-00')!.attributes).toMatchObject({
      'messaging.system': 'servicebus',
      'messaging.batch.message_count': 1,
    });
  });

  it('log events carry their fields as attributes', () => {
    const requests = exported.logs.filter((r) => (r.attributes as Record<string, unknown>)['roger.event'] === 'request');
    expect(requests.length).toBeGreaterThan(20);
    expect(requests[0]!.attributes).toMatchObject({ method: expect.any(String), route: expect.any(String), status: expect.any(Number) });
    expect(exported.logs.some((r) => (r.attributes as Record<string, unknown>)['roger.event'] === 'refresh-token-reuse')).toBe(true);
  });

  it('carries no email, name, username, PIN, password, token, code, file name or address the flows used', () => {
    expect(needles.size).toBeGreaterThan(40);
    const found = [...needles].filter((needle) => dump.toLowerCase().includes(needle.toLowerCase()));
    expect(found).toEqual([]);
  });

  it('carries nothing shaped like a JWT or a long base64 secret', () => {
    expect(dump).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/);
    // 32 hex digits are the app's own random ids; secrets and hashes are base64url of 32 bytes or more.
    const long = dump.match(/[A-Za-z0-9+/_-]{40,}/g) ?? [];
    expect(long).toEqual([]);
  });
});
