import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceDoc } from '../../shared/devices/devices.js';
import { jobPartition } from '../../shared/jobs/jobs.js';
import { linkId } from '../../shared/onedrive/links.js';
import { writeLinkFixture } from '../helpers/onedrive.js';
import { verifyCredential } from '../../shared/tokens/credential-hash.js';
import type { UserDoc } from '../../shared/users/users.js';
import { enrollPrinter, type EnrolledPrinter } from '../helpers/printer.js';
import { api, mobileSignIn, tokenRequest, type Person } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';
import { familyOf, pinAttempt, readLogins, readUserDoc, refreshWith, statusCounts, together } from './race-kit.js';
import { startRaceStage, type RaceStage } from './traffic.js';

/**
 * Every admin write raced against what the account or printer it touches sees all day —
 * sign-ins at printers and in the app, refreshes of the phone's sessions or the printer's own
 * token — and against a second admin doing something to the same thing at the same moment.
 * All of a round's requests go out at once (Promise.all over fetch); each round then checks
 * the invariant on the answers and on the store:
 *  - no 5xx, ever;
 *  - no lost update: every sign-in answered is recorded, every refresh answered 200 is a token
 *    that works, two admins' changes of different fields both stand;
 *  - the admin's intent applied: a reset ends every session that existed before it and leaves
 *    one of the admins' credentials stored, a disconnect leaves the printer disconnected, an
 *    erasure leaves nothing that names the user.
 */
const SLUG = 'adminrace';
const ROUNDS = 5;
const bea: Person = { email: 'bea@adminrace.test', username: 'bea', fullName: 'Bea Admin', password: 'bea-password-12' };

interface Answer {
  readonly status: number;
  readonly body?: Record<string, unknown> & { refresh_token?: string; error?: string; pin?: string };
}
type Request = () => Promise<Answer>;

