import * as oauth from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { releaseTopicName, type Messaging } from '../../shared/messaging/messaging.js';
import { mintSasToken } from '../../shared/messaging/sas.js';
import { releaseJobs } from '../../shared/release/release.js';
import type { LocalServiceBus } from '../../tools/service-bus/broker.js';
import { approvedSession, enrolledPrinter, freshTenant } from '../helpers/fixtures.js';
import { amqpCredentials, printerClient, receiveReleases, type EnrolledPrinter } from '../helpers/printer.js';
import { api, mobileSignIn, oauthClient, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * docs/flows.md#release-to-printers end to end: the API over HTTP, Cosmos through the SDK, and the
 * release messages through the real @azure/service-bus SDK over TCP to the local broker.
 */
const admin: Person = { email: 'ops@tailspin.test', username: 'ops', fullName: 'Olga Ops', password: 'ops-password-12' };
const FIRST_TOPIC = releaseTopicName(0);
const user: Person = { email: 'uma@tailspin.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12', pin: '5150' };

describe('print jobs and release to printers', () => {
  let host: TestHost;
  let broker: LocalServiceBus;

  /** The printers named ('a' is "Printer A"), enrolled by the admin. */
  async function printersOf<Name extends string>(adminToken: string, names: Name[]) {
    const enrolled = await Promise.all(names.map((name) => enrolledPrinter(host, adminToken, `Printer ${name.toUpperCase()}`)));
    return Object.fromEntries(names.map((name, i) => [name, enrolled[i]!])) as Record<Name, EnrolledPrinter>;
  }

  /** A Tailspin of the test's own: Olga the admin signed in, and the printers named. */
  async function tailspinPrinters<Name extends string>(...names: Name[]) {
    const tenant = await freshTenant(host, 'tailspin', admin);
    return { adminToken: tenant.admin.token, printers: await printersOf(tenant.admin.token, names) };
  }

  /** The same with Uma signed in too and no jobs yet: a session then releases exactly what the test queued. */
  async function tailspin<Name extends string>(...names: Name[]) {
    const tenant = await freshTenant(host, 'tailspin', admin, [user]);
    return {
      slug: tenant.slug,
      adminToken: tenant.admin.token,
      userToken: tenant.users[0]!.token,
      printers: await printersOf(tenant.admin.token, names),
    };
  }

  async function submit(userToken: string, fileName: string) {
    const created = await api(host, userToken, 'POST', '/api/jobs', { fileName, size: 12345, options: { copies: 2, color: true } });
    expect(created.status).toBe(201);
    expect((await api(host, userToken, 'POST', `/api/jobs/${created.body.id}/ready`)).body.state).toBe('queued');
    return created.body.id as string;
  }

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
    broker = ((await (await host.services()).messaging()) as Messaging & { broker: LocalServiceBus }).broker;
  });
  afterAll(() => host.close());

  it('enrollment creates the printer’s own subscription', async () => {
    const { printers } = await tailspinPrinters('a', 'b');
    // A region's first printers (fewer than RELEASE_TOPIC_CAPACITY) all go on its first release topic.
    expect(broker.hasSubscription(FIRST_TOPIC, printers.a.deviceId)).toBe(true);
    expect(broker.hasSubscription(FIRST_TOPIC, printers.b.deviceId)).toBe(true);
  });

  it('3 jobs → session approved → the printer, with only its SAS token, receives exactly 3 releases → printed', async () => {
    const { userToken, printers } = await tailspin('a');
    const jobIds = [
      await submit(userToken, 'Quarterly report.pdf'),
      await submit(userToken, 'Slides.pptx'),
      await submit(userToken, 'Invoice 42.pdf'),
    ];
    const { release, token: sessionToken, userCode } = await approvedSession(host, printers.a, userToken);
    expect(release).toEqual({ released: 3, queued: 0, dispatched: true });
    // Approving the same code again releases nothing more: the code is answered.
    expect((await api(host, userToken, 'POST', '/api/device-codes/approve', { user_code: userCode })).status).toBe(404);

    const credentials = await amqpCredentials(host, printers.a.access);
    expect(credentials.entityPath).toBe(`${FIRST_TOPIC}/subscriptions/${printers.a.deviceId}`);
    const client = printerClient(credentials);
    try {
      const messages = await receiveReleases(client, credentials.entityPath, 10);
      expect(messages).toHaveLength(3);
      expect(broker.countMessages(FIRST_TOPIC, printers.a.deviceId)).toEqual({ active: 0, deadLetter: 0 });
      expect(messages.map((m) => m.body.jobId).sort()).toEqual([...jobIds].sort());
      for (const message of messages) {
        expect(message.applicationProperties).toEqual({ printerId: printers.a.deviceId });
        expect(message.messageId).toBe(`${message.body.jobId}:${message.correlationId}`);
        expect(message.body).toMatchObject({ type: 'release', options: { copies: 2, color: true }, user: { username: 'uma' } });
        expect(Object.keys(message.body).sort()).toEqual([
          'downloadUrl',
          'downloadUrlExpiresAt',
          'fileName',
          'jobId',
          'options',
          'releasedAt',
          'type',
          'user',
        ]);
      }
    } finally {
      await client.close();
    }

    for (const id of jobIds) {
      expect((await api(host, userToken, 'GET', `/api/jobs/${id}`)).body).toMatchObject({
        state: 'released',
        releasedTo: printers.a.deviceId,
      });
      const printed = await api(host, sessionToken, 'POST', `/api/jobs/${id}/printed`);
      expect(printed.status).toBe(200);
      expect(printed.body.state).toBe('printed');
    }
    const list = await api(host, userToken, 'GET', '/api/jobs?state=printed&limit=2');
    expect(list.body.items).toHaveLength(2);
    expect(list.body.continuationToken).toEqual(expect.any(String));
  });

  it("printer A's SAS token cannot receive from printer B's subscription; expired and forged tokens are refused", async () => {
    const { printers } = await tailspinPrinters('a', 'b');
    const credentials = await amqpCredentials(host, printers.a.access);
    const attempts = {
      sibling: { token: credentials.sasToken, path: `${FIRST_TOPIC}/subscriptions/${printers.b.deviceId}` },
      expired: {
        token: mintSasToken(
          `sb://${new URL(credentials.amqpUrl).host}/${credentials.entityPath}`,
          'printer-listen',
          'not-the-key-but-long-enough',
          new Date(Date.now() - 60_000),
        ),
        path: credentials.entityPath,
      },
      forged: {
        token: credentials.sasToken.replace(/sig=[^&]+/, `sig=${encodeURIComponent(Buffer.alloc(32).toString('base64'))}`),
        path: credentials.entityPath,
      },
    };
    for (const [name, attempt] of Object.entries(attempts)) {
      const client = printerClient({ amqpUrl: credentials.amqpUrl, sasToken: attempt.token });
      try {
        const error = await receiveReleases(client, attempt.path, 1, 500).then(
          () => undefined,
          (e: unknown) => e as { code?: string; name?: string },
        );
        expect(error, name).toBeDefined();
        expect(`${error?.code} ${error?.name}`, name).toMatch(/Unauthorized/i);
      } finally {
        await client.close();
      }
    }
  });

  it('a retried dispatch never delivers a job twice (duplicate detection on jobId:sessionId)', async () => {
    const { userToken, printers } = await tailspin('b');
    const jobId = await submit(userToken, 'Once only.pdf');
    const services = await host.services();
    const { readJob } = await import('../../shared/jobs/jobs.js');
    const me = await api(host, userToken, 'GET', '/api/me');
    const job = (await readJob(services.store, me.body.tenant.id, me.body.user.id, jobId, services.now()))!;
    const target = { tenantId: me.body.tenant.id, userId: me.body.user.id, deviceId: printers.b.deviceId, sessionId: 'retry-session' };
    const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
    await releaseJobs(services, target, [job], log); // first dispatch
    await releaseJobs(services, target, [job], log); // the same dispatch retried (e.g. after a timeout)

    const credentials = await amqpCredentials(host, printers.b.access);
    const client = printerClient(credentials);
    try {
      expect(await receiveReleases(client, credentials.entityPath, 5)).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it('broker down during approval → jobs stay queued and the response says so; a later release delivers them', async () => {
    const { userToken, printers } = await tailspin('a');
    const jobIds = [await submit(userToken, 'Outage 1.pdf'), await submit(userToken, 'Outage 2.pdf')];
    await broker.pause();
    let sessionToken: string;
    try {
      const approval = await approvedSession(host, printers.a, userToken);
      expect(approval.release).toEqual({ released: 0, queued: 2, dispatched: false });
      sessionToken = approval.token;
      for (const id of jobIds) expect((await api(host, userToken, 'GET', `/api/jobs/${id}`)).body.state).toBe('queued');
      const retry = await api(host, sessionToken, 'POST', `/api/jobs/${jobIds[0]}/release`);
      expect(retry.status).toBe(503);
      expect(retry.body).toMatchObject({ state: 'queued' });
    } finally {
      await broker.resume();
    }
    for (const id of jobIds) expect((await api(host, sessionToken!, 'POST', `/api/jobs/${id}/release`)).body.state).toBe('released');
    const credentials = await amqpCredentials(host, printers.a.access);
    const client = printerClient(credentials);
    try {
      const messages = await receiveReleases(client, credentials.entityPath, 5);
      expect(messages.map((m) => m.body.jobId).sort()).toEqual([...jobIds].sort());
    } finally {
      await client.close();
    }
  });

  it('enforces the job state machine with 409s and hides other people’s jobs', async () => {
    const { adminToken, userToken } = await tailspin();
    const id = await submit(userToken, 'States.pdf');
    expect((await api(host, userToken, 'POST', `/api/jobs/${id}/ready`)).status).toBe(409);
    expect((await api(host, adminToken, 'GET', `/api/jobs/${id}`)).status).toBe(404); // the admin's own jobs only
    expect((await api(host, userToken, 'DELETE', `/api/jobs/${id}`)).status).toBe(204);
    expect((await api(host, userToken, 'DELETE', `/api/jobs/${id}`)).status).toBe(409);
    const bad = await api(host, userToken, 'POST', '/api/jobs', { fileName: '../etc/passwd', size: 1 });
    expect(bad.status).toBe(400);
    expect((await api(host, userToken, 'POST', '/api/jobs', { fileName: 'a.pdf', size: 1, options: { copies: 1000 } })).status).toBe(400);
  });

  it('expired jobs are never returned (expiry checked in code, whatever the TTL does)', async () => {
    const { slug, userToken } = await tailspin();
    const id = await submit(userToken, 'Old.pdf');
    host.advanceClock(8 * 86400);
    try {
      expect((await api(host, userToken, 'GET', `/api/jobs/${id}`)).status).toBe(401); // the token expired too
      const fresh = (await mobileSignIn(host, slug, user)).access_token;
      expect((await api(host, fresh, 'GET', `/api/jobs/${id}`)).status).toBe(404);
      const ids = (await api(host, fresh, 'GET', '/api/jobs?limit=100')).body.items.map((j: { id: string }) => j.id);
      expect(ids).not.toContain(id);
    } finally {
      host.advanceClock(-8 * 86400);
    }
  });

  it('disconnecting a printer deletes its subscription and its tokens stop working', async () => {
    const { adminToken, printers } = await tailspinPrinters('c');
    const printer = printers.c;
    expect(broker.hasSubscription(FIRST_TOPIC, printer.deviceId)).toBe(true);
    expect((await api(host, adminToken, 'DELETE', `/api/devices/${printer.deviceId}`)).status).toBe(204);
    expect(broker.hasSubscription(FIRST_TOPIC, printer.deviceId)).toBe(false);
    const emb = await oauthClient(host, 'roger-emb');
    await expect(oauth.refreshTokenGrant(emb, printer.refresh)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await api(host, printer.access, 'POST', '/api/devices/me/amqp-token')).status).toBe(403);
    const sessionAttempt = await fetch(`${host.url}/oauth/device_authorization`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${printer.access}` },
      body: 'client_id=roger-emb&scope=session',
    });
    expect(sessionAttempt.status).toBe(401);
  });
});
