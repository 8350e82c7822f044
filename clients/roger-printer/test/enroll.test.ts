import { readFile, stat } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { enrolledPrinter, freshTenant } from '../../../tests/helpers/fixtures.js';
import { api, type Person } from '../../../tests/helpers/roger.js';
import type { TestHost } from '../../../tests/helpers/test-host.js';
import { agentsOnTestHost, startArgs, writeEnrolledState } from './panel-process.js';

/**
 * Enrollment as docs/clients.md#roger-printer tells it: the real program shows a QR code and a
 * user code, an admin approves it through the API, and the state file (0600) says which printer
 * it became. A restart with that file goes straight to work.
 */
const admin: Person = { email: 'ops@enroll.test', username: 'ops', fullName: 'Olga Ops', password: 'ops-password-12' };

describe('roger-printer enrollment', () => {
  const agents = agentsOnTestHost({ ROGER_CONFIG_DIR: '/nonexistent-roger-config' });
  const { start, folder } = agents;
  let host: TestHost;
  beforeAll(() => {
    host = agents.host;
  });

  /** Runs `start` until an admin of a new tenant has approved it; the agent, its folder and the approval's device id. */
  async function enrolledAgent() {
    const tenant = await freshTenant(host, 'enroll', admin);
    const work = await folder();
    const agent = start(startArgs(host, work, '--name', 'Lobby MFP'));
    const [, userCode] = await agent.waitFor(/user code: ([A-Z]{4}-[A-Z]{4})\n/);
    const [, link] = await agent.waitFor(/open: (\S+)\n/);
    const approved = await api(host, tenant.admin.token, 'POST', '/api/device-codes/approve', { user_code: userCode, name: 'Lobby MFP' });
    expect(approved.status).toBe(200);
    const [, deviceId] = await agent.waitFor(/enrolled: printer (\S+)\n/);
    return { agent, work, tenant, userCode: userCode!, link: link!, deviceId: deviceId!, approvedId: approved.body.deviceId as string };
  }

  it('shows a QR code and the user code; once an admin approves, the state file (0600) names the printer', async () => {
    const { agent, work, userCode, link, deviceId, approvedId } = await enrolledAgent();
    expect(deviceId).toBe(approvedId);
    // The QR code: rows of half-block characters before the code, of the approval link.
    const beforeCode = agent.stdout.slice(0, agent.stdout.indexOf('user code:'));
    const rows = beforeCode.split('\n').filter((row) => /^[▀▄█ ]{21,}$/.test(row));
    expect(rows.length).toBeGreaterThan(10);
    expect(link).toContain(encodeURIComponent(userCode).replace('%2D', '-'));
    expect(new URL(link).origin).toBe(host.url);

    expect((await stat(work.state)).mode & 0o777).toBe(0o600);
    const state = JSON.parse(await readFile(work.state, 'utf8'));
    expect(state).toEqual({
      apiUrl: host.url,
      deviceId,
      refreshToken: expect.any(String),
      name: 'Lobby MFP',
      enrolledAt: expect.any(String),
    });
    // No access token at rest, and none on the screen.
    expect(JSON.stringify(state)).not.toMatch(/eyJ/);
    expect(agent.stdout + agent.stderr).not.toMatch(/eyJ|refresh/i);
    expect(await agent.quit()).toBe(0);
  });

  it('a restart with the state file does not enroll again: it refreshes its token and goes to work', async () => {
    const { agent, work, deviceId } = await enrolledAgent();
    expect(await agent.quit()).toBe(0);
    const before = JSON.parse(await readFile(work.state, 'utf8'));

    const again = start(startArgs(host, work));
    await again.waitFor(new RegExp(`connected: printer ${deviceId}\\n`));
    expect(again.stdout).not.toContain('user code');
    const after = JSON.parse(await readFile(work.state, 'utf8'));
    expect(after).toEqual({ ...before, refreshToken: expect.any(String) });
    expect(after.refreshToken).not.toBe(before.refreshToken); // rotated, and saved at once
    again.type('status');
    await again.waitFor(new RegExp(`printer ${deviceId} \\(Lobby MFP\\); api ${host.url}; receiver [^;]+; sessions 0\\n`));
    expect(await again.quit()).toBe(0);
  });

  it('a code that expires unanswered is replaced by a new one, and the new one enrolls', async () => {
    const tenant = await freshTenant(host, 'enroll', admin);
    const work = await folder();
    const agent = start(startArgs(host, work));
    const [, first] = await agent.waitFor(/user code: ([A-Z]{4}-[A-Z]{4})\n/);
    host.advanceClock(11 * 60); // past the enrollment code's 10 minutes
    await agent.waitFor(/the code expired before anyone approved it; here is a new one\n/);
    const [, second] = await agent.waitFor(/user code: ([A-Z]{4}-[A-Z]{4})\n/);
    expect(second).not.toBe(first);
    const approved = await api(host, tenant.admin.token, 'POST', '/api/device-codes/approve', { user_code: second, name: 'Patient MFP' });
    expect(approved.status).toBe(200);
    await agent.waitFor(new RegExp(`enrolled: printer ${approved.body.deviceId}\n`));
    expect(await agent.quit()).toBe(0);
  });

  it('an enrollment the admin denies ends with exit code 1 and says so; `enroll` then enrolls it', async () => {
    const tenant = await freshTenant(host, 'enroll', admin);
    const work = await folder();
    const agent = start(startArgs(host, work));
    const [, code] = await agent.waitFor(/user code: ([A-Z]{4}-[A-Z]{4})\n/);
    expect((await api(host, tenant.admin.token, 'POST', '/api/device-codes/deny', { user_code: code })).status).toBe(204);
    expect(await agent.exited).toBe(1);
    expect(agent.stderr).toMatch(/^roger-printer: an admin denied this enrollment: start again to show a new code\n/);

    const enroll = start(['enroll', '--api', host.url, '--state', work.state]);
    const [, again] = await enroll.waitFor(/user code: ([A-Z]{4}-[A-Z]{4})\n/);
    const approved = await api(host, tenant.admin.token, 'POST', '/api/device-codes/approve', { user_code: again, name: 'Second try' });
    expect(await enroll.exited).toBe(0);
    expect(enroll.stdout).toContain(`enrolled: printer ${approved.body.deviceId}\n`);
    expect(JSON.parse(await readFile(work.state, 'utf8')).deviceId).toBe(approved.body.deviceId);
  });

  it('a state file for another API is refused rather than used', async () => {
    const tenant = await freshTenant(host, 'enroll', admin);
    const work = await folder();
    await writeEnrolledState(host, work.state, await enrolledPrinter(host, tenant.admin.token, 'Elsewhere'));
    const elsewhere = start(['start', '--api', 'http://localhost:9', '--state', work.state, '--output', work.output]);
    expect(await elsewhere.exited).toBe(1);
    expect(elsewhere.stderr).toMatch(/^roger-printer: http:\/\/localhost:9 is not where this printer is enrolled/);
  });

  it('without --api or --discovery it says where to point it', async () => {
    const work = await folder();
    const agent = start(['start', '--state', work.state]);
    expect(await agent.exited).toBe(1);
    expect(agent.stderr).toMatch(/say where Roger is: --api <url>/);
  });
});
