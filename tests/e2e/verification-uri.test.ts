import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oauth from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauthClient, oauthEnv } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * The printer's QR code (`verification_uri_complete`) opens a page this region's host serves:
 * the web app's approve screen where the host serves the web app (WEB_APP_SERVED: a custom
 * domain in Azure, `npm start` locally), the no-JavaScript `/device` page everywhere else — a
 * region without a custom domain has no `/app/*` route (docs/flows.md#the-web-verification-page).
 */
describe('the QR code follows where the web app is served', () => {
  let root: string;
  let plain: TestHost;
  let withWeb: TestHost;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'roger-web-'));
    await writeFile(join(root, 'index.html'), '<!doctype html><title>Roger</title>');
    [plain, withWeb] = await Promise.all([startTestHost({ env: oauthEnv }), startTestHost({ env: oauthEnv, webRoot: root })]);
  });
  afterAll(async () => {
    await Promise.all([plain?.close(), withWeb?.close()]);
    await rm(root, { recursive: true, force: true });
  });

  async function authorize(host: TestHost) {
    return oauth.initiateDeviceAuthorization(await oauthClient(host, 'roger-emb'), { scope: 'device' });
  }

  it('without the web app: the QR code opens /device with the code filled in, and that page answers', async () => {
    const authorization = await authorize(plain);
    expect(authorization.verification_uri).toBe(`${plain.url}/device`);
    expect(authorization.verification_uri_complete).toBe(`${plain.url}/device?user_code=${authorization.user_code}`);
    const page = await fetch(authorization.verification_uri_complete!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain(authorization.user_code);
    // The approve screen is not there: the address the QR code used to carry would be a dead end.
    expect((await fetch(`${plain.url}/app/approve?code=${authorization.user_code}`)).status).toBe(404);
  });

  it('with the web app: the QR code opens its approve screen, which this host serves', async () => {
    const authorization = await authorize(withWeb);
    expect(authorization.verification_uri).toBe(`${withWeb.url}/device`);
    expect(authorization.verification_uri_complete).toBe(`${withWeb.url}/app/approve?code=${authorization.user_code}`);
    const page = await fetch(authorization.verification_uri_complete!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Roger</title>');
  });

  it('the setting decides, not the web root: WEB_APP_SERVED=on as Azure sets it behind Front Door', async () => {
    const host = await startTestHost({ env: { ...oauthEnv, WEB_APP_SERVED: 'on' } });
    try {
      const authorization = await authorize(host);
      expect(authorization.verification_uri_complete).toBe(`${host.url}/app/approve?code=${authorization.user_code}`);
    } finally {
      await host.close();
    }
  });
});
