import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollPrinter, type EnrolledPrinter } from '../helpers/printer.js';
import { api, createTenant, lastCosmosRequests, mobileSignIn, oauthEnv, tokenRequest, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { pinAttempt } from '../races/race-kit.js';

/**
 * What an attacker measures: the answer (always the same invalid_grant) and the time it takes.
 * The time follows the store work, so a known name with a wrong secret and a name nobody has
 * must make the same Cosmos requests — the first time this instance sees the name (look-up,
 * item, write) and on every repeat once the per-instance hint is warm (item, write), unlocked
 * or locked. The request count is exact (the host logs it per request); the timing of many
 * interleaved attempts then confirms that nothing else differs by more than the tolerance.
 */
const SLUG = 'stopwatch';
const THRESHOLD = 5; // the default lockout threshold: attempts after it meet a locked account
const WARM_UP = 10;
const PAIRS = 200;
/**
 * The median of the per-pair differences (known minus unknown, the two attempts of a pair
 * back to back, who goes first alternating): a busy moment of the machine lands on both halves
 * of a pair, where the difference of two medians takes it whole (measured: that one swung by
 * ±2 ms between runs under load). Calibrated on this 2-core machine at load 3–6 (argon2 ≈ 10 ms
 * of each attempt), runs of 200 pairs: 3c6529b, whose known name made one more write (and read)
 * than an unknown one, 1.29–1.64 ms; with the decoy −0.02–0.23 ms. Unloaded, 3c6529b's medians
 * were 1.8 ms apart and the decoy's 0.1 ms. At load 12 (many test runs at once) the decoy
 * once measured 0.86 ms: the tolerance sits between that and 3c6529b's lowest.
 */
const TOLERANCE_MS = 1.0;

const admin: Person = { email: 'ops@stopwatch.test', username: 'ops', fullName: 'Otto Ops', password: 'ops-password-12' };
const person = (name: string): Person => ({
  email: `${name}@stopwatch.test`,
  username: name,
  fullName: `User ${name}`,
  password: `${name}-password-12`,
  pin: '4826',
});

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

describe('defect 4: response time reveals whether a username exists', () => {
  let host: TestHost;
  let adminToken: string;
  let printer: EnrolledPrinter;
  let created = 0;

  /** A user this instance has never resolved: its first sign-in attempt starts with a cold hint. */
  async function freshUser(): Promise<Person> {
    const user = person(`user${++created}`);
    expect((await api(host, adminToken, 'POST', '/api/users', user)).status).toBe(201);
    return user;
  }

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
    await createTenant(host, SLUG, admin, { lockoutThreshold: THRESHOLD, lockoutSeconds: 3600 });
    adminToken = (await mobileSignIn(host, SLUG, admin)).access_token;
    // Hundreds of wrong PINs from one printer: raise its failure limit (docs/security.md#rate-limits) to the most the
    // policy allows. 3c6529b has no such limit and refuses the unknown policy field (400).
    const raised = await api(host, adminToken, 'PATCH', '/api/tenant', { policy: { printerFailedSignInLimit: 1000 } });
    expect([200, 400]).toContain(raised.status);
    printer = await enrollPrinter(host, adminToken, 'Stopwatch MFP');
  });
  afterAll(async () => {
    await host?.close();
  });

  type Answer = { status: number; body: Record<string, string> };
  /** One rejected attempt and the Cosmos requests it made. */
  async function rejectedCost(attempt: Promise<Answer>): Promise<number> {
    expect(await attempt).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    return lastCosmosRequests(host, '/oauth/token');
  }
  const channels = {
    'PIN at a printer': (loginName: string) => rejectedCost(pinAttempt(host, printer.access, loginName, '0000')),
    'password in the app': (loginName: string) =>
      rejectedCost(
        tokenRequest(host, {
          grant_type: 'password',
          client_id: 'roger-mobile',
          tenant: SLUG,
          username: loginName,
          password: 'not-the-password-1',
          scope: 'jobs offline_access',
        }),
      ),
  };

  it('a known name with a wrong secret costs the Cosmos requests of an unknown name: first time, repeated, and locked', async () => {
    for (const [channelName, attempt] of Object.entries(channels)) {
      for (const byEmail of [false, true]) {
        /** Both names from their first attempt on this instance to well past the known one's lock. */
        const costs = async () => {
          const known = await freshUser();
          const knownName = byEmail ? known.email : known.username;
          const unknownName = byEmail ? `nobody${created}@stopwatch.test` : `nobody${created}`;
          const knownCosts: number[] = [];
          const unknownCosts: number[] = [];
          for (let i = 0; i < THRESHOLD + 3; i++) {
            knownCosts.push(await attempt(knownName));
            unknownCosts.push(await attempt(unknownName));
          }
          return { knownCosts, unknownCosts };
        };
        await attempt('warm-up'); // a failure limit's counter, where there is one, is created by the first failure
        let measured = await costs();
        // A new window of a failure limit may begin between two attempts and cost one of them a
        // request more; it cannot happen twice within seconds.
        if (JSON.stringify(measured.knownCosts) !== JSON.stringify(measured.unknownCosts)) measured = await costs();
        const { knownCosts, unknownCosts } = measured;
        expect(unknownCosts, `${channelName}, by ${byEmail ? 'email' : 'username'}: unknown name against known name`).toEqual(knownCosts);
        expect(knownCosts[0]).toBeGreaterThan(knownCosts[1]!); // the hint warmed up: the look-up read is skipped
      }
    }
  });

  it(
    `known and unknown names at a printer: the median time difference of ${PAIRS} pairs is under ${TOLERANCE_MS} ms`,
    { timeout: 60_000 },
    async () => {
      const known = await Promise.all([freshUser(), freshUser(), freshUser(), freshUser()]);
      const unknown = ['olaf', 'piet', 'quentin', 'rayna'];
      const timed = async (loginName: string) => {
        const started = performance.now();
        const answer = await pinAttempt(host, printer.access, loginName, '0000');
        const elapsed = performance.now() - started;
        expect(answer.status).toBe(400);
        return elapsed;
      };
      // One measurement of PAIRS interleaved pairs: the median of their differences.
      const measure = async () => {
        const knownTimes: number[] = [];
        const unknownTimes: number[] = [];
        for (let pair = 0; pair < WARM_UP + PAIRS; pair++) {
          const k = known[pair % known.length]!.username;
          const u = unknown[pair % unknown.length]!;
          let kt: number;
          let ut: number;
          if (pair % 2 === 0) {
            kt = await timed(k);
            ut = await timed(u);
          } else {
            ut = await timed(u);
            kt = await timed(k);
          }
          if (pair < WARM_UP) continue;
          knownTimes.push(kt);
          unknownTimes.push(ut);
        }
        const difference = median(knownTimes.map((kt, i) => kt - unknownTimes[i]!));
        const report = `median difference ${difference.toFixed(2)} ms (medians: known ${median(knownTimes).toFixed(2)} ms, unknown ${median(unknownTimes).toFixed(2)} ms)`;
        console.info(`defect 4, ${PAIRS} pairs: ${report}`);
        return { difference, report };
      };
      // A second, independent measurement when the first is over: a browser test on the other
      // worker can starve this one for a while (seen: 1.3–1.6 ms under load, -0.1 ms alone). A real
      // difference in the work done shows in both; load that comes and goes rarely twice.
      let result = await measure();
      if (Math.abs(result.difference) >= TOLERANCE_MS) result = await measure();
      expect(Math.abs(result.difference), result.report).toBeLessThan(TOLERANCE_MS);
    },
  );
});
