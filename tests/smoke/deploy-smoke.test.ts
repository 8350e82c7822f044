import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * The pipeline's post-deployment smoke test (dist/tools/smoke.js), run here against the local
 * host, so the check that guards every deployment is itself known to pass and to fail.
 */
const run = promisify(execFile);

/**
 * A stand-in for the global entry point in front of the local host: a plain 404 page (not the
 * app's problem) for the first `plain404s` requests of each path, as Front Door answers while a
 * new route propagates, then the app's own answers.
 */
async function entryPoint(appUrl: string, plain404s: number): Promise<{ url: string; seen: Map<string, number>; server: Server }> {
  const seen = new Map<string, number>();
  const server = createServer((req, res) => {
    const count = (seen.get(req.url!) ?? 0) + 1;
    seen.set(req.url!, count);
    if (count <= plain404s) {
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Page not found</h1>');
      return;
    }
    void fetch(`${appUrl}${req.url}`).then(async (answer) => {
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' }).end(await answer.text());
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, seen, server };
}

async function smoke(...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ['dist/tools/smoke.js', ...args]);
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, stdout: failed.stdout };
  }
}

describe('deployment smoke test', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost();
  });
  afterAll(() => host.close());

  it('passes against a healthy region, through the global entry point too', async () => {
    const result = await smoke('--api', host.url, '--region', 'eu', '--discovery', `${host.url}/`, '--wait', '5');
    expect(result.stdout.trim().split('\n')).toEqual([
      'ok   eu GET /health',
      'ok   eu GET /regions',
      'ok   eu GET /.well-known/oauth-authorization-server',
      'ok   eu GET /.well-known/jwks.json',
      `ok   eu GET ${host.url}/regions (global entry point)`,
      `ok   eu GET ${host.url}/tenants/{slug}/region reaches a regional app`,
      '6 passed, 0 failed',
    ]);
    expect(result.code).toBe(0);
  });

  it('fails when the app serves another region, or its issuer is not the URL it is reached at', async () => {
    const wrongRegion = await smoke('--api', host.url, '--region', 'us', '--wait', '0');
    expect(wrongRegion.code).toBe(1);
    expect(wrongRegion.stdout).toContain('FAIL us GET /health: serves region "eu", not "us"');

    const otherUrl = host.url.replace('localhost', '127.0.0.1');
    const wrongUrl = await smoke('--api', otherUrl, '--region', 'eu', '--wait', '0');
    expect(wrongUrl.code).toBe(1);
    expect(wrongUrl.stdout).toContain(`FAIL eu GET /regions: the catalog gives ${host.url} for "eu", not ${otherUrl}`);
    expect(wrongUrl.stdout).toContain(`FAIL eu GET /.well-known/oauth-authorization-server: issuer is ${host.url}, not ${otherUrl}`);
  });

  it("retries a 404 that is not the app's own problem (the entry point still propagating) until the app answers", async () => {
    const front = await entryPoint(host.url, 2);
    try {
      const started = Date.now();
      const result = await smoke('--api', host.url, '--region', 'eu', '--discovery', front.url, '--wait', '30', '--interval', '0.2');
      expect(result.stdout).toContain(`ok   eu GET ${front.url}/regions (global entry point)`);
      expect(result.stdout).toContain(`ok   eu GET ${front.url}/tenants/{slug}/region reaches a regional app`);
      expect(result.code).toBe(0);
      // Two plain 404s, then the app: three tries of each path, in well under the wait.
      expect(front.seen.get('/regions')).toBe(3);
      expect(front.seen.get('/tenants/smoke-test-no-such-tenant/region')).toBe(3);
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      front.server.close();
    }
  });

  it("takes the app's own 404 as an answer at once, and fails on a plain 404 that never goes away", async () => {
    const front = await entryPoint(host.url, Number.POSITIVE_INFINITY);
    try {
      const result = await smoke('--api', host.url, '--region', 'eu', '--discovery', front.url, '--wait', '1', '--interval', '0.2');
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(
        `FAIL eu GET ${front.url}/regions (global entry point): /regions answered 404, not from the app (a route or origin still propagating, or no function loaded)`,
      );
      expect(front.seen.get('/regions')!).toBeGreaterThan(1);
    } finally {
      front.server.close();
    }
    // The app's 404 for an unknown tenant: one request, no retry, with a wait that would last minutes.
    const direct = await entryPoint(host.url, 0);
    try {
      const result = await smoke('--api', host.url, '--region', 'eu', '--discovery', direct.url, '--wait', '300', '--interval', '5');
      expect(result.code).toBe(0);
      expect(direct.seen.get('/tenants/smoke-test-no-such-tenant/region')).toBe(1);
    } finally {
      direct.server.close();
    }
  });

  it('fails, after its wait, when nothing answers', async () => {
    const result = await smoke('--api', 'http://localhost:9', '--region', 'eu', '--wait', '0');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL eu GET \/health: .*fetch failed/);
    expect(result.stdout).toContain('0 passed, 4 failed');
  });
});
