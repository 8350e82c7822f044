import { spawnSync } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshTenant, individual, type FreshTenant } from '../../../tests/helpers/fixtures.js';
import { api, oauthEnv, tokenRequest, type Person } from '../../../tests/helpers/roger.js';
import { freePort, startTestHost, type TestHost } from '../../../tests/helpers/test-host.js';
import { canReadListeners, listeningSockets } from './fixtures/listening.js';
import {
  authorizationUrl,
  configHome,
  loginThroughBrowser,
  rogerBin,
  runRoger,
  signInThroughPage,
  startProgram,
  startRoger,
} from './login-world.js';

/**
 * `roger login` and `roger logout` (docs/clients.md#signing-in), the built program against the
 * local host: the browser sign-in (authorization code + PKCE, loopback redirect) played through
 * the sign-in page, the device flow approved from the user's phone, the token file, refresh
 * and revocation, and the callbacks the loopback listener must refuse.
 */
const alice: Person = { email: 'alice@contoso.test', username: 'alice', fullName: 'Alice Admin', password: 'alice-password-1' };
const bob: Person = { email: 'bob@contoso.test', username: 'bob', fullName: 'Bob User', password: 'bob-password-1' };

const hasScript = spawnSync('script', ['--version']).status === 0;

interface Saved {
  apiUrl: string;
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
}

