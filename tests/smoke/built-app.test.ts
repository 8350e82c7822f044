import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../tools/free-port.js';
import { azureSettings } from './azure-settings.js';

/**
 * The bundle in dist/, run with plain node as `npm start` and the Functions host run it.
 * Catches what vitest hides: ESM named-import mistakes, missing externals, bundling errors.
 */
const run = promisify(execFile);
const baseEnv = { PATH: process.env.PATH ?? '', NODE_ENV: 'production', SERVICEBUS_LOCAL_PORT: '0', MICROSOFT_LOCAL_PORT: '0' };

function startBuilt(env: Record<string, string>): { child: ChildProcess; output: () => string; ready: Promise<void> } {
  const child = spawn(process.execPath, ['dist/tools/start.js'], { env: { ...baseEnv, ...env } });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening on')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${output}`)));
  });
  return { child, output: () => output, ready };
}

describe('built app with plain node', () => {
  let running: ChildProcess | undefined;
  /**
   * `npm run demo`, started before the other tests and awaited by the last one: it runs six
   * processes of the reference programs that spend much of their time waiting on each other
   * (device-code polls, AMQP receives), so the tests above run meanwhile instead of after it.
   * Up to 90 s: slow on a busy 2-core machine (9–13 s alone).
   */
  let demo: Promise<{ stdout: string }>;
  beforeAll(() => {
    demo = run(process.execPath, ['dist/tools/demo.js'], { env: baseEnv, timeout: 90_000 });
    demo.catch(() => {}); // its failure is reported by its own test, not as an unhandled rejection
  });
  afterEach(() => {
    running?.kill('SIGKILL');
    running = undefined;
  });

  it('npm start serves /regions on PORT and shuts down cleanly on SIGTERM and SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const port = await freePort();
      const app = startBuilt({ PORT: String(port) });
      running = app.child;
      await app.ready;

      expect(app.output()).toContain('in-process Entra ID and Graph stand-in');
      expect(app.output()).toMatch(/Entra: +Contoso [0-9a-f-]{36}: admin@contoso\.example \(Roger\.Admin\)/);
      expect(app.output()).toMatch(
        /Entra: +Fabrikam [0-9a-f-]{36}: admin@fabrikam\.example \(Roger\.Admin\), lee@fabrikam\.example \(in Print users\)/,
      );

      const regions = await fetch(`http://localhost:${port}/regions`);
      expect(regions.status).toBe(200);
      const body = (await regions.json()) as { regions: { id: string }[] };
      expect(body.regions.map((r) => r.id)).toEqual(['eu', 'us']);
      const unknown = await fetch(`http://localhost:${port}/tenants/nope/region`);
      expect(unknown.status).toBe(404);

      const exited = once(app.child, 'exit');
      app.child.kill(signal);
      const [code] = await exited;
      expect(code).toBe(0);
      expect(app.output()).toContain(`${signal}: shutting down`);
      expect(app.output()).toMatch(/request method=GET route=\/regions status=200 ms=\d+/);
    }
  });

  it('starts with OneDrive off when the app registration has no client secret, and says so', async () => {
    const port = await freePort();
    const app = startBuilt({
      PORT: String(port),
      ENTRA_CLIENT_ID: azureSettings.ENTRA_CLIENT_ID,
      ONEDRIVE_TOKEN_KEYS: azureSettings.ONEDRIVE_TOKEN_KEYS,
    });
    running = app.child;
    await app.ready;
    expect(app.output()).toContain('OneDrive:    off (ENTRA_CLIENT_SECRET is not set)');
    const health = await fetch(`http://localhost:${port}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { checks: unknown }).checks).toEqual({ store: 'ok', onedrive: 'disabled' });
  });

  it('signs a user in through the bundle (argon2 native module, key generation, lazy chunks)', async () => {
    const port = await freePort();
    const operatorKey = 'smoke-operator-key-0123456789abcdef';
    const app = startBuilt({ PORT: String(port), ROGER_OPERATOR_KEY: operatorKey });
    running = app.child;
    await app.ready;
    const base = `http://localhost:${port}`;
    const admin = { email: 'a@smoke.test', username: 'admin', fullName: 'Smoke Admin', password: 'smoke-password-1' };
    const created = await fetch(`${base}/api/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-operator-key': operatorKey },
      body: JSON.stringify({ slug: 'smoke', name: 'Smoke', admin }),
    });
    expect(created.status).toBe(201);
    const token = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'roger-mobile',
        tenant: 'smoke',
        username: 'admin',
        password: admin.password,
      }),
    });
    expect(token.status).toBe(200);
    const { access_token } = (await token.json()) as { access_token: string };
    const me = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(await me.json()).toMatchObject({ kind: 'user', user: { username: 'admin', role: 'admin' } });
  });

  it('stops start-up with a line naming a bad setting and a non-zero exit code', async () => {
    for (const [env, expected] of [
      [{ PORT: 'abc' }, 'PORT: must be a whole number (got "abc")'],
      [{ ROGER_REGIONS: 'not json' }, 'ROGER_REGIONS: is not valid JSON'],
    ] as const) {
      const failure = await run(process.execPath, ['dist/tools/start.js'], { env: { ...baseEnv, ...env } }).then(
        () => undefined,
        (error: { code: number; stderr: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr).toContain(expected);
    }
  });

  it('the Functions entry point loads in plain node ESM', async () => {
    const { stderr } = await run(
      process.execPath,
      ['--input-type=module', '-e', "await import('./dist/functions/index.js'); console.log('loaded');"],
      { env: { ...baseEnv, ...azureSettings } },
    );
    expect(stderr).not.toMatch(/SyntaxError|not found|ERR_/);
  });

  /**
   * Outside a Functions worker, @azure/functions runs in test mode and says, for each function
   * the entry registers, that it skipped registering it: the list of what Azure would serve.
   */
  async function loadEntry(env: Record<string, string>) {
    const { stderr } = await run(process.execPath, ['--input-type=module', '-e', "await import('./dist/functions/index.js');"], {
      env: { ...baseEnv, ...env },
    });
    const registered = [...stderr.matchAll(/Skipping call to register function "([^"]+)"/g)].map((m) => m[1]);
    return { stderr, registered };
  }

  it('the Functions entry point registers every route of the table when the settings are good', async () => {
    const { registered } = await loadEntry(azureSettings);
    expect(registered).toContain('health');
    expect(registered).toContain('not-found');
    expect(registered).not.toContain('not-configured');
    expect(registered.length).toBeGreaterThan(20);
  });

  it('the Functions entry point refuses blank Azure endpoints: it says why, and serves only the 503 that names them', async () => {
    const { stderr, registered } = await loadEntry({ ...azureSettings, COSMOS_ENDPOINT: '', ENTRA_CLIENT_ID: '' });
    expect(stderr).toContain(
      'COSMOS_ENDPOINT: is not set; the Functions host reaches Azure only (set it, or run `npm start` for local stand-ins)',
    );
    expect(stderr).toContain('ENTRA_CLIENT_ID: is not set');
    expect(stderr).not.toContain('SERVICEBUS_NAMESPACE');
    // Never zero functions (every path a silent 404): /health and a catch-all, both 503.
    expect(registered).toEqual(['health', 'not-configured']);
  });

  it('the Functions entry point with a bad setting, or an unresolved Key Vault reference, serves only the 503', async () => {
    const { stderr, registered } = await loadEntry({ HTTP_BODY_LIMIT_BYTES: 'lots' });
    expect(stderr).toContain('HTTP_BODY_LIMIT_BYTES: must be a whole number');
    expect(registered).toEqual(['health', 'not-configured']);
    const unresolved = await loadEntry({
      ...azureSettings,
      ROGER_OPERATOR_KEY: '@Microsoft.KeyVault(VaultName=v;SecretName=roger-operator-key)',
    });
    expect(unresolved.stderr).toContain('ROGER_OPERATOR_KEY: is a Key Vault reference that App Service could not resolve');
    expect(unresolved.registered).toEqual(['health', 'not-configured']);
  });

  it('npm run demo tells the whole story and exits 0', async () => {
    const { stdout } = await demo;
    expect(stdout).toContain('Done: 2 jobs released over AMQP and printed, and a Microsoft sign-in.');
    // The printer and the PC are the reference programs, and what the printer wrote is what roger sent.
    expect(stdout).toContain('MFP-3F │ ready: receiving releases');
    expect(stdout).toContain('PC │ signed in as Dana Doe');
    expect(stdout).toContain('byte for byte the PDFs Dana sent');
    expect(stdout).toContain('created just in time');
  }, 90_000);
});
