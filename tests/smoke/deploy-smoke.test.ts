import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * The pipeline's post-deployment smoke test (dist/tools/smoke.js), run here against the local
 * host, so the check that guards every deployment is itself known to pass and to fail.
 */
const run = promisify(execFile);

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

  it('fails, after its wait, when nothing answers', async () => {
    const result = await smoke('--api', 'http://localhost:9', '--region', 'eu', '--wait', '0');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAIL eu GET \/health: .*fetch failed/);
    expect(result.stdout).toContain('0 passed, 4 failed');
  });
});
