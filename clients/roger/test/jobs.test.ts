import { createServer, type Server, type Socket, connect } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { writeSecretFile } from '@roger-cloud/client-kit/secret-file';
import { approvedSession, enrolledPrinter, freshTenant, individual, type FreshTenant } from '../../../tests/helpers/fixtures.js';
import { api, oauthEnv, type Person } from '../../../tests/helpers/roger.js';
import { freePort, startTestHost, type TestHost } from '../../../tests/helpers/test-host.js';
import type { SavedLogin } from '../src/credentials.js';
import { configHome, runRoger, startRoger } from './login-world.js';

/**
 * `roger jobs`, `roger cancel` and `roger watch` (docs/clients.md#following-jobs), the built
 * program against jobs made through the API as any client makes them: metadata-only jobs
 * (no OneDrive) registered and marked ready, released to a printer by an approved session, and
 * reported printed or failed by that printer.
 */
const bob: Person = { email: 'bob@contoso.test', username: 'bob', fullName: 'Bob User', password: 'bob-password-1' };

describe('roger jobs, cancel and watch', () => {
  let host: TestHost;
  const homes: { remove(): Promise<void> }[] = [];

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
  });
  afterEach(async () => {
    await Promise.all(homes.splice(0).map((home) => home.remove()));
  });
  afterAll(async () => {
    await host?.close();
  });

  /**
   * A tenant of Bob's own (its admin: one password to hash, not two), so each test sees only its
   * own jobs, and Bob signed in to roger: the credentials file written as `roger login` writes it
   * (login.test.ts proves the sign-in itself), holding the token his phone got.
   */
  async function world(): Promise<{ tenant: FreshTenant; dir: string; token: string }> {
    const tenant = await freshTenant(host, 'rjobs', individual(bob));
    const home = await configHome();
    homes.push(home);
    const { token, refresh } = tenant.admin;
    const expiresAt = (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
    const login: SavedLogin = {
      apiUrl: host.url,
      accessToken: token,
      refreshToken: refresh,
      expiresAt: new Date(expiresAt * 1000).toISOString(),
    };
    await writeSecretFile(join(home.dir, 'credentials.json'), login);
    return { tenant, dir: home.dir, token };
  }

  async function job(token: string, fileName: string, ready = true) {
    const created = await api(host, token, 'POST', '/api/jobs', { fileName, size: 1234, options: { copies: 2 } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    if (ready) expect((await api(host, token, 'POST', `/api/jobs/${created.body.id}/ready`)).body.state).toBe('queued');
    return created.body as { id: string; createdAt: string };
  }

  /** A printer of the tenant, and a session there approved by Bob: his queued jobs are released to it. */
  async function releaseAtPrinter(tenant: FreshTenant, token: string) {
    const printer = await enrolledPrinter(host, tenant.admin.token, 'Floor 2');
    const session = await approvedSession(host, printer, token);
    return { printer, session: session.token };
  }

  it('lists the jobs newest first as a table, as JSON, by state and up to a limit', async () => {
    const { dir, token } = await world();
    const older = await job(token, 'quarterly report.pdf', false);
    const newer = await job(token, 'a rather long file name that does not fit the column at all.pdf');

    // Reads only: the five runs go side by side.
    const [table, json, newest, registered, bad] = await Promise.all([
      runRoger(['jobs'], dir),
      runRoger(['jobs', '--json'], dir),
      runRoger(['jobs', '--limit', '1', '--json'], dir),
      runRoger(['jobs', '--state', 'registered'], dir),
      runRoger(['jobs', '--state', 'lost'], dir),
    ]);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID {32}STATE {7}FILE {38}WHEN$/);
    expect(lines[1]).toMatch(
      new RegExp(`^${newer.id}  queued {6}a rather long file name that does not f…  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d$`),
    );
    const when = new Date(older.createdAt);
    const local = `${when.getUTCFullYear()}-${String(when.getUTCMonth() + 1).padStart(2, '0')}-${String(when.getUTCDate()).padStart(2, '0')}`;
    expect(lines[2]).toMatch(new RegExp(`^${older.id}  registered  quarterly report\\.pdf {22}${local} \\d\\d:\\d\\d$`));
    expect(lines).toHaveLength(3);

    const items = JSON.parse(json.stdout);
    expect(items.map((item: any) => [item.id, item.state, item.options.copies])).toEqual([
      [newer.id, 'queued', 2],
      [older.id, 'registered', 2],
    ]);
    expect(JSON.parse(newest.stdout).map((item: any) => item.id)).toEqual([newer.id]);
    expect(registered.stdout).toContain(older.id);
    expect(registered.stdout).not.toContain(newer.id);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Allowed choices are registered, queued/);
  });

  it('cancels a job, and explains why one cannot be cancelled (409) or is not there (404)', async () => {
    const { tenant, dir, token } = await world();
    const waiting = await job(token, 'draft.pdf');
    const cancelled = await runRoger(['cancel', waiting.id], dir);
    expect(cancelled).toMatchObject({ code: 0, stdout: `cancelled ${waiting.id}\n` });
    expect((await api(host, token, 'GET', `/api/jobs/${waiting.id}`)).body.state).toBe('cancelled');

    const twice = await runRoger(['cancel', waiting.id], dir);
    expect(twice).toMatchObject({ code: 1, stderr: `roger: job ${waiting.id} cannot be cancelled: it was cancelled already\n` });

    const sent = await job(token, 'sent.pdf');
    await releaseAtPrinter(tenant, token);
    const late = await runRoger(['cancel', sent.id], dir);
    expect(late).toMatchObject({ code: 1, stderr: `roger: job ${sent.id} cannot be cancelled: it has already been sent to a printer\n` });

    const unknown = await runRoger(['cancel', '0123456789abcdef0123456789abcdef'], dir);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('roger: no job 0123456789abcdef0123456789abcdef (or it has expired): see `roger jobs`\n');
  });

  it('watches the queued and released jobs, one line per change, until each is printed or cancelled', async () => {
    const { tenant, dir, token } = await world();
    const done = await job(token, 'old.pdf');
    expect((await api(host, token, 'DELETE', `/api/jobs/${done.id}`)).status).toBe(204);
    const first = await job(token, 'first.pdf');
    const second = await job(token, 'second.pdf');
    const notUploaded = await job(token, 'never uploaded.pdf', false);

    const watch = startRoger(['watch', '--interval', '0.2'], dir);
    await watch.waitFor(new RegExp(`${second.id}  second\\.pdf  queued\\n`));
    // Oldest first, as they will print; a job already ended, or still waiting for its upload, is not watched.
    expect(watch.stdout().indexOf(first.id)).toBeLessThan(watch.stdout().indexOf(second.id));
    expect(watch.stdout()).not.toContain(done.id);
    expect(watch.stdout()).not.toContain(notUploaded.id);

    expect((await api(host, token, 'DELETE', `/api/jobs/${second.id}`)).status).toBe(204);
    await watch.waitFor(new RegExp(`${second.id}  second\\.pdf  queued → cancelled\\n`));
    const { printer, session } = await releaseAtPrinter(tenant, token);
    await watch.waitFor(new RegExp(`${first.id}  first\\.pdf  queued → released \\(printer ${printer.deviceId}\\)\\n`));
    expect((await api(host, session, 'POST', `/api/jobs/${first.id}/printed`)).status).toBe(200);
    expect(await watch.exited, watch.stderr()).toBe(0);
    const lines = watch.stdout().trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(new RegExp(`^\\d\\d:\\d\\d:\\d\\d  ${first.id}  first\\.pdf  released → printed$`));
    expect(lines).toHaveLength(5);

    // Nothing left on its way; a job named outright is shown as it is.
    const [none, one, unknown] = await Promise.all([
      runRoger(['watch'], dir),
      runRoger(['watch', first.id], dir),
      runRoger(['watch', '0123456789abcdef0123456789abcdef'], dir),
    ]);
    expect(none).toMatchObject({ code: 0, stdout: 'no jobs queued or released\n' });
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(new RegExp(`  ${first.id}  first\\.pdf  printed\\n$`));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no job 0123456789abcdef0123456789abcdef');
  });

  it('ends a watch with exit code 1 when the printer reports a job failed', async () => {
    const { tenant, dir, token } = await world();
    const jammed = await job(token, 'jammed.pdf');
    const { session } = await releaseAtPrinter(tenant, token);
    const watch = startRoger(['watch', jammed.id, '--interval', '0.2'], dir);
    await watch.waitFor(/released \(printer/);
    expect((await api(host, session, 'POST', `/api/jobs/${jammed.id}/printed`, { failed: 'paper-jam' })).status).toBe(200);
    expect(await watch.exited).toBe(1);
    expect(watch.stdout()).toMatch(new RegExp(`${jammed.id}  jammed\\.pdf  released → failed \\(paper-jam\\)\\n$`));
    expect(watch.stderr()).toBe('roger: a job failed at the printer: see `roger jobs`\n');
  });

  it('keeps watching through a lost connection to the API, and says so', async () => {
    const { dir, token } = await world();
    const waiting = await job(token, 'patient.pdf');
    // roger reaches the API through a relay that can be cut and restored on the same port.
    const relay = await tcpRelay(new URL(host.url).port);
    const credentials = join(dir, 'credentials.json');
    await writeFile(credentials, JSON.stringify({ ...JSON.parse(await readFile(credentials, 'utf8')), apiUrl: relay.url }));
    try {
      const watch = startRoger(['watch', '--interval', '0.2'], dir);
      await watch.waitFor(/patient\.pdf {2}queued\n/);
      await relay.cut();
      await watch.waitFor(/roger: cannot reach http:\/\/127\.0\.0\.1:\d+: .*; still trying/);
      await relay.restore();
      await watch.waitFor(/roger: connected to http:\/\/127\.0\.0\.1:\d+ again/);
      expect((await api(host, token, 'DELETE', `/api/jobs/${waiting.id}`)).status).toBe(204);
      expect(await watch.exited, watch.stderr()).toBe(0);
      expect(watch.stdout()).toMatch(/patient\.pdf {2}queued → cancelled\n$/);
      expect(watch.stderr().match(/still trying/g)).toHaveLength(1);
    } finally {
      await relay.cut();
    }
  });
});

/** A TCP relay on 127.0.0.1 to the host's port that can be cut (listener closed, connections dropped) and restored on the same port. */
async function tcpRelay(targetPort: string) {
  const port = await freePort();
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((incoming) => {
        const outgoing = connect(Number(targetPort), '127.0.0.1');
        for (const socket of [incoming, outgoing]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => socket.destroy());
        }
        incoming.pipe(outgoing).pipe(incoming);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    async cut() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
    },
    restore: listen,
  };
}
