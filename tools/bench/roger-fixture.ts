import { enrollPrinter, type EnrolledPrinter } from '../../tests/helpers/printer.js';
import { api, createTenant, mobileSignIn, oauthEnv, type Person } from '../../tests/helpers/roger.js';
import type { TestHost } from '../../tests/helpers/test-host.js';

/** The local host's settings for the bench: the test helpers' operator key and a 1 s poll interval. */
/**
 * The bench plays many clients behind one trusted proxy (as Front Door would add them), so the
 * per-address limits see many addresses instead of refusing one load generator.
 */
export const rogerBenchEnv = { ...oauthEnv, TRUSTED_PROXY_HOPS: '2' };

/** What the bench's requests need: tokens, codes and a way to stage a session approval. */
export interface RogerFixture {
  /** The user who registers jobs in the job-registration row. */
  readonly userToken: string;
  readonly printerToken: string;
  /** Users with a PIN; requests go round-robin, so each user signs in about one at a time, as at real printers. */
  readonly pinUsers: { username: string; pin: string }[];
  /** Desktop device codes nobody approves: polling them answers authorization_pending / slow_down. */
  readonly pendingDeviceCodes: string[];
  /** Mobile-app refresh tokens, one per user (a user's families share one document); the bench rotates them. */
  readonly refreshTokens: string[];
  /** Queues `jobs` jobs for the user and starts a session at the printer; returns its user code. */
  prepareApproval(jobs: number): Promise<string>;
  /** The user approves the session from the phone; returns how many jobs were released. */
  approve(userCode: string): Promise<number>;
}

const admin: Person = { email: 'admin@bench.test', username: 'admin', fullName: 'Bench Admin', password: 'bench-admin-password-1' };
const benchUser = (i: number): Person => ({
  email: `user${i}@bench.test`,
  username: `user${i}`,
  fullName: `Bench User ${i}`,
  password: `bench-user-password-${i}`,
  pin: String(283_917 + 7_919 * i), // six digits: 20 users of 4-digit PINs would break the tenant's PIN density policy
});

async function form(url: string, fields: Record<string, string>, bearer?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: new URLSearchParams(fields),
  });
  const body = (await response.json()) as Record<string, string>;
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${body.error}`);
  return body;
}

const APPROVAL_PRINTERS = 12;

export async function setUpRoger(url: string, users: number): Promise<RogerFixture> {
  const host = { url } as TestHost; // the helpers only need the URL
  await createTenant(host, 'bench', admin);
  const adminToken = (await mobileSignIn(host, 'bench', admin)).access_token;
  const people = Array.from({ length: users }, (_, i) => benchUser(i));
  const refreshTokens: string[] = [];
  const accessTokens: string[] = [];
  for (const person of people) {
    const created = await api(host, adminToken, 'POST', '/api/users', person);
    if (created.status !== 201) throw new Error(`user: ${created.status} ${JSON.stringify(created.body)}`);
    const tokens = await mobileSignIn(host, 'bench', person);
    refreshTokens.push(tokens.refresh_token!);
    accessTokens.push(tokens.access_token);
  }
  // Separate users: the job-registration row leaves thousands of jobs in its user's partition,
  // which the local server (no index) would scan on every release query of the approval row.
  const [userToken, approverToken] = accessTokens as [string, string];
  // Approvals go round the printers: one panel may show 60 session codes in 10 minutes
  // (docs/security.md, rate limits), and the approval row starts hundreds of sessions.
  const printers: EnrolledPrinter[] = [];
  for (let i = 0; i < APPROVAL_PRINTERS; i++) printers.push(await enrollPrinter(host, adminToken, `Bench MFP ${i}`));
  const printer = printers[0]!;
  let nextPrinter = 0;
  const pendingDeviceCodes: string[] = [];
  for (let i = 0; i < 20; i++) {
    pendingDeviceCodes.push((await form(`${url}/oauth/device_authorization`, { client_id: 'roger-desktop', scope: 'jobs' })).device_code!);
  }

  return {
    userToken,
    printerToken: printer.access,
    pinUsers: people.map((p) => ({ username: p.username, pin: p.pin! })),
    pendingDeviceCodes,
    refreshTokens,
    async prepareApproval(jobs) {
      for (let i = 0; i < jobs; i++) {
        const job = await api(host, approverToken, 'POST', '/api/jobs', { fileName: `Release ${i}.pdf`, size: 1000 + i });
        const ready = await api(host, approverToken, 'POST', `/api/jobs/${job.body.id}/ready`);
        if (ready.status !== 200) throw new Error(`job ready: ${ready.status}`);
      }
      const panel = printers[nextPrinter++ % printers.length]!;
      return (await form(`${url}/oauth/device_authorization`, { client_id: 'roger-emb', scope: 'session' }, panel.access)).user_code!;
    },
    async approve(userCode) {
      const approved = await api(host, approverToken, 'POST', '/api/device-codes/approve', { user_code: userCode });
      if (approved.status !== 200) throw new Error(`approval: ${approved.status}`);
      return (approved.body.release as { released: number }).released;
    },
  };
}