describe('roger login and logout', () => {
  let host: TestHost;
  const homes: { remove(): Promise<void> }[] = [];

  // One tenant for the file: signing people in is hashing passwords, most of what a world costs.
  // Each test has a config folder, so a sign-in of its own; none gives Bob jobs or ends his phone's sign-in.
  let tenant: FreshTenant;
  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
    tenant = await freshTenant(host, 'rlogin', individual(alice), [individual(bob)]);
  });
  afterEach(async () => {
    await Promise.all(homes.splice(0).map((home) => home.remove()));
  });
  afterAll(async () => {
    await host?.close();
  });

  async function world(): Promise<{ tenant: FreshTenant; bob: Person; dir: string }> {
    const home = await configHome();
    homes.push(home);
    return { tenant, bob: tenant.users[0]!.person, dir: home.dir };
  }
  /** Bob's phone approving a code: a fresh access token from its refresh token, as a test may have moved the host's clock on. */
  let phone = () => tenant.users[0]!.refresh;
  async function phoneToken(): Promise<string> {
    const refreshed = await tokenRequest(host, { grant_type: 'refresh_token', client_id: 'roger-mobile', refresh_token: phone() });
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    const next = refreshed.body.refresh_token as string;
    phone = () => next;
    return refreshed.body.access_token as string;
  }
  const saved = async (dir: string) => JSON.parse(await readFile(join(dir, 'credentials.json'), 'utf8')) as Saved;

  it('signs in through the browser with a code and PKCE on a loopback redirect, into a 0600 file in a 0700 folder', async () => {
    const { tenant, bob, dir } = await world();
    const roger = startRoger(['login', '--api', host.url, '--no-browser'], dir);
    const authorize = await authorizationUrl(roger);
    expect(authorize.origin).toBe(host.url);
    const query = authorize.searchParams;
    expect(query.get('client_id')).toBe('roger-desktop');
    expect(query.get('response_type')).toBe('code');
    expect(query.get('scope')).toBe('jobs offline_access');
    expect(query.get('code_challenge_method')).toBe('S256');
    expect(query.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(query.get('state')).toBeTruthy();
    expect(query.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);

    const callback = await signInThroughPage(authorize, tenant.slug, bob);
    expect(callback.searchParams.get('iss')).toBe(host.url);
    const landed = await fetch(callback);
    expect(landed.status).toBe(200);
    expect(landed.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await landed.text()).toContain('You can close this tab');
    expect(await roger.exited, roger.stderr()).toBe(0);
    expect(roger.stdout()).toBe(`signed in as ${bob.fullName} at ${host.url}\n`);
    expect(roger.stdout() + roger.stderr()).not.toMatch(/eyJ/); // no token on the terminal

    // The listener took its one callback and closed.
    await expect(fetch(callback)).rejects.toThrow();
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'credentials.json'))).mode & 0o777).toBe(0o600);
    const login = await saved(dir);
    expect(login.apiUrl).toBe(host.url);
    const me = await api(host, login.accessToken, 'GET', '/api/me');
    expect(me.body.user.username).toBe(bob.username);
  });

  it('refuses a callback with an unknown or missing state, and still takes the real one', async () => {
    const { tenant, bob, dir } = await world();
    const roger = startRoger(['login', '--api', host.url, '--no-browser'], dir);
    const authorize = await authorizationUrl(roger);
    const redirect = authorize.searchParams.get('redirect_uri')!;

    // Only the loopback address listens: the kernel's list of roger's listening sockets (read,
    // not probed: tests send traffic to loopback only) holds the callback's port on 127.0.0.1 alone.
    const port = Number(new URL(redirect).port);
    if (canReadListeners) expect(await listeningSockets(roger.child.pid!)).toEqual([{ address: '127.0.0.1', port }]);
    // A page whose own name was rebound to 127.0.0.1 sends that name as its Host.
    const rebound = await new Promise<number>((resolve, reject) =>
      get({ host: '127.0.0.1', port, path: '/callback', headers: { host: `attacker.example:${port}` } }, (response) => {
        response.resume();
        resolve(response.statusCode!);
      }).on('error', reject),
    );
    expect(rebound).toBe(400);

    const forged = await fetch(`${redirect}?code=attacker-code&state=not-the-state&iss=${encodeURIComponent(host.url)}`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('another or an older sign-in');
    expect((await fetch(`${redirect}?code=attacker-code`)).status).toBe(400);
    await roger.waitFor(/refused a browser callback that belongs to no sign-in started here/);

    const landed = await fetch(await signInThroughPage(authorize, tenant.slug, bob));
    expect(landed.status).toBe(200);
    expect(await roger.exited, roger.stderr()).toBe(0);
    expect(roger.stdout()).toContain(`signed in as ${bob.fullName}`);
  });

  it('refuses an answer from another issuer (RFC 9207), and says why a denied sign-in failed', async () => {
    const { dir } = await world();
    for (const [answer, words] of [
      [
        { code: 'some-code', iss: 'http://127.0.0.1:1' },
        /^roger: the answer from the sign-in page failed a check \(.*"iss".*\): run `roger login` again$/m,
      ],
      [{ error: 'access_denied', iss: host.url }, /the sign-in was denied/],
    ] as const) {
      const roger = startRoger(['login', '--api', host.url, '--no-browser'], dir);
      const authorize = await authorizationUrl(roger);
      const callback = new URL(authorize.searchParams.get('redirect_uri')!);
      for (const [key, value] of Object.entries({ ...answer, state: authorize.searchParams.get('state')! })) {
        callback.searchParams.set(key, value);
      }
      const landed = await fetch(callback);
      expect(landed.status).toBe(400);
      expect(await landed.text()).toContain('Sign-in did not finish');
      expect(await roger.exited).toBe(1);
      expect(roger.stderr()).toMatch(words);
      await expect(stat(join(dir, 'credentials.json'))).rejects.toThrow();
    }
  });

  it('gives up when the browser never comes back', async () => {
    const { dir } = await world();
    const roger = startRoger(['login', '--api', host.url, '--no-browser', '--timeout', '0.5'], dir);
    const authorize = await authorizationUrl(roger);
    expect(await roger.exited).toBe(1);
    expect(roger.stderr()).toMatch(/no sign-in from the browser within .* run `roger login` again/);
    await expect(fetch(authorize.searchParams.get('redirect_uri')!)).rejects.toThrow();
  });

  it('signs in with --device (found through discovery): code and QR shown, approved from the phone', async () => {
    const { tenant, bob, dir } = await world();
    const roger = startRoger(['login', '--device', '--discovery', host.url, '--tenant', tenant.slug], dir);
    const [, userCode] = await roger.waitFor(/^ {4}(\S+)$/m);
    await roger.waitFor(/Waiting for the approval/);
    expect(roger.stderr()).toContain(`open ${host.url}/`);
    expect(roger.stderr()).toMatch(/[▀▄█]{10}/); // the QR code, drawn with half blocks
    const approved = await api(host, await phoneToken(), 'POST', '/api/device-codes/approve', { user_code: userCode });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(await roger.exited, roger.stderr()).toBe(0);
    expect(roger.stdout()).toBe(`signed in as ${bob.fullName} at ${host.url}\n`);
    expect((await saved(dir)).apiUrl).toBe(host.url);
  });

  // A real terminal (a pseudo-terminal from util-linux `script`), where the QR code is meant to be read.
  it.skipIf(!hasScript)('shows the code and a QR code in a real terminal', async () => {
    const { dir } = await world();
    const command = `${process.execPath} ${rogerBin} login --device --api ${host.url}`;
    const roger = startProgram('script', ['-qfec', command, '/dev/null'], { ROGER_CONFIG_DIR: dir, TERM: 'xterm-256color' });
    const [, userCode] = await roger.waitFor(/^ {4}(\S+)\r?$/m);
    await roger.waitFor(/Waiting for the approval/);
    const screen = roger.stdout();
    const qrRows = screen.split(/\r?\n/).filter((line) => /^[ ▀▄█]{20,}$/.test(line));
    expect(qrRows.length).toBeGreaterThan(10);
    expect(new Set(qrRows.map((row) => [...row].length)).size).toBe(1); // a square block of equal rows
    expect(screen).toContain(`open ${host.url}/`);
    await api(host, await phoneToken(), 'POST', '/api/device-codes/approve', { user_code: userCode });
    expect(await roger.exited).toBe(0);
    expect(roger.stdout()).toMatch(/signed in as .* at http:\/\/localhost:\d+/);
  });

  it('says so when the device sign-in is denied', async () => {
    const { dir } = await world();
    const roger = startRoger(['login', '--device', '--api', host.url], dir);
    const [, userCode] = await roger.waitFor(/^ {4}(\S+)$/m);
    const denied = await api(host, await phoneToken(), 'POST', '/api/device-codes/deny', { user_code: userCode });
    expect(denied.status).toBeLessThan(300);
    expect(await roger.exited).toBe(1);
    expect(roger.stderr()).toContain('roger: the sign-in was denied');
  });

  it('refreshes an expired access token and keeps the rotated refresh token', async () => {
    const { tenant, bob, dir } = await world();
    await loginThroughBrowser(host, dir, tenant.slug, bob);
    const first = await saved(dir);

    // The server's clock passes the access token's 20 minutes: the API answers 401, roger refreshes once and repeats.
    host.advanceClock(21 * 60);
    const listed = await runRoger(['jobs'], dir);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toBe('no jobs\n');
    const second = await saved(dir);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect((await stat(join(dir, 'credentials.json'))).mode & 0o777).toBe(0o600);

    // A token about to expire by roger's own clock is refreshed before the call.
    await writeFile(join(dir, 'credentials.json'), JSON.stringify({ ...second, expiresAt: new Date(Date.now() - 1000).toISOString() }));
    expect((await runRoger(['jobs'], dir)).code).toBe(0);
    const third = await saved(dir);
    expect(third.refreshToken).not.toBe(second.refreshToken);
    expect(Date.parse(third.expiresAt)).toBeGreaterThan(Date.now());

    // Two rogers refreshing at once (`roger printer` beside `roger print`): presenting a rotated
    // token twice would end the sign-in, so one waits for the other and uses its token.
    await writeFile(join(dir, 'credentials.json'), JSON.stringify({ ...third, expiresAt: new Date(0).toISOString() }));
    const both = await Promise.all([runRoger(['jobs'], dir), runRoger(['jobs'], dir)]);
    expect(both.map((run) => [run.code, run.stderr])).toEqual([
      [0, ''],
      [0, ''],
    ]);
    expect((await saved(dir)).refreshToken).not.toBe(third.refreshToken);
    expect((await runRoger(['jobs'], dir)).code).toBe(0);
  });

  it('says to sign in again when the sign-in has ended at the server, and forgets it', async () => {
    const { tenant, bob, dir } = await world();
    await loginThroughBrowser(host, dir, tenant.slug, bob);
    const login = await saved(dir);
    const revoked = await fetch(`${host.url}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'roger-desktop', token: login.refreshToken }).toString(),
    });
    expect(revoked.status).toBe(200);
    await writeFile(join(dir, 'credentials.json'), JSON.stringify({ ...login, expiresAt: new Date(0).toISOString() }));
    const listed = await runRoger(['jobs'], dir);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toBe('roger: your sign-in has ended: run `roger login`\n');
    await expect(stat(join(dir, 'credentials.json'))).rejects.toThrow();
  });

  it('logout revokes the refresh token at the server and deletes the file', async () => {
    const { tenant, bob, dir } = await world();
    await loginThroughBrowser(host, dir, tenant.slug, bob);
    const login = await saved(dir);
    const out = await runRoger(['logout'], dir);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toBe(`signed out of ${host.url}\n`);
    await expect(stat(join(dir, 'credentials.json'))).rejects.toThrow();
    const refresh = await tokenRequest(host, {
      grant_type: 'refresh_token',
      client_id: 'roger-desktop',
      refresh_token: login.refreshToken,
    });
    expect(refresh.status).toBe(400);
    expect(refresh.body.error).toBe('invalid_grant');

    const again = await runRoger(['logout'], dir);
    expect(again).toMatchObject({ code: 0, stdout: 'not signed in\n' });
    const jobs = await runRoger(['jobs'], dir);
    expect(jobs).toMatchObject({ code: 1, stderr: 'roger: not signed in: run `roger login`\n' });
  });

  it('logout with the server unreachable still deletes the file, and says the revocation was not sent', async () => {
    const { tenant, bob, dir } = await world();
    await loginThroughBrowser(host, dir, tenant.slug, bob);
    const login = await saved(dir);
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    await writeFile(join(dir, 'credentials.json'), JSON.stringify({ ...login, apiUrl: nowhere }));
    const out = await runRoger(['logout'], dir);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(`signed out on this computer (${nowhere})\n`);
    expect(out.stderr).toContain(`roger: the sign-out could not be sent to ${nowhere}: cannot reach ${nowhere}`);
    await expect(stat(join(dir, 'credentials.json'))).rejects.toThrow();
    // It was not revoked: the server still honours it.
    const refresh = await tokenRequest(host, {
      grant_type: 'refresh_token',
      client_id: 'roger-desktop',
      refresh_token: login.refreshToken,
    });
    expect(refresh.status).toBe(200);
  });

  it('refuses a token file other users could read', async () => {
    const { tenant, bob, dir } = await world();
    await loginThroughBrowser(host, dir, tenant.slug, bob);
    const { chmod } = await import('node:fs/promises');
    await chmod(join(dir, 'credentials.json'), 0o644);
    const jobs = await runRoger(['jobs'], dir);
    expect(jobs.code).toBe(1);
    expect(jobs.stderr).toMatch(/credentials\.json can be read by other users \(mode 644\): delete it and sign in again/);
  });

  it('has a help for each command, with its options and examples', async () => {
    const home = await configHome();
    homes.push(home);
    const dir = home.dir;
    const helps = await Promise.all(['login', 'logout', 'jobs', 'cancel', 'watch'].map((command) => runRoger([command, '--help'], dir)));
    for (const [index, command] of ['login', 'logout', 'jobs', 'cancel', 'watch'].entries()) {
      const help = helps[index]!;
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: roger ${command} `));
      expect(help.stdout).toMatch(/\n\nExamples?:\n {2}\$ roger /);
    }
    expect(helps[0]!.stdout).toContain('--device');
    expect(helps[0]!.stdout).toContain('--no-browser');
    expect(helps[4]!.stdout).toContain('--interval <seconds>');
  });

  it('says where to sign in when nothing names a server, and refuses plain http to another machine', async () => {
    const { dir } = await world();
    const nowhere = await runRoger(['login', '--no-browser'], dir);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toMatch(/^roger: say where Roger is: --api <url>/);
    const plain = await runRoger(['login', '--api', 'http://roger.example', '--no-browser'], dir);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/use https/);
    const down = await runRoger(['login', '--no-browser'], dir, { ROGER_API: `http://127.0.0.1:${await freePort()}` });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^roger: cannot reach http:\/\/127\.0\.0\.1:\d+/);
  });
});
