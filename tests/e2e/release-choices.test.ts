import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import { approvedSession, enrolledPrinter, freshTenant, individual, uniqueName, type Member } from '../helpers/fixtures.js';
import { consentToOneDrive, queuedOneDriveJob, startHostWithMicrosoft } from '../helpers/onedrive.js';
import { amqpCredentials, printerClient, receiveReleases, type EnrolledPrinter } from '../helpers/printer.js';
import { api, tokenRequest, type Person } from '../helpers/roger.js';
import type { TestHost } from '../helpers/test-host.js';

/**
 * What a release takes (docs/flows.md#choosing-jobs-at-the-printer): the jobs the user chose when
 * approving the session (`jobIds`), and, at the panel with the session's own token, the queued
 * jobs listed, some released and some deleted. And a job whose OneDrive file is gone
 * (deleted in the Graph stand-in's drive, so Graph answers 404) is marked failed with
 * `document-missing` at that release while the others go (docs/flows.md#release-to-printers).
 * What the printer receives is read from its subscription with the real Service Bus SDK.
 */
const admin: Person = { email: 'ada@choose.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-12' };
const user: Person = { email: 'uma@choose.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12' };
const other: Person = { email: 'otto@choose.test', username: 'otto', fullName: 'Otto Other', password: 'otto-password-12' };

let host: TestHost;
let ms: LocalMicrosoft;

beforeAll(async () => {
  ({ ms, host } = await startHostWithMicrosoft());
});
afterAll(() => host?.close());

/** A tenant of the test's own: Ada the admin, Uma and Otto, one printer. */
async function world() {
  const tenant = await freshTenant(host, 'choose', admin, [individual(user), individual(other)]);
  return {
    admin: tenant.admin,
    uma: tenant.users[0]!,
    otto: tenant.users[1]!,
    printer: await enrolledPrinter(host, tenant.admin.token, 'Choosing MFP'),
  };
}

/** A metadata-only job (no OneDrive), queued. */
async function queued(member: Member, fileName: string) {
  const created = await api(host, member.token, 'POST', '/api/jobs', { fileName, size: 1000 });
  expect(created.status).toBe(201);
  expect((await api(host, member.token, 'POST', `/api/jobs/${created.body.id}/ready`)).body.state).toBe('queued');
  return created.body.id as string;
}

/** A OneDrive job: registered, its file uploaded straight to the Print folder, made ready. Returns the job and the file's path in the drive. */
async function queuedInOneDrive(member: Member, fileName: string) {
  const { jobId, name } = await queuedOneDriveJob(host, member.token, fileName, 1500);
  return { jobId, path: `Print/${name}` };
}

/** The job ids the printer finds on its subscription (taken off it). */
async function receivedBy(printer: EnrolledPrinter, count: number): Promise<string[]> {
  const credentials = await amqpCredentials(host, printer.access);
  const client = printerClient(credentials);
  try {
    return (await receiveReleases(client, credentials.entityPath, count, 700)).map((message) => message.body.jobId as string).sort();
  } finally {
    await client.close();
  }
}

const stateOf = async (member: Member, jobId: string) => (await api(host, member.token, 'GET', `/api/jobs/${jobId}`)).body;

/** A printer's session request (RFC 8628 §3.1 with its device token), not yet approved. */
async function sessionCode(printer: EnrolledPrinter, scope = 'session') {
  const response = await fetch(`${host.url}/oauth/device_authorization`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${printer.access}` },
    body: new URLSearchParams({ client_id: 'roger-emb', scope }).toString(),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { user_code: string }).user_code;
}

/**
 * A session at the printer approved from the phone with `jobIds` chosen; the printer's poll
 * (RFC 8628 §3.4) then gets the session token. Returns the approval's release and the token.
 */
async function chosenSession(printer: EnrolledPrinter, member: Member, jobIds: string[]) {
  const response = await fetch(`${host.url}/oauth/device_authorization`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${printer.access}` },
    body: new URLSearchParams({ client_id: 'roger-emb', scope: 'session' }).toString(),
  });
  const authorization = (await response.json()) as { device_code: string; user_code: string };
  const approved = await api(host, member.token, 'POST', '/api/device-codes/approve', { user_code: authorization.user_code, jobIds });
  expect(approved.status, JSON.stringify(approved.body)).toBe(200);
  const tokens = await tokenRequest(host, {
    grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
    client_id: 'roger-emb',
    device_code: authorization.device_code,
  });
  expect(tokens.status).toBe(200);
  return {
    release: approved.body.release as Record<string, number | boolean>,
    token: tokens.body.access_token as string,
    scope: tokens.body.scope as string,
  };
}

