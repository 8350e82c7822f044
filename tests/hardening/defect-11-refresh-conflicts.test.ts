import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollPrinter, type EnrolledPrinter } from '../helpers/printer.js';
import { api, tokenRequest, type Person } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';
import { familyOf, pinAttempt, readLogins, readUserDoc, refreshWith, statusCounts, together, type TokenAnswer } from '../races/race-kit.js';
import { printerRefreshes, startRaceStage, startTraffic, type RaceStage } from '../races/traffic.js';

/**
 * Issue 13, defect 11: all of a user's refresh families live in the user item, with their
 * sign-in state, so every sign-in, admin edit or refresh of another session writes the item a
 * refresh writes. A refresh that lost that ETag race was refused as if its own token had been
 * replayed, and the session ended. A refresh may fail only for its own family's reasons.
 */
const SLUG = 'overlap';
const THRESHOLD = 5;

describe('defect 11: any other write to the user item ends the user’s sessions', () => {
  let stage: RaceStage;
  let host: TestHost;
  let tenantId: string;
  let adminToken: string;
  let printers: readonly EnrolledPrinter[];
  const newUser = () => stage.newUser();
  const sessions = (person: Person, n: number) => stage.sessions(person, n);

  beforeAll(async () => {
    stage = await startRaceStage(SLUG, { lockoutThreshold: THRESHOLD, lockoutSeconds: 600 });
    ({ host, tenantId, adminToken, printers } = stage);
  });
  afterAll(() => stage?.close());

  /** Every answer a success; each session carries on with the token it was just given. */
  function carryOn(tokens: string[], answers: TokenAnswer[], round: number): void {
    expect(statusCounts(answers), `round ${round}: ${JSON.stringify(answers.filter((a) => a.status !== 200).map((a) => a.body))}`).toEqual({
      200: answers.length,
    });
    answers.forEach((answer, i) => {
      expect(familyOf(answer.body.refresh_token!)).toBe(familyOf(tokens[i]!));
      tokens[i] = answer.body.refresh_token!;
    });
  }

  it('8 sessions of one user refreshing together for 30 rounds lose none; two refreshes of one token still have one winner', async () => {
    const { person, id } = await newUser();
    const tokens = await sessions(person, 8);
    for (let round = 0; round < 30; round++) {
      // A ninth session, signed in meanwhile, whose token is sent twice at once (a double tap).
      const [spare] = await sessions(person, 1);
      const answers = await together(10, (i) => refreshWith(host, 'roger-mobile', i < 8 ? tokens[i]! : spare!));
      carryOn(tokens, answers.slice(0, 8), round);
      const twins = answers.slice(8);
      expect(statusCounts(twins), `round ${round}`).toEqual({ 200: 1, 400: 1 });
      expect(twins.find((a) => a.status === 400)!.body.error).toBe('invalid_grant');
      // Back to 8 families: the spare one goes (RFC 7009), so the 10-family cap never evicts a session under test.
      const winner = twins.find((a) => a.status === 200)!.body.refresh_token!;
      await fetch(`${host.url}/oauth/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: winner, client_id: 'roger-mobile' }),
      });
    }
    const families = (await readUserDoc(host, tenantId, id)).refreshFamilies.map((f) => f.id);
    expect(families.sort()).toEqual(tokens.map(familyOf).sort());
  });

  it('refreshes racing PIN sign-ins at printers lose no session, and every sign-in succeeds', async () => {
    const { person } = await newUser();
    const tokens = await sessions(person, 3);
    for (let round = 0; round < 30; round++) {
      const answers = await together(5, (i) =>
        i < 3 ? refreshWith(host, 'roger-mobile', tokens[i]!) : pinAttempt(host, printers[i - 3]!.access, person.username, person.pin!),
      );
      expect(
        answers.slice(3).map((a) => a.status),
        `round ${round}`,
      ).toEqual([200, 200]);
      carryOn(tokens, answers.slice(0, 3), round);
    }
  });

  it('refreshes racing a burst of wrong PINs lose no session, and the lockout still counts every wrong PIN', async () => {
    for (let round = 0; round < 3; round++) {
      const { person, id } = await newUser();
      const tokens = await sessions(person, 2);
      const before = (await readLogins(host, tenantId, id)).length;
      // Each session keeps refreshing while 12 wrong PINs arrive at once at two printers.
      const phones = tokens.map((token, i) => {
        const answers: TokenAnswer[] = [];
        let current = token;
        let done = false;
        const run = (async () => {
          while (!done) {
            const answer = await refreshWith(host, 'roger-mobile', current);
            answers.push(answer);
            if (answer.status !== 200) break;
            current = answer.body.refresh_token!;
          }
        })();
        return { answers, stop: async () => ((done = true), await run), index: i };
      });
      const wrong = await together(12, (i) => pinAttempt(host, printers[i % 2]!.access, person.username, `90${10 + i}`));
      for (const phone of phones) await phone.stop();

      expect(statusCounts(wrong)).toEqual({ 400: 12 });
      for (const phone of phones) {
        expect(
          phone.answers.filter((a) => a.status !== 200).map((a) => a.body),
          `round ${round}, session ${phone.index}`,
        ).toEqual([]);
        expect(phone.answers.length).toBeGreaterThan(0);
      }
      const doc = await readUserDoc(host, tenantId, id);
      expect((await readLogins(host, tenantId, id)).length - before).toBe(12); // every attempt recorded
      expect(doc.lockout).toMatchObject({ failures: 0, locks: 1 }); // the threshold reached exactly once: locked
      expect(doc.lockout.lockedUntil).toBeDefined();
      expect(doc.refreshFamilies).toHaveLength(2);
    }
  });

  it('refreshes racing an admin’s edits of the user (PATCH fullName) lose no session, and every edit is applied', async () => {
    const { person, id } = await newUser();
    const tokens = await sessions(person, 3);
    for (let round = 0; round < 20; round++) {
      const fullName = `Sam the ${round}th`;
      const answers = await together<TokenAnswer>(4, (i) =>
        i < 3 ? refreshWith(host, 'roger-mobile', tokens[i]!) : api(host, adminToken, 'PATCH', `/api/users/${id}`, { fullName }),
      );
      carryOn(tokens, answers.slice(0, 3), round);
      expect(answers[3]!.status, `round ${round}: ${JSON.stringify(answers[3]!.body)}`).toBe(200);
      expect((await readUserDoc(host, tenantId, id)).fullName).toBe(fullName);
    }
  });

  it('a printer’s refresh racing an admin’s edits of the printer is not refused, and every edit is applied', async () => {
    const printer = await enrollPrinter(host, adminToken, 'MFP-C');
    const refreshes = printerRefreshes(host, printer.refresh);
    const traffic = startTraffic({ 'printer refresh': refreshes });
    const edits: number[] = [];
    try {
      for (let round = 0; round < 20; round++)
        edits.push((await api(host, adminToken, 'PATCH', `/api/devices/${printer.deviceId}`, { location: `Room ${round}` })).status);
    } finally {
      const report = await traffic.stop();
      expect(report['printer refresh']).toEqual({ 200: expect.any(Number) });
    }
    expect(edits).toEqual(Array(20).fill(200));
    const listed = await api(host, adminToken, 'GET', '/api/devices');
    expect(listed.body.items.find((d: { id: string }) => d.id === printer.deviceId)).toMatchObject({
      location: 'Room 19',
      status: 'connected',
    });
    expect(
      (await tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-emb', refresh_token: refreshes.latest() })).status,
    ).toBe(200);
  });
});