describe('admin writes racing sign-ins, refreshes and a second admin', () => {
  let stage: RaceStage;
  let host: TestHost;
  let tenantId: string;
  let adaToken: string;
  let beaToken: string;
  let printers: readonly EnrolledPrinter[];
  const newUser = () => stage.newUser();
  const phoneSessions = (person: Person, n: number) => stage.sessions(person, n);

  beforeAll(async () => {
    // Lockout and per-printer failure limits are not under test here (tests/hardening); keep them out of the way.
    stage = await startRaceStage(SLUG, { lockoutThreshold: 20, printerFailedSignInLimit: 1000 });
    ({ host, tenantId, adminToken: adaToken, printers } = stage);
    expect((await api(host, adaToken, 'POST', '/api/users', { ...bea, role: 'admin' })).status).toBe(201);
    beaToken = (await mobileSignIn(host, SLUG, bea)).access_token;
  });
  afterAll(() => stage?.close());

  /** The person's password typed at each printer: every one a write of their user item. */
  const signInsAtPrinters = (person: Person): Request[] =>
    printers.map((printer) => () => pinAttempt(host, printer.access, person.username, person.password));
  const refreshes = (tokens: readonly string[]): Request[] => tokens.map((token) => () => refreshWith(host, 'roger-mobile', token));

  /** Fires the admins' requests and the traffic at once; no answer may be a 5xx. */
  async function race(admins: Request[], traffic: Request[], round: number) {
    const answers: Answer[] = await together(admins.length + traffic.length, (i) =>
      (i < admins.length ? admins[i]! : traffic[i - admins.length]!)(),
    );
    const failed = answers.filter((a) => a.status >= 500);
    expect(failed, `round ${round}: ${JSON.stringify(failed)}`).toEqual([]);
    return { admins: answers.slice(0, admins.length), traffic: answers.slice(admins.length) };
  }

  /** The user item, with their sign-ins as `logins` (login records since issue 20: race-kit.ts readLogins). */
  const userDoc = async (id: string) => ({ ...(await readUserDoc(host, tenantId, id)), logins: await readLogins(host, tenantId, id) });
  const families = async (id: string) => (await userDoc(id)).refreshFamilies.map((f) => f.id);

  /** Every sign-in answered was recorded on the user: none was overwritten by an admin's write. */
  function expectRecorded(before: UserDoc, after: UserDoc, attempts: number) {
    expect(after.logins!.length - before.logins!.length).toBe(attempts);
  }

  /** A reset ended every session that existed before it: no family survives, no refreshed token works. */
  async function expectSessionsEnded(id: string, tokens: readonly string[], refreshed: readonly Answer[]) {
    const alive = await families(id);
    for (const token of tokens) expect(alive).not.toContain(familyOf(token));
    for (const answer of refreshed) {
      if (answer.status === 200)
        expect((await refreshWith(host, 'roger-mobile', answer.body!.refresh_token!)).body.error).toBe('invalid_grant');
      else expect(answer.body!.error).toBe('invalid_grant');
    }
  }

  it('PUT /api/users/{id}/credentials (two admins, two PINs): both 204, one of the PINs stored and working, every earlier session ended, every sign-in recorded', async () => {
    const { person, id } = await newUser();
    for (let round = 0; round < ROUNDS; round++) {
      const tokens = await phoneSessions(person, 2);
      const before = await userDoc(id);
      const pins = [`1${round}11`, `2${round}22`];
      const { admins, traffic } = await race(
        [
          () => api(host, adaToken, 'PUT', `/api/users/${id}/credentials`, { pin: pins[0] }),
          () => api(host, beaToken, 'PUT', `/api/users/${id}/credentials`, { pin: pins[1] }),
        ],
        [...signInsAtPrinters(person), ...refreshes(tokens)],
        round,
      );
      expect(admins.map((a) => a.status)).toEqual([204, 204]);
      expect(traffic.slice(0, 2).map((a) => a.status)).toEqual([200, 200]); // the password was not reset
      const after = await userDoc(id);
      const stored = await Promise.all(pins.map((pin) => verifyCredential(after.pinHash!, pin)));
      expect(stored.filter(Boolean)).toHaveLength(1);
      expect((await pinAttempt(host, printers[0]!.access, person.username, pins[stored.indexOf(true)]!)).status).toBe(200);
      expectRecorded(before, after, 2);
      await expectSessionsEnded(id, tokens, traffic.slice(2));
    }
  });

  it('PUT /api/users/{id}/credentials (a new password) racing sign-ins with the old one: no session signed in with the old password outlives the reset', async () => {
    const { person, id } = await newUser();
    for (let round = 0; round < ROUNDS; round++) {
      const current = round === 0 ? person.password : `new-password-${round - 1}`;
      const tokens = await phoneSessions({ ...person, password: current }, 1);
      const next = `new-password-${round}`;
      const { admins, traffic } = await race(
        [() => api(host, adaToken, 'PUT', `/api/users/${id}/credentials`, { password: next })],
        [
          ...Array.from(
            { length: 3 },
            () => () =>
              tokenRequest(host, {
                grant_type: 'password',
                client_id: 'roger-mobile',
                tenant: SLUG,
                username: person.username,
                password: current,
                scope: 'jobs offline_access',
              }),
          ),
          ...refreshes(tokens),
        ],
        round,
      );
      expect(admins[0]!.status).toBe(204);
      const signedIn = traffic
        .slice(0, 3)
        .filter((a) => a.status === 200)
        .map((a) => familyOf(a.body!.refresh_token!));
      const alive = await families(id);
      expect(
        { before: tokens.map(familyOf).filter((f) => alive.includes(f)), racing: signedIn.filter((f) => alive.includes(f)) },
        `round ${round}`,
      ).toEqual({ before: [], racing: [] });
      await expectSessionsEnded(id, tokens, traffic.slice(3));
    }
  });

  it('POST /api/users/{id}/pin-reset (two admins): both 200, exactly one of their PINs works, every earlier session ended, every sign-in recorded', async () => {
    const { person, id } = await newUser();
    for (let round = 0; round < ROUNDS; round++) {
      const tokens = await phoneSessions(person, 2);
      const before = await userDoc(id);
      const { admins, traffic } = await race(
        [() => api(host, adaToken, 'POST', `/api/users/${id}/pin-reset`), () => api(host, beaToken, 'POST', `/api/users/${id}/pin-reset`)],
        [...signInsAtPrinters(person), ...refreshes(tokens)],
        round,
      );
      expect(admins.map((a) => a.status)).toEqual([200, 200]);
      const after = await userDoc(id);
      const works = await Promise.all(admins.map((a) => verifyCredential(after.pinHash!, a.body!.pin!)));
      expect(works.filter(Boolean)).toHaveLength(1);
      expectRecorded(before, after, 2);
      await expectSessionsEnded(id, tokens, traffic.slice(2));
      await expectOnePinEntry(id, after, admins[works.indexOf(true)]!.body!.pin!);
    }
  });

  /**
   * The PIN index after racing resets (docs/security.md#pin-only-sign-in): exactly one entry names
   * the user, the one the user item points at, and the PIN the user holds signs them in alone at a
   * printer. Each reset used to drop every entry of the user but its own, so the winner's went too
   * and its PIN could be drawn for someone else.
   */
  async function expectOnePinEntry(id: string, after: UserDoc, pin: string) {
    const { resources } = await (
      await host.services()
    ).store
      .container('accounts')
      .items.query<{ id: string }>(
        {
          query: "SELECT c.id FROM c WHERE c.tenantId = @tenantId AND c.type = 'pin-index' AND c.userId = @userId",
          parameters: [
            { name: '@tenantId', value: tenantId },
            { name: '@userId', value: id },
          ],
        },
        { partitionKey: tenantId },
      )
      .fetchAll();
    expect(resources.map((entry) => entry.id)).toEqual([after.pinIndexId]);
    const on = await api(host, adaToken, 'PATCH', '/api/tenant', { policy: { pinOnly: true, pinMinLength: pin.length, pinDensity: 0.1 } });
    expect(on.status).toBe(200);
    try {
      const signedIn = await tokenRequest(
        host,
        { grant_type: 'urn:roger:params:oauth:grant-type:pin', client_id: 'roger-emb', pin },
        printers[0]!.access,
      );
      expect(signedIn.status).toBe(200);
      expect(JSON.parse(Buffer.from(signedIn.body.access_token.split('.')[1], 'base64url').toString()).sub).toBe(id);
    } finally {
      expect(
        (await api(host, adaToken, 'PATCH', '/api/tenant', { policy: { pinOnly: false, pinMinLength: 4, pinDensity: 0.001 } })).status,
      ).toBe(200);
    }
  }

  it('PATCH /api/users/{id} (one admin the full name, the other the email): both 200 and both applied, every refresh kept, every sign-in recorded', async () => {
    const { person, id } = await newUser();
    const tokens = await phoneSessions(person, 2);
    for (let round = 0; round < ROUNDS; round++) {
      const before = await userDoc(id);
      const fullName = `Renamed ${round}`;
      const email = `moved${round}@adminrace.test`;
      const { admins, traffic } = await race(
        [
          () => api(host, adaToken, 'PATCH', `/api/users/${id}`, { fullName }),
          () => api(host, beaToken, 'PATCH', `/api/users/${id}`, { email }),
        ],
        [...signInsAtPrinters(person), ...refreshes(tokens)],
        round,
      );
      expect(
        admins.map((a) => a.status),
        JSON.stringify(admins.map((a) => a.body)),
      ).toEqual([200, 200]);
      const after = await userDoc(id);
      expect(after).toMatchObject({ fullName, email, username: person.username, role: 'user' });
      expect(traffic.map((a) => a.status)).toEqual([200, 200, 200, 200]);
      expectRecorded(before, after, 2);
      traffic.slice(2).forEach((answer, i) => (tokens[i] = answer.body!.refresh_token!));
      expect((await families(id)).sort()).toEqual(tokens.map(familyOf).sort());
      // The old email is free, the new one is the user's: a racing rename left no claim behind.
      expect(
        (await api(host, adaToken, 'GET', `/api/users?q=${encodeURIComponent(email)}`)).body.items.map((u: { id: string }) => u.id),
      ).toEqual([id]);
    }
  });

  it('DELETE /api/users/{id} (two admins, and one renaming the user meanwhile): 204s, and nothing names the user afterwards', async () => {
    const { store } = await host.services();
    for (let round = 0; round < ROUNDS; round++) {
      const { person, id } = await newUser();
      const tokens = await phoneSessions(person, 2);
      const job = await api(host, (await mobileSignIn(host, SLUG, person)).access_token, 'POST', '/api/jobs', {
        fileName: 'mine.pdf',
        size: 1,
      });
      expect(job.status).toBe(201);
      await writeLinkFixture(store, tenantId, id); // a OneDrive link, as the callback writes it
      const renamedEmail = `renamed${round}@adminrace.test`;
      const { admins, traffic } = await race(
        [
          () => api(host, adaToken, 'DELETE', `/api/users/${id}`),
          () => api(host, beaToken, 'DELETE', `/api/users/${id}`),
          () => api(host, beaToken, 'PATCH', `/api/users/${id}`, { email: renamedEmail }),
        ],
        [...signInsAtPrinters(person), ...refreshes(tokens)],
        round,
      );
      expect(admins.slice(0, 2).map((a) => a.status)).toEqual([204, 204]);
      expect([200, 404]).toContain(admins[2]!.status);

      expect((await api(host, adaToken, 'GET', `/api/users/${id}`)).status).toBe(404);
      const { resource: link } = await store.container('accounts').item(linkId(id), tenantId).read();
      expect(link).toBeUndefined();
      const pk = jobPartition(tenantId, id);
      expect(
        (
          await store
            .container('jobs')
            .items.query({ query: 'SELECT * FROM c WHERE c.pk = @pk', parameters: [{ name: '@pk', value: pk }] })
            .fetchAll()
        ).resources,
      ).toEqual([]);
      for (const answer of traffic.slice(2))
        if (answer.status === 200)
          expect((await refreshWith(host, 'roger-mobile', answer.body!.refresh_token!)).body.error).toBe('invalid_grant');
      // Every name the user held, the racing new email included, is free again.
      for (const email of [person.email, renamedEmail]) {
        expect(
          (
            await api(host, adaToken, 'POST', '/api/users', {
              ...person,
              email,
              username: `again${round}${email.length}`,
              fullName: 'Someone else',
            })
          ).status,
        ).toBe(201);
      }
      expect(
        (await api(host, adaToken, 'POST', '/api/users', { ...person, email: `other${round}@adminrace.test`, fullName: 'Someone else' }))
          .status,
      ).toBe(201);
    }
  });

  it('DELETE /api/devices/{id} (two admins, one also moving it) while the printer refreshes and signs people in: 204s, disconnected for good, the move kept', async () => {
    const { store } = await host.services();
    const { person } = await newUser();
    const enrolled = await Promise.all(Array.from({ length: ROUNDS }, (_, i) => enrollPrinter(host, adaToken, `Doomed ${i}`)));
    for (const [round, printer] of enrolled.entries()) {
      const location = `Basement ${round}`;
      const { admins, traffic } = await race(
        [
          () => api(host, adaToken, 'DELETE', `/api/devices/${printer.deviceId}`),
          () => api(host, beaToken, 'DELETE', `/api/devices/${printer.deviceId}`),
          () => api(host, beaToken, 'PATCH', `/api/devices/${printer.deviceId}`, { location }),
        ],
        [() => refreshWith(host, 'roger-emb', printer.refresh), () => pinAttempt(host, printer.access, person.username, person.password)],
        round,
      );
      expect(admins.map((a) => a.status)).toEqual([204, 204, 200]);
      const { resource: device } = await store.container('accounts').item(printer.deviceId, tenantId).read<DeviceDoc>();
      expect(device).toMatchObject({ status: 'disconnected', refreshFamilies: [], location });
      const refreshed = traffic[0]!;
      const latest = refreshed.status === 200 ? refreshed.body!.refresh_token! : printer.refresh;
      expect((await refreshWith(host, 'roger-emb', latest)).body.error).toBe('invalid_grant');
      expect((await api(host, printer.access, 'POST', '/api/devices/me/amqp-token')).status).toBe(403);
    }
  });

  it('PATCH /api/devices/{id} (one admin the name, the other the location) while the printer refreshes and signs people in: both applied, every refresh kept', async () => {
    const { person } = await newUser();
    const printer = await enrollPrinter(host, adaToken, 'Busy');
    let refresh = printer.refresh;
    for (let round = 0; round < ROUNDS; round++) {
      const [name, location] = [`Busy ${round}`, `Hall ${round}`];
      const { admins, traffic } = await race(
        [
          () => api(host, adaToken, 'PATCH', `/api/devices/${printer.deviceId}`, { name }),
          () => api(host, beaToken, 'PATCH', `/api/devices/${printer.deviceId}`, { location }),
        ],
        [() => refreshWith(host, 'roger-emb', refresh), () => pinAttempt(host, printer.access, person.username, person.password)],
        round,
      );
      expect(admins.map((a) => a.status)).toEqual([200, 200]);
      expect(traffic.map((a) => a.status)).toEqual([200, 200]);
      refresh = traffic[0]!.body!.refresh_token!;
      const listed = (await api(host, adaToken, 'GET', '/api/devices?limit=100')).body.items.find(
        (d: { id: string }) => d.id === printer.deviceId,
      );
      expect(listed).toMatchObject({ name, location, status: 'connected' });
    }
    expect((await refreshWith(host, 'roger-emb', refresh)).status).toBe(200);
  });

  it('PATCH /api/tenant (one admin retention, the other login-history days) while its users sign in and refresh: both 200, both applied', async () => {
    const { person } = await newUser();
    const tokens = await phoneSessions(person, 2);
    for (let round = 0; round < ROUNDS; round++) {
      const [jobRetentionDays, loginHistoryDays] = [10 + round, 30 + round];
      const { admins, traffic } = await race(
        [
          () => api(host, adaToken, 'PATCH', '/api/tenant', { policy: { jobRetentionDays } }),
          () => api(host, beaToken, 'PATCH', '/api/tenant', { policy: { loginHistoryDays } }),
        ],
        [...signInsAtPrinters(person), ...refreshes(tokens)],
        round,
      );
      expect(
        admins.map((a) => a.status),
        JSON.stringify(admins.map((a) => a.body)),
      ).toEqual([200, 200]);
      expect(traffic.map((a) => a.status)).toEqual([200, 200, 200, 200]);
      traffic.slice(2).forEach((answer, i) => (tokens[i] = answer.body!.refresh_token!));
      expect((await api(host, adaToken, 'GET', '/api/tenant')).body.policy).toMatchObject({ jobRetentionDays, loginHistoryDays });
    }
  });

  it('scan profiles: two admins editing one profile while a user named in it is erased; a delete racing an edit; two creates at once', async () => {
    const settings = { name: 'Shared', format: 'pdf', resolution: 300, color: 'color', duplex: false, roles: [] as string[] };
    for (let round = 0; round < ROUNDS; round++) {
      const { person, id } = await newUser();
      const keeper = await newUser();
      const tokens = await phoneSessions(person, 1);
      const profile = await api(host, adaToken, 'POST', '/api/scan-profiles', { ...settings, userIds: [id, keeper.id] });
      expect(profile.status).toBe(201);
      const path = `/api/scan-profiles/${profile.body.id}`;
      const [name, resolution] = [`Shared ${round}`, round % 2 ? 600 : 150];
      const { admins } = await race(
        [
          () => api(host, adaToken, 'PATCH', path, { name }),
          () => api(host, beaToken, 'PATCH', path, { resolution }),
          () => api(host, beaToken, 'DELETE', `/api/users/${id}`),
        ],
        [...signInsAtPrinters(person), ...refreshes(tokens)],
        round,
      );
      expect(admins.map((a) => a.status)).toEqual([200, 200, 204]);
      expect((await api(host, adaToken, 'GET', path)).body).toMatchObject({ name, resolution, userIds: [keeper.id] });

      const deleted = await race(
        [() => api(host, adaToken, 'DELETE', path), () => api(host, beaToken, 'PATCH', path, { duplex: true })],
        [],
        round,
      );
      expect(deleted.admins[0]!.status).toBe(204);
      expect([200, 404]).toContain(deleted.admins[1]!.status);
      expect((await api(host, adaToken, 'GET', path)).status).toBe(404); // an edit never brings a deleted profile back

      const created = await race(
        [
          () => api(host, adaToken, 'POST', '/api/scan-profiles', { ...settings, userIds: [] }),
          () => api(host, beaToken, 'POST', '/api/scan-profiles', { ...settings, userIds: [] }),
        ],
        [],
        round,
      );
      expect(statusCounts(created.admins)).toEqual({ 201: 2 });
      expect(created.admins[0]!.body!.id).not.toBe(created.admins[1]!.body!.id);
      for (const answer of created.admins)
        expect((await api(host, adaToken, 'DELETE', `/api/scan-profiles/${answer.body!.id}`)).status).toBe(204);
    }
  });
});