describe('choosing jobs at the printer', () => {
  it('a session releases 2 of 3 queued jobs; the third stays queued', async () => {
    const { uma, printer } = await world();
    const [first, second, third] = [await queued(uma, 'One.pdf'), await queued(uma, 'Two.pdf'), await queued(uma, 'Three.pdf')];
    const userCode = await sessionCode(printer);
    const approved = await api(host, uma.token, 'POST', '/api/device-codes/approve', { user_code: userCode, jobIds: [first, third] });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.release).toEqual({ released: 2, queued: 0, dispatched: true });
    expect(await receivedBy(printer, 3)).toEqual([first, third].sort());
    expect((await stateOf(uma, first)).state).toBe('released');
    expect((await stateOf(uma, third)).state).toBe('released');
    expect((await stateOf(uma, second)).state).toBe('queued');
  });

  it('ids that are not the user’s queued jobs are skipped and counted: unknown, another person’s, already released', async () => {
    const { uma, otto, printer } = await world();
    const mine = await queued(uma, 'Mine.pdf');
    const ottos = await queued(otto, 'Ottos.pdf');
    const releasedEarlier = await queued(uma, 'Earlier.pdf');
    expect((await approvedSession(host, printer, uma.token)).release).toEqual({ released: 2, queued: 0, dispatched: true });
    expect(await receivedBy(printer, 2)).toEqual([mine, releasedEarlier].sort());
    const again = await queued(uma, 'Again.pdf');
    const unknown = randomBytes(16).toString('hex');

    const userCode = await sessionCode(printer);
    const approved = await api(host, uma.token, 'POST', '/api/device-codes/approve', {
      user_code: userCode,
      jobIds: [unknown, ottos, releasedEarlier, again],
    });
    expect(approved.body.release).toEqual({ released: 1, queued: 0, dispatched: true, skipped: 3 });
    expect(await receivedBy(printer, 2)).toEqual([again]);
    expect((await stateOf(otto, ottos)).state).toBe('queued');
  });

  it('at the panel with the session token (jobs:release): list the queued jobs, release some, delete some', async () => {
    const { uma, printer } = await world();
    const [a, b, c] = [await queued(uma, 'Panel A.pdf'), await queued(uma, 'Panel B.pdf'), await queued(uma, 'Panel C.pdf')];
    // Approved on the phone with one job chosen; the panel does the rest with the session's own token.
    const session = await chosenSession(printer, uma, [c]);
    expect(session.release).toEqual({ released: 1, queued: 0, dispatched: true });
    expect(session.scope.split(' ')).toEqual(expect.arrayContaining(['jobs:release']));
    expect(session.scope.split(' ')).not.toContain('jobs:submit');

    const listed = await api(host, session.token, 'GET', '/api/jobs?state=queued');
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((job: { id: string }) => job.id).sort()).toEqual([a, b].sort());
    const releasedOne = await api(host, session.token, 'POST', `/api/jobs/${a}/release`);
    expect(releasedOne.status).toBe(200);
    expect(releasedOne.body.state).toBe('released');
    expect((await api(host, session.token, 'DELETE', `/api/jobs/${b}`)).status).toBe(204);
    expect((await api(host, session.token, 'GET', '/api/jobs?state=queued')).body.items).toEqual([]);
    expect(await receivedBy(printer, 3)).toEqual([a, c].sort());
    expect((await stateOf(uma, b)).state).toBe('cancelled');
  });

  it('jobIds must be 1 to 100 unique job ids, and only for a session at a printer (400, nothing answered)', async () => {
    const { admin, uma, printer } = await world();
    const id = () => randomBytes(16).toString('hex');
    const userCode = await sessionCode(printer);
    const refused = async (jobIds: unknown, code = userCode, token = uma.token) => {
      const response = await api(host, token, 'POST', '/api/device-codes/approve', { user_code: code, jobIds });
      expect(response.status, JSON.stringify(jobIds)).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.body.errors.map((error: { pointer: string }) => error.pointer)).toEqual([expect.stringMatching(/^\/body\/jobIds/)]);
    };
    await refused([]);
    await refused(Array.from({ length: 101 }, id));
    const twice = id();
    await refused([twice, twice]);
    await refused(['not-a-job-id']);
    await refused(id());
    // A printer asking to be enrolled releases no jobs: 400, and the code is still there to answer.
    const enrollment = await sessionCode(printer, 'device');
    await refused([id()], enrollment, admin.token);
    const enrolled = await api(host, admin.token, 'POST', '/api/device-codes/approve', { user_code: enrollment, name: 'Second MFP' });
    expect(enrolled.status).toBe(200);
    // The session's code, refused for its body, is still pending: approved now with a valid choice.
    const approved = await api(host, uma.token, 'POST', '/api/device-codes/approve', { user_code: userCode, jobIds: [id()] });
    expect(approved.body.release).toEqual({ released: 0, queued: 0, dispatched: true, skipped: 1 });
  });
});

describe('a document gone from OneDrive', () => {
  it('is marked failed (document-missing) at the release that finds it gone; the others go; later sessions leave it', async () => {
    const { uma, printer } = await world();
    const plain = await queued(uma, 'Plain.pdf'); // queued before OneDrive was connected: metadata only
    const upn = `${uniqueName('uma')}@contoso.example`;
    const { callbackUrl } = await consentToOneDrive(host, ms, uma.token, upn);
    expect((await fetch(callbackUrl, { redirect: 'manual' })).status).toBe(200);
    const kept = await queuedInOneDrive(uma, 'Kept.pdf');
    const gone = await queuedInOneDrive(uma, 'Gone.pdf');
    ms.removeItem(upn, gone.path); // the user deleted it in OneDrive

    const session = await approvedSession(host, printer, uma.token);
    expect(session.release).toEqual({ released: 2, queued: 0, dispatched: true, failed: 1 });
    expect(await receivedBy(printer, 3)).toEqual([kept.jobId, plain].sort());
    expect(await stateOf(uma, gone.jobId)).toMatchObject({ state: 'failed', failedReason: 'document-missing' });

    // The next session does not try it again (a failed job goes only when its owner asks).
    expect((await approvedSession(host, printer, uma.token)).release).toEqual({ released: 0, queued: 0, dispatched: true });
    // Asked for on its own, it is found gone again: 409 saying so, still failed, nothing sent.
    const again = await api(host, session.token, 'POST', `/api/jobs/${gone.jobId}/release`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ failedReason: 'document-missing', state: 'failed' });
    expect(await receivedBy(printer, 1)).toEqual([]);
    // Its owner can still cancel it.
    expect((await api(host, uma.token, 'DELETE', `/api/jobs/${gone.jobId}`)).status).toBe(204);
  });
});
