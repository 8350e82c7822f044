import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * How the local host serves the web app under /app/, answering as Azure does (Front Door's rules
 * in infra/modules/web-route.bicep over the storage site; tests/infra/compiled-templates.test.ts
 * checks that side): a path with no file extension is a screen (index.html), a missing file is a
 * 404 wherever it is, and /app goes to /app/. Over a small web root of its own, so no build is needed.
 */
describe('the web app as the local host serves it', () => {
  let root: string;
  let host: TestHost;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'roger-web-'));
    await mkdir(join(root, 'assets'));
    await writeFile(join(root, 'index.html'), '<!doctype html><title>Roger</title>');
    await writeFile(join(root, 'assets', 'main-1234.js'), 'export {};');
    await writeFile(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    host = await startTestHost({ webRoot: root });
  });
  afterAll(async () => {
    await host?.close();
    await rm(root, { recursive: true, force: true });
  });

  it('answers a screen (no extension) with index.html, and a file that exists with the file', async () => {
    for (const path of ['/app/', '/app/jobs', '/app/admin/users', '/app/approve?code=BCDF-GHJK']) {
      const answer = await fetch(`${host.url}${path}`);
      expect(answer.status, path).toBe(200);
      expect(await answer.text(), path).toContain('<title>Roger</title>');
    }
    const icon = await fetch(`${host.url}/app/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect((await fetch(`${host.url}/app/assets/main-1234.js`)).headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('answers a missing file (a path with an extension) with 404, under assets/ or not, as the storage site does', async () => {
    for (const path of ['/app/assets/gone-0000.js', '/app/x.txt', '/app/robots.txt', '/app/admin/report.pdf']) {
      const answer = await fetch(`${host.url}${path}`);
      expect(answer.status, path).toBe(404);
      expect(answer.headers.get('content-type'), path).toMatch(/^text\/plain/);
      expect(await answer.text(), path).not.toContain('<title>');
    }
  });

  it('sends /app to /app/ with a 308, as Front Door does', async () => {
    const answer = await fetch(`${host.url}/app`, { redirect: 'manual' });
    expect(answer.status).toBe(308);
    expect(answer.headers.get('location')).toBe('/app/');
  });
});
