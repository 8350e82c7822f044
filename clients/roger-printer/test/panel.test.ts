import { beforeAll, describe, expect, it } from 'vitest';
import { enrolledPrinter, freshTenant } from '../../../tests/helpers/fixtures.js';
import { api, type Person } from '../../../tests/helpers/roger.js';
import type { TestHost } from '../../../tests/helpers/test-host.js';
import { agentsOnTestHost, startArgs, writeEnrolledState } from './panel-process.js';

/**
 * The panel (docs/clients.md#roger-printer), typed on the real program's stdin: a session QR
 * approved by the person from the app, a PIN sign-in right and wrong, and a release of the
 * person's queued jobs.
 */
const admin: Person = { email: 'ops@panel.test', username: 'ops', fullName: 'Olga Ops', password: 'ops-password-12' };
const uma: Person = { email: 'uma@panel.test', username: 'uma', fullName: 'Uma User', password: 'uma-password-12', pin: '5150' };

describe('roger-printer panel', () => {
  const agents = agentsOnTestHost();
  const { start, folder } = agents;
  let host: TestHost;
  beforeAll(() => {
    host = agents.host;
  });

  /**
   * A tenant of its own, a printer enrolled there, and the agent started for it. The person at the
   * panel is its admin, or Uma (who has a PIN) for the PIN test: one password hashed, not three.
   */
  async function panel(withPin = false) {
    const tenant = await freshTenant(host, 'panel', admin, withPin ? [uma] : []);
    const person = withPin ? tenant.users[0]! : tenant.admin;
    const printer = await enrolledPrinter(host, tenant.admin.token, 'Floor 2');
    const work = await folder();
    await writeEnrolledState(host, work.state, printer);
    const agent = start(startArgs(host, work));
    await agent.waitFor(/connected: printer/);
    return { agent, printer, user: person, username: person.person.username };
  }

  async function queuedJob(userToken: string, fileName: string) {
    const created = await api(host, userToken, 'POST', '/api/jobs', { fileName, size: 2048, options: { copies: 1 } });
    expect(created.status).toBe(201);
    expect((await api(host, userToken, 'POST', `/api/jobs/${created.body.id}/ready`)).body.state).toBe('queued');
    return created.body.id as string;
  }

  it('qr: a session code the person approves from the app signs them in, and their queued jobs go to this printer', async () => {
    const { agent, printer, user } = await panel();
    const jobId = await queuedJob(user.token, 'Minutes.pdf');
    agent.type('qr');
    const [, code] = await agent.waitFor(/session code: ([A-Z]{4}-[A-Z]{4})\n/);
    const [, link] = await agent.waitFor(/open: (\S+)\n/);
    expect(link).toContain(host.url);
    const shown = await api(host, user.token, 'GET', `/api/device-codes/${code}`);
    expect(shown.body).toMatchObject({ scope: 'session', printer: { id: printer.deviceId, name: 'Floor 2' } });
    const approved = await api(host, user.token, 'POST', '/api/device-codes/approve', { user_code: code });
    expect(approved.status).toBe(200);
    await agent.waitFor(/signed in: session (\S+)\n/);
    expect((await api(host, user.token, 'GET', `/api/jobs/${jobId}`)).body).toMatchObject({ releasedTo: printer.deviceId });
    agent.type('status');
    await agent.waitFor(/; sessions 1\n/);
    expect(await agent.quit()).toBe(0);
  });

  it('qr: a denied session code says so', async () => {
    const { agent, user } = await panel();
    agent.type('qr');
    const [, code] = await agent.waitFor(/session code: ([A-Z]{4}-[A-Z]{4})\n/);
    expect((await api(host, user.token, 'POST', '/api/device-codes/deny', { user_code: code })).status).toBe(204);
    await agent.waitFor(/sign-in refused: the request was denied\n/);
    expect(await agent.quit()).toBe(0);
  });

  it('pin: the right PIN signs the person in and release sends their queued jobs; a wrong PIN is refused', async () => {
    const { agent, printer, user, username } = await panel(true);
    const jobIds = [await queuedJob(user.token, 'One.pdf'), await queuedJob(user.token, 'Two.pdf')];

    agent.type('release');
    await agent.waitFor(/release: sign in first \(qr, pin or badge\)\n/);

    agent.type(`pin ${username}`);
    await agent.waitFor(/PIN: \n/);
    agent.type('0000');
    await agent.waitFor(/sign-in refused: wrong username or password, or the account is locked\n/);

    agent.type(`pin ${username}`);
    await agent.waitFor(/PIN: \n/);
    agent.type(uma.pin!);
    await agent.waitFor(/signed in: session (\S+)\n/);
    // A PIN session releases nothing by itself.
    for (const id of jobIds) expect((await api(host, user.token, 'GET', `/api/jobs/${id}`)).body.state).toBe('queued');

    agent.type('release');
    await agent.waitFor(/released 2\n/);
    for (const id of jobIds) {
      expect((await api(host, user.token, 'GET', `/api/jobs/${id}`)).body).toMatchObject({ releasedTo: printer.deviceId });
    }
    // Nothing the person typed as a PIN, and no token, reaches the terminal.
    expect(agent.stdout + agent.stderr).not.toMatch(/5150|0000|eyJ/);
    expect(await agent.quit()).toBe(0);
  });

  it('unknown commands get the list of commands, without repeating what was typed; the end of stdin does not stop the printer', async () => {
    const { agent } = await panel();
    agent.type('print everything');
    await agent.waitFor(
      /unknown command: commands: qr \| pin <username> \| badge \| pin-only \| release \[JOB-ID...\] \| register badge \[LABEL\] \| status \| quit\n/,
    );
    // A bare `pin` asks for the username; a PIN typed next anyway is not a command, and is not printed.
    agent.type('pin');
    await agent.waitFor(/usage: pin <username>\n/);
    agent.type('7391');
    await agent.waitFor(/unknown command: /);
    expect(agent.stdout + agent.stderr).not.toMatch(/7391|print everything/);
    agent.child.stdin.end();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(agent.child.exitCode).toBeNull();
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });
});
