import { performance } from 'node:perf_hooks';
import { api, createTenant, mobileSignIn, type Person } from '../../tests/helpers/roger.js';
import type { TestHost } from '../../tests/helpers/test-host.js';

/**
 * The people and printers of the scale run (docs/benchmarks.md#scale-run): tenants with an admin
 * and a few users each, and printers enrolled the way a real one is (docs/flows.md#sign-in): the
 * printer asks for a device code, the admin approves it with a name, the printer's poll gets its
 * tokens, and it asks for its AMQP token (which names its topic).
 */

/** Each simulated printer or phone calls from an address of its own (one IPv6 /64 each), as many offices would. */
export const addressOf = (n: number) => `2001:db8:${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}::1`;

export interface Amqp {
  readonly amqpUrl: string;
  /** Present once the API advertises AMQP over WebSockets (issue 20). */
  readonly amqpWebSocketUrl?: string;
  /** Present once the answer names the topic; else read from entityPath. */
  readonly topic: string;
  readonly entityPath: string;
  readonly sasToken: string;
}

export interface ScalePrinter {
  readonly tenant: number;
  readonly deviceId: string;
  readonly access: string;
  readonly address: string;
  readonly amqp: Amqp;
}

export interface ScaleUser {
  readonly tenant: number;
  readonly token: string;
  readonly address: string;
}

export interface ScaleTenant {
  readonly slug: string;
  readonly adminToken: string;
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

export async function call(url: string, init: { method?: string; token?: string; address: string; form?: Record<string, string>; json?: unknown }) {
  const headers: Record<string, string> = { 'x-forwarded-for': init.address };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body: string | undefined;
  if (init.form) {
    Object.assign(headers, FORM);
    body = new URLSearchParams(init.form).toString();
  } else if (init.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const response = await fetch(url, { method: init.method ?? 'POST', headers, body });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

function expectStatus(what: string, response: { status: number; body: Record<string, unknown> }, status = 200) {
  if (response.status !== status) throw new Error(`${what}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
  return response.body;
}

const person = (tenant: number, role: string, i: number): Person => ({
  email: `${role}${i}@scale${tenant}.test`,
  username: `${role}${i}`,
  fullName: `Scale ${role} ${i}`,
  password: `scale-${role}-password-${tenant}-${i}`,
});

/** Tenants, each with its admin signed in and `usersPerTenant` users signed in from the app. */
export async function setUpPeople(url: string, tenants: number, usersPerTenant: number): Promise<{ tenants: ScaleTenant[]; users: ScaleUser[] }> {
  const host = { url } as TestHost; // the helpers need only the URL
  let nextAddress = 1_000_000; // apart from the printers' addresses
  const made = await Promise.all(
    Array.from({ length: tenants }, async (_, t) => {
      const slug = `scale${t}`;
      const admin = person(t, 'admin', 0);
      await createTenant(host, slug, admin);
      const adminToken = (await mobileSignIn(host, slug, admin)).access_token;
      const users: ScaleUser[] = [];
      for (let i = 0; i < usersPerTenant; i++) {
        const user = person(t, 'user', i);
        expectStatus('user', await api(host, adminToken, 'POST', '/api/users', user) as { status: number; body: Record<string, unknown> }, 201);
        users.push({ tenant: t, token: (await mobileSignIn(host, slug, user)).access_token, address: addressOf(nextAddress++) });
      }
      return { tenant: { slug, adminToken }, users };
    }),
  );
  return { tenants: made.map((m) => m.tenant), users: made.flatMap((m) => m.users) };
}

/** The printer's AMQP credentials; `topic` from the answer, or from its entity path until the answer names it. */
export async function amqpToken(url: string, access: string, address: string): Promise<Amqp> {
  const body = expectStatus('amqp-token', await call(`${url}/api/devices/me/amqp-token`, { token: access, address }));
  const entityPath = body.entityPath as string;
  return {
    amqpUrl: body.amqpUrl as string,
    amqpWebSocketUrl: typeof body.amqpWebSocketUrl === 'string' ? body.amqpWebSocketUrl : undefined,
    topic: typeof body.topic === 'string' ? body.topic : entityPath.split('/')[0]!,
    entityPath,
    sasToken: body.sasToken as string,
  };
}

/** Milliseconds spent in each call of the enrollments, summed (the report gives the means). */
export const enrollmentCallMs = { deviceCode: 0, approval: 0, poll: 0, amqpToken: 0 };

/** One printer enrolled end to end: 4 calls (device code, approval, poll, AMQP token). */
async function enrollOne(url: string, tenant: number, admin: ScaleTenant, n: number): Promise<ScalePrinter> {
  const address = addressOf(n);
  let t = performance.now();
  const lap = (call: keyof typeof enrollmentCallMs) => {
    const now = performance.now();
    enrollmentCallMs[call] += now - t;
    t = now;
  };
  const code = expectStatus(
    'device authorization',
    await call(`${url}/oauth/device_authorization`, { address, form: { client_id: 'roger-emb', scope: 'device' } }),
  );
  lap('deviceCode');
  const approved = expectStatus(
    'enrollment approval',
    await call(`${url}/api/device-codes/approve`, {
      token: admin.adminToken,
      address: addressOf(2_000_000 + tenant),
      json: { user_code: code.user_code, name: `Scale MFP ${n}` },
    }),
  );
  lap('approval');
  // The first poll after the approval: no earlier poll, so no slow_down.
  const tokens = expectStatus(
    'enrollment poll',
    await call(`${url}/oauth/token`, {
      address,
      form: { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: 'roger-emb', device_code: code.device_code as string },
    }),
  );
  lap('poll');
  const access = tokens.access_token as string;
  const amqp = await amqpToken(url, access, address);
  lap('amqpToken');
  return { tenant, deviceId: approved.deviceId as string, access, address, amqp };
}

export interface Enrollment {
  readonly printers: ScalePrinter[];
  readonly seconds: number;
  readonly failures: number;
  /** The first few failures, for the report. */
  readonly failureSamples: string[];
}

/**
 * `count` printers spread evenly over the tenants, `perAdmin` enrollments in flight per admin:
 * each approval holds one of its admin's wrong-code slots while it looks the code up
 * (docs/security.md#rate-limits: 10 per 10 minutes), so more than ten at once would be
 * refused as if they were guesses.
 */
export async function enrollPrinters(
  url: string,
  tenants: readonly ScaleTenant[],
  count: number,
  perAdmin: number,
  progress: (done: number) => void,
): Promise<Enrollment> {
  const printers: ScalePrinter[] = [];
  const failureSamples: string[] = [];
  let failures = 0;
  const started = performance.now();
  await Promise.all(
    tenants.map(async (admin, tenant) => {
      // Tenant t enrolls printers t, t + T, t + 2T, ... (T tenants), `perAdmin` at a time.
      let next = tenant;
      await Promise.all(
        Array.from({ length: perAdmin }, async () => {
          for (let n = next; n < count; n = next) {
            next += tenants.length;
            try {
              printers.push(await enrollOne(url, tenant, admin, n));
            } catch (error) {
              failures += 1;
              if (failureSamples.length < 5) failureSamples.push((error as Error).message);
            }
            if ((printers.length + failures) % 500 === 0) progress(printers.length + failures);
          }
        }),
      );
    }),
  );
  return { printers, seconds: (performance.now() - started) / 1000, failures, failureSamples };
}
