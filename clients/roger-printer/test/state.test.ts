import { chmod, readFile, writeFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { enrolledPrinter, freshTenant } from '../../../tests/helpers/fixtures.js';
import { api, tokenRequest, type Person } from '../../../tests/helpers/roger.js';
import { freePort, type TestHost } from '../../../tests/helpers/test-host.js';
import { agentsOnTestHost, startArgs, writeEnrolledState } from './panel-process.js';

/**
 * The printer's state and device token (docs/clients.md#roger-printer): the sliding refresh
 * keeps it connected and each rotated refresh token is saved at once; a printer whose
 * enrollment ended stops with exit code 2 and says why.
 */
const admin: Person = { email: 'ops@state.test', username: 'ops', fullName: 'Olga Ops', password: 'ops-password-12' };

describe('roger-printer state and device token', () => {
  const agents = agentsOnTestHost();
  const { start, folder } = agents;
  let host: TestHost;
  beforeAll(() => {
    host = agents.host;
  });

  /** A printer enrolled in a tenant of its own, its state file written, and the agent not yet started. */
  async function enrolled() {
    const tenant = await freshTenant(host, 'state', admin);
    const printer = await enrolledPrinter(host, tenant.admin.token, 'Hall MFP');
    const work = await folder();
    await writeEnrolledState(host, work.state, printer);
    return { tenant, printer, work };
  }

  const refreshTokenIn = async (path: string) => JSON.parse(await readFile(path, 'utf8')).refreshToken as string;

  it('when the server’s clock passes the access token’s life, the agent refreshes and the state holds the rotated refresh token', async () => {
    const { printer, work } = await enrolled();
    const agent = start(startArgs(host, work));
    await agent.waitFor(new RegExp(`connected: printer ${printer.deviceId}\\n`));
    const atStart = await refreshTokenIn(work.state);
    expect(atStart).not.toBe(printer.refresh); // the start itself refreshed, and saved

    host.advanceClock(21 * 60); // the 20-minute access token is dead on the server's clock, not on ours
    agent.type('qr'); // the panel's next use of the printer's token
    await agent.waitFor(/session code: [A-Z]{4}-[A-Z]{4}\n/);
    const afterRefresh = await refreshTokenIn(work.state);
    expect(afterRefresh).not.toBe(atStart);
    // The rotation happened on the server: the token before it is spent. (Asking with a spent
    // token revokes the printer's tokens, so this comes last.)
    const spent = await tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-emb', refresh_token: atStart });
    expect(spent.status).toBe(400);
    expect(await agent.quit()).toBe(0);
  });

  it('a printer disconnected by an admin while it was off exits with code 2 and says why', async () => {
    const { tenant, printer, work } = await enrolled();
    expect((await api(host, tenant.admin.token, 'DELETE', `/api/devices/${printer.deviceId}`)).status).toBe(204);
    const agent = start(startArgs(host, work));
    expect(await agent.exited).toBe(2);
    expect(agent.stderr).toMatch(
      /^disconnected: this printer is no longer connected to Roger: .+\. Enroll it again with `roger-printer enroll`\n/m,
    );
    expect(agent.stdout).not.toContain('connected: printer');
  });

  it('a printer disconnected while it runs stops with code 2 at the next use of its token', async () => {
    const { tenant, printer, work } = await enrolled();
    const agent = start(startArgs(host, work));
    await agent.waitFor(/connected: printer/);
    expect((await api(host, tenant.admin.token, 'DELETE', `/api/devices/${printer.deviceId}`)).status).toBe(204);
    agent.type('pin someone');
    agent.type('1234');
    const code = await agent.exited;
    // What it said, should it stop otherwise (seen once in CI under load: code 1).
    expect(code, `stderr:\n${agent.stderr}`).toBe(2);
    expect(agent.stderr).toMatch(/^disconnected: this printer is no longer connected to Roger/m);
  });

  it('a printer disconnected by an admin while it waits for releases, nobody at the panel: it says why and exits 2 within seconds', async () => {
    const { tenant, printer, work } = await enrolled();
    const agent = start(startArgs(host, work));
    await agent.waitFor(/ready: receiving releases\n/);
    const started = Date.now();
    expect((await api(host, tenant.admin.token, 'DELETE', `/api/devices/${printer.deviceId}`)).status).toBe(204);
    // Only the receiver notices (its subscription is deleted with the printer), then a refresh confirms it.
    const code = await Promise.race([agent.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 10_000))]);
    expect(code).toBe(2);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(agent.stderr).toMatch(
      /^disconnected: this printer is no longer connected to Roger: .+\. Enroll it again with `roger-printer enroll`\n/m,
    );
    expect(agent.stderr.match(/^disconnected: /gm)).toHaveLength(1);
    expect(agent.stdout + agent.stderr).not.toMatch(/eyJ|SharedAccessSignature|sig=/);
  });

  it('while the API cannot be reached at start it keeps trying, says so, and still stops cleanly', async () => {
    const { printer, work } = await enrolled();
    const nobody = await freePort(); // free: nothing listens there
    await writeEnrolledState({ url: `http://127.0.0.1:${nobody}` } as TestHost, work.state, printer);
    const agent = start(startArgs(host, work).filter((arg) => arg !== '--api' && arg !== host.url));
    const refusals = new RegExp(
      String.raw`token refresh failed for now \(cannot reach Roger \(connect ECONNREFUSED 127\.0\.0\.1:${nobody}\)\); again in \d+ ms\n`,
      'g',
    );
    await expect.poll(() => agent.stderr.match(refusals)?.length ?? 0, { timeout: 10_000 }).toBeGreaterThan(2);
    expect(agent.child.exitCode).toBeNull();
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });

  it('a state file others can read is refused, and so is one that is not a state file', async () => {
    const { work } = await enrolled();
    await chmod(work.state, 0o644);
    const open = start(startArgs(host, work));
    expect(await open.exited).toBe(1);
    expect(open.stderr).toMatch(/can be read by other users \(mode 644\): delete it/);

    await writeFile(work.state, '{"hello":"world"}\n', { mode: 0o600 });
    await chmod(work.state, 0o600);
    const wrong = start(startArgs(host, work));
    expect(await wrong.exited).toBe(1);
    expect(wrong.stderr).toMatch(/is not a roger-printer state file: delete it to enroll again/);
  });

  it('a ledger of printed jobs that cannot be read stops the start with exit code 1, naming the file and what to do', async () => {
    const { work } = await enrolled();
    const ledger = work.state.replace(/\.json$/, '-printed.json');
    await writeFile(ledger, '{"version":1,"entries":[', { mode: 0o600 });
    const agent = start(startArgs(host, work));
    expect(await agent.exited).toBe(1);
    expect(agent.stderr).toMatch(
      /^roger-printer: \S+state-printed\.json cannot be used as the list of jobs this printer printed \(.+\): move it away to start an empty one\n$/,
    );
    expect(await readFile(ledger, 'utf8')).toBe('{"version":1,"entries":['); // left for the person to look at
  });

  it('`status` reads the state file without calling Roger', async () => {
    const { printer, work } = await enrolled();
    const status = start(['status', '--state', work.state]);
    expect(await status.exited).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^enrolled: printer ${printer.deviceId} at ${host.url} since \\S+\\n$`));
    const none = start(['status', '--state', `${work.dir}/none.json`]);
    expect(await none.exited).toBe(3);
    expect(none.stdout).toMatch(/^not enrolled/);
  });
});
