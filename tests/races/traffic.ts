import { expect } from 'vitest';
import { enrollPrinter, type EnrolledPrinter } from '../helpers/printer.js';
import { api, createTenant, mobileSignIn, oauthEnv, tokenRequest, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { pinAttempt } from './race-kit.js';

/**
 * Where the races on one account play: a test host with a tenant, its admin (signed in) and two
 * enrolled printers; users made on demand, each with a PIN and a password of their own.
 */
export interface RaceStage {
  readonly host: TestHost;
  readonly slug: string;
  readonly tenantId: string;
  readonly admin: Person;
  readonly adminToken: string;
  readonly printers: readonly EnrolledPrinter[];
  newUser(): Promise<{ person: Person; id: string }>;
  /** n phone sessions of the person (the app's password grant with offline_access): their refresh tokens. */
  sessions(person: Person, n: number): Promise<string[]>;
  close(): Promise<void>;
}

export async function startRaceStage(slug: string, policy: Record<string, unknown>): Promise<RaceStage> {
  const host = await startTestHost({ env: oauthEnv });
  const admin: Person = { email: `ada@${slug}.test`, username: 'ada', fullName: 'Ada Admin', password: 'ada-password-12' };
  const tenantId = (await createTenant(host, slug, admin, policy)).id;
  const adminToken = (await mobileSignIn(host, slug, admin)).access_token;
  const printers = await Promise.all([enrollPrinter(host, adminToken, 'MFP-A'), enrollPrinter(host, adminToken, 'MFP-B')]);
  let serial = 0;
  return {
    host,
    slug,
    tenantId,
    admin,
    adminToken,
    printers,
    async newUser() {
      const n = ++serial;
      const person: Person = {
        email: `user${n}@${slug}.test`,
        username: `user${n}`,
        fullName: `User ${n}`,
        password: `user-password-${n}`,
        pin: '2468',
      };
      const created = await api(host, adminToken, 'POST', '/api/users', person);
      expect(created.status).toBe(201);
      return { person, id: created.body.id as string };
    },
    async sessions(person, n) {
      const tokens: string[] = [];
      for (let i = 0; i < n; i++) tokens.push((await mobileSignIn(host, slug, person)).refresh_token!);
      return tokens;
    },
    close: () => host.close(),
  };
}

/**
 * Background traffic on one account, as a busy morning makes it: each loop repeats one kind of
 * request until stopped, so whatever an admin does meanwhile meets writes of the same item (a
 * sign-in records itself on the user, a refresh rotates a family inside it).
 */
export type Step = () => Promise<{ readonly status: number }>;

/** How each loop was answered, e.g. `{ 'pin at A': { 200: 41 } }`. */
export type TrafficReport = Record<string, Record<number, number>>;

export interface Traffic {
  /** Ends every loop (each finishes the request it is in) and tells what they were answered. */
  stop(): Promise<TrafficReport>;
}

export function startTraffic(loops: Record<string, Step>): Traffic {
  let running = true;
  const report: TrafficReport = {};
  const runs = Object.entries(loops).map(async ([name, step]) => {
    const counts: Record<number, number> = (report[name] = {});
    while (running) {
      const { status } = await step();
      counts[status] = (counts[status] ?? 0) + 1;
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(runs);
      return report;
    },
  };
}

/** Every answer any loop got, by status: `{ 200: 130, 400: 12 }`. */
export function allStatuses(report: TrafficReport): Record<number, number> {
  const total: Record<number, number> = {};
  for (const counts of Object.values(report))
    for (const [status, n] of Object.entries(counts)) total[Number(status)] = (total[Number(status)] ?? 0) + n;
  return total;
}

/** A PIN or password typed at a printer's panel, again and again. */
export const signInsAtPrinter =
  (host: TestHost, printerAccess: string, username: string, secret: string): Step =>
  () =>
    pinAttempt(host, printerAccess, username, secret);

/** The app's password grant with a wrong password: anyone who knows a username can send these. */
export const wrongPasswords =
  (host: TestHost, tenant: string, username: string): Step =>
  () =>
    tokenRequest(host, {
      grant_type: 'password',
      client_id: 'roger-mobile',
      tenant,
      username,
      password: 'not-the-password-0',
      scope: 'jobs offline_access',
    });

/**
 * One phone kept signed in: refresh after refresh, and a new sign-in with the password when an
 * admin ended the session (a reset, an erasure) — as the app does.
 */
export function phoneSession(host: TestHost, tenant: string, username: string, password: string): Step {
  let refreshToken: string | undefined;
  return async () => {
    const answer = refreshToken
      ? await tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-mobile', refresh_token: refreshToken })
      : await tokenRequest(host, {
          grant_type: 'password',
          client_id: 'roger-mobile',
          tenant,
          username,
          password,
          scope: 'jobs offline_access',
        });
    refreshToken = answer.status === 200 ? (answer.body.refresh_token as string) : undefined;
    return answer;
  };
}

/** A printer refreshing its own token, each time with the one the last refresh gave it. */
export function printerRefreshes(host: TestHost, refreshToken: string): Step & { latest(): string } {
  let current = refreshToken;
  const step = async () => {
    const answer = await tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-emb', refresh_token: current });
    if (answer.status === 200) current = answer.body.refresh_token as string;
    return answer;
  };
  return Object.assign(step, { latest: () => current });
}
