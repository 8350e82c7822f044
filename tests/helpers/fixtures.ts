import { randomBytes } from 'node:crypto';
import type { EnrolledPrinter } from './printer.js';
import { api, createTenant, mobileSignIn, tokenRequest, type Person } from './roger.js';
import type { TestHost } from './test-host.js';

/**
 * Worlds of their own for tests that share a host (one per file: starting one is the expensive
 * part). Each test makes the tenant, people and printers it needs under names nobody else on the
 * host used, so no test depends on what an earlier one created, changed, locked or counted, and
 * any test runs alone (`npx vitest run <file> -t "<name>"`, see tools/run-each-test.mjs) or in
 * any order.
 */

/** 8 random hex digits. Fixed length, so no tag is a prefix of another: safe as a needle in a scan of the whole store. */
export const uniqueTag = () => randomBytes(4).toString('hex');

/** `prefix-<tag>`: a valid tenant slug, username or mailbox name nobody else on the host has. */
export const uniqueName = (prefix: string) => `${prefix}-${uniqueTag()}`;

/** The same person under a username, email and full name that no one else on the host has. */
export function individual(person: Person): Person {
  const tag = uniqueTag();
  const [mailbox, domain] = person.email.split('@');
  return { ...person, username: `${person.username}-${tag}`, email: `${mailbox}-${tag}@${domain}`, fullName: `${person.fullName} ${tag}` };
}

/** Someone signed in from the mobile app (scope `jobs offline_access`). */
export interface Member {
  readonly person: Person;
  readonly id: string;
  readonly token: string;
  readonly refresh: string;
}

export interface FreshTenant {
  readonly slug: string;
  readonly id: string;
  readonly admin: Member;
  /** In the order they were asked for. */
  readonly users: Member[];
}

/**
 * A tenant for one test: a slug made from `prefix`, `admin` signed in, and each of `users`
 * created by the admin and signed in. Users are made side by side: hashing their credentials is
 * most of the cost, and the host hashes on a thread pool.
 */
export async function freshTenant(
  host: TestHost,
  prefix: string,
  admin: Person,
  users: readonly Person[] = [],
  policy?: Record<string, unknown>,
): Promise<FreshTenant> {
  const slug = uniqueName(prefix);
  const tenant = await createTenant(host, slug, admin, policy);
  const signedIn = await mobileSignIn(host, slug, admin);
  const adminMember: Member = { person: admin, id: tenant.adminId, token: signedIn.access_token, refresh: signedIn.refresh_token! };
  const members = await Promise.all(
    users.map(async (person): Promise<Member> => {
      const created = await api(host, adminMember.token, 'POST', '/api/users', person);
      if (created.status !== 201) throw new Error(`user ${person.username}: ${created.status} ${JSON.stringify(created.body)}`);
      const tokens = await mobileSignIn(host, slug, person);
      return { person, id: created.body.id as string, token: tokens.access_token, refresh: tokens.refresh_token! };
    }),
  );
  return { slug, id: tenant.id, admin: adminMember, users: members };
}

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** RFC 8628 §3.1 as a client sends it (a printer's session request carries its device token). */
async function deviceAuthorization(host: TestHost, scope: string, bearer?: string) {
  const response = await fetch(`${host.url}/oauth/device_authorization`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: new URLSearchParams({ client_id: 'roger-emb', scope }).toString(),
  });
  if (response.status !== 200) throw new Error(`device_authorization: ${response.status} ${await response.text()}`);
  return (await response.json()) as { device_code: string; user_code: string };
}

/**
 * The code answered before the printer's first poll, so one poll gets the tokens at once: a
 * stock client waits one interval before it polls (oauth-flows.test.ts drives that client).
 */
async function approveThenExchange(
  host: TestHost,
  authorization: { device_code: string; user_code: string },
  approverToken: string,
  approval: Record<string, string>,
) {
  const approved = await api(host, approverToken, 'POST', '/api/device-codes/approve', { user_code: authorization.user_code, ...approval });
  if (approved.status !== 200) throw new Error(`approval: ${approved.status} ${JSON.stringify(approved.body)}`);
  const tokens = await tokenRequest(host, {
    grant_type: DEVICE_CODE_GRANT,
    client_id: 'roger-emb',
    device_code: authorization.device_code,
  });
  if (tokens.status !== 200) throw new Error(`device code exchange: ${tokens.status} ${JSON.stringify(tokens.body)}`);
  return { approved: approved.body, tokens: tokens.body as { access_token: string; refresh_token?: string } };
}

/** A printer enrolled by `adminToken`'s admin (docs/flows.md#sign-in), as set-up for a test about something else. */
export async function enrolledPrinter(host: TestHost, adminToken: string, name: string, location?: string): Promise<EnrolledPrinter> {
  const authorization = await deviceAuthorization(host, 'device');
  const { approved, tokens } = await approveThenExchange(host, authorization, adminToken, { name, ...(location ? { location } : {}) });
  return { access: tokens.access_token, refresh: tokens.refresh_token!, deviceId: approved.deviceId as string };
}

/**
 * A session at the printer approved from the user's phone (docs/flows.md#sign-in), as set-up: what
 * `startSession` (helpers/printer.ts) returns, without waiting for the printer's first poll.
 */
export async function approvedSession(host: TestHost, printer: { access: string }, userToken: string) {
  const authorization = await deviceAuthorization(host, 'session', printer.access);
  const { approved, tokens } = await approveThenExchange(host, authorization, userToken, {});
  return {
    release: approved.release as { released: number; queued: number; dispatched: boolean },
    token: tokens.access_token,
    userCode: authorization.user_code,
  };
}
