import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJob, type JobDoc, type JobOptions } from '../../shared/jobs/jobs.js';
import type { Services } from '../../shared/services.js';
import type { PrintRightsPolicy } from '../../shared/tenants/policy.js';
import { approvedSession, enrolledPrinter, freshTenant, individual, type Member } from '../helpers/fixtures.js';
import { amqpCredentials, printerClient, receiveReleases, type EnrolledPrinter } from '../helpers/printer.js';
import { api, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Print rights at release (docs/flows.md#print-rights), end to end: the tenant's policy set by
 * its admin through the API, jobs submitted and released in sessions approved from the phone,
 * and what the printer receives read from its own subscription with the real Service Bus SDK
 * and only its SAS token. A job that breaks a right is downgraded (the printer gets the
 * effective options, the job records them) or held (not sent, queued with the reason), by policy.
 */
const admin: Person = { email: 'ops@rights.test', username: 'ops', fullName: 'Olga Ops', password: 'ops-password-12' };
const user: Person = { email: 'uma@rights.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12' };

const colour: Partial<JobOptions> = { color: true, duplex: true, copies: 1 };
const mono: Partial<JobOptions> = { color: false, duplex: true, copies: 1 };

let host: TestHost;
let services: Services;

beforeAll(async () => {
  host = await startTestHost({ env: oauthEnv });
  services = await host.services();
});
afterAll(() => host?.close());

/** A tenant of the test's own: Olga the admin, Uma a user, one printer, and the print rights given (set by Olga). */
async function world(printRights?: (uma: Member) => PrintRightsPolicy) {
  const tenant = await freshTenant(host, 'rights', admin, [individual(user)]);
  const uma = tenant.users[0]!;
  const printer = await enrolledPrinter(host, tenant.admin.token, 'Rights MFP');
  const setRights = async (rights: PrintRightsPolicy) => {
    const changed = await api(host, tenant.admin.token, 'PATCH', '/api/tenant', { policy: { printRights: rights } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
  };
  if (printRights) await setRights(printRights(uma));
  return { tenant, uma, olga: tenant.admin, printer, setRights };
}

async function queued(member: Member, fileName: string, options: Partial<JobOptions>) {
  const created = await api(host, member.token, 'POST', '/api/jobs', { fileName, size: 2048, options });
  expect(created.status).toBe(201);
  expect((await api(host, member.token, 'POST', `/api/jobs/${created.body.id}/ready`)).body.state).toBe('queued');
  return created.body.id as string;
}

/** What the printer receives: the release messages on its subscription, by job id. */
async function receivedBy(printer: EnrolledPrinter, atMost: number) {
  const credentials = await amqpCredentials(host, printer.access);
  const client = printerClient(credentials);
  try {
    const messages = await receiveReleases(client, credentials.entityPath, atMost, 700);
    return new Map(messages.map((message) => [message.body.jobId as string, message.body as { options: JobOptions }]));
  } finally {
    await client.close();
  }
}

const jobOf = async (tenantId: string, member: Member, jobId: string): Promise<JobDoc> =>
  (await readJob(services.store, tenantId, member.id, jobId, services.now()))!;

describe('print rights at release', () => {
  it('downgrade: a colour job by a user without colour rights prints mono; the printer receives color:false and the job records it', async () => {
    const { tenant, uma, olga, printer } = await world(() => ({ onViolation: 'downgrade', roles: { user: { color: false } } }));
    const colourJob = await queued(uma, 'Poster.pdf', colour);
    const monoJob = await queued(uma, 'Memo.pdf', mono);

    const session = await approvedSession(host, printer, uma.token);
    expect(session.release).toEqual({ released: 2, queued: 0, dispatched: true });
    const received = await receivedBy(printer, 2);
    expect(received.size).toBe(2);
    expect(received.get(colourJob)?.options).toEqual({ copies: 1, duplex: true, color: false, paperSize: 'A4' });
    expect(received.get(monoJob)?.options).toEqual({ copies: 1, duplex: true, color: false, paperSize: 'A4' });

    // The job keeps what was asked, and says what was sent; a job sent as asked says nothing more.
    const shown = (await api(host, uma.token, 'GET', `/api/jobs/${colourJob}`)).body;
    expect(shown).toMatchObject({ state: 'released', options: { color: true }, releasedOptions: { color: false } });
    expect((await api(host, uma.token, 'GET', `/api/jobs/${monoJob}`)).body).not.toHaveProperty('releasedOptions');

    // The admin's role has no limits: Olga's colour job goes in colour.
    const olgasJob = await queued(olga, 'Brochure.pdf', colour);
    expect((await approvedSession(host, printer, olga.token)).release).toEqual({ released: 1, queued: 0, dispatched: true });
    expect((await receivedBy(printer, 1)).get(olgasJob)?.options).toMatchObject({ color: true });
    expect(await jobOf(tenant.id, olga, olgasJob)).not.toHaveProperty('releasedOptions');
  });

  it('hold: the colour job is not sent and stays queued with its reason (written once); the others go; allowed later, it goes and the hold ends', async () => {
    const { tenant, uma, printer, setRights } = await world(() => ({ onViolation: 'hold', roles: { user: { color: false } } }));
    const colourJob = await queued(uma, 'Poster.pdf', colour);
    const monoJob = await queued(uma, 'Memo.pdf', mono);

    const first = await approvedSession(host, printer, uma.token);
    expect(first.release).toEqual({ released: 1, queued: 1, dispatched: true, held: 1 });
    const received = await receivedBy(printer, 2);
    expect([...received.keys()]).toEqual([monoJob]);
    const held = (await api(host, uma.token, 'GET', `/api/jobs/${colourJob}`)).body;
    expect(held).toMatchObject({ state: 'queued', heldReason: 'color-not-allowed' });

    // At the next session it is held again, without another write.
    const etag = (await jobOf(tenant.id, uma, colourJob))._etag;
    expect((await approvedSession(host, printer, uma.token)).release).toEqual({ released: 0, queued: 1, dispatched: true, held: 1 });
    expect((await jobOf(tenant.id, uma, colourJob))._etag).toBe(etag);
    expect((await receivedBy(printer, 1)).size).toBe(0);

    // Released on its own from the panel: 409 with the reason, still queued.
    const panel = await approvedSession(host, printer, uma.token);
    const refused = await api(host, panel.token, 'POST', `/api/jobs/${colourJob}/release`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ heldReason: 'color-not-allowed', state: 'queued' });

    // The admin gives Uma colour (her own entry over her role's): the next session prints it in colour.
    await setRights({ onViolation: 'hold', roles: { user: { color: false } }, users: { [uma.id]: { color: true } } });
    expect((await approvedSession(host, printer, uma.token)).release).toEqual({ released: 1, queued: 0, dispatched: true });
    expect((await receivedBy(printer, 1)).get(colourJob)?.options).toMatchObject({ color: true });
    const released = (await api(host, uma.token, 'GET', `/api/jobs/${colourJob}`)).body;
    expect(released.state).toBe('released');
    expect(released).not.toHaveProperty('heldReason');
    expect(released).not.toHaveProperty('releasedOptions');
  });

  it('forced duplex and maximum copies: downgraded to both sides and the cap, or held with their reasons', async () => {
    const rights = { duplexForced: true, maxCopies: 2 };
    const { uma, printer, setRights } = await world(() => ({ onViolation: 'downgrade', roles: { user: rights } }));
    const simplex = await queued(uma, 'One side.pdf', { duplex: false, copies: 1 });
    const many = await queued(uma, 'Handout.pdf', { duplex: true, copies: 30 });
    expect((await approvedSession(host, printer, uma.token)).release).toEqual({ released: 2, queued: 0, dispatched: true });
    const received = await receivedBy(printer, 2);
    expect(received.get(simplex)?.options).toMatchObject({ duplex: true, copies: 1 });
    expect(received.get(many)?.options).toMatchObject({ duplex: true, copies: 2 });
    expect((await api(host, uma.token, 'GET', `/api/jobs/${many}`)).body).toMatchObject({
      options: { copies: 30 },
      releasedOptions: { copies: 2 },
    });

    await setRights({ onViolation: 'hold', roles: { user: rights } });
    const simplexHeld = await queued(uma, 'One side again.pdf', { duplex: false, copies: 1 });
    const manyHeld = await queued(uma, 'Handout again.pdf', { duplex: true, copies: 3 });
    expect((await approvedSession(host, printer, uma.token)).release).toEqual({ released: 0, queued: 2, dispatched: true, held: 2 });
    expect((await receivedBy(printer, 1)).size).toBe(0);
    expect((await api(host, uma.token, 'GET', `/api/jobs/${simplexHeld}`)).body.heldReason).toBe('duplex-required');
    expect((await api(host, uma.token, 'GET', `/api/jobs/${manyHeld}`)).body.heldReason).toBe('too-many-copies');
  });

  it('a per-user entry overrides the role, field by field', async () => {
    const { uma, printer } = await world((member) => ({
      onViolation: 'downgrade',
      roles: { user: { color: false, maxCopies: 1 } },
      users: { [member.id]: { color: true } },
    }));
    const job = await queued(uma, 'Photos.pdf', { color: true, copies: 4 });
    expect((await approvedSession(host, printer, uma.token)).release).toEqual({ released: 1, queued: 0, dispatched: true });
    // Colour from her own entry; the copies cap still from her role.
    expect((await receivedBy(printer, 1)).get(job)?.options).toMatchObject({ color: true, copies: 1 });
  });

  it('a person’s own entry is in their export and leaves with their erasure; the role’s rights stay', async () => {
    const { uma, olga } = await world((member) => ({
      onViolation: 'hold',
      roles: { user: { color: false } },
      users: { [member.id]: { color: true, maxCopies: 5 } },
    }));
    const exported = await api(host, olga.token, 'GET', `/api/users/${uma.id}/export`);
    expect(exported.body.printRights).toEqual({ color: true, maxCopies: 5 });
    expect((await api(host, olga.token, 'DELETE', `/api/users/${uma.id}`)).status).toBe(204);
    const policy = (await api(host, olga.token, 'GET', '/api/tenant')).body.policy;
    expect(policy.printRights).toEqual({ onViolation: 'hold', roles: { user: { color: false } }, users: {} });
    expect(JSON.stringify(policy)).not.toContain(uma.id);
  });

  it('a policy without print rights changes nothing: the printer gets the options as asked', async () => {
    const { uma, printer } = await world();
    const job = await queued(uma, 'As asked.pdf', { color: true, duplex: false, copies: 7 });
    expect((await approvedSession(host, printer, uma.token)).release).toEqual({ released: 1, queued: 0, dispatched: true });
    expect((await receivedBy(printer, 1)).get(job)?.options).toEqual({ color: true, duplex: false, copies: 7, paperSize: 'A4' });
  });
});
