import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/**
 * The web app's size budget (tools/web-budget.mjs, docs/web-app.md) on made-up builds: what counts
 * is what index.html loads first (its module script and modulepreloads), gzipped; a lazy screen
 * does not count; above 300 KB, or with no script at all, the check exits 1 so the build fails.
 */
const run = promisify(execFile);

function build(files: Record<string, Buffer | string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'web-budget-'));
  mkdirSync(join(dir, 'assets'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}
const index = (...scripts: string[]) =>
  `<!doctype html><html><head>${scripts
    .map((s, i) =>
      i === 0 ? `<script type="module" crossorigin src="/app/${s}"></script>` : `<link rel="modulepreload" crossorigin href="/app/${s}">`,
    )
    .join('')}</head><body><div id="root"></div></body></html>`;

async function check(dir: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['tools/web-budget.mjs', dir]);
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, out: failed.stdout + failed.stderr };
  }
}

describe('the web app size budget', () => {
  it('passes a small build and counts the entry and its preloads, not a lazy screen', async () => {
    const dir = build({
      'index.html': index('assets/index-a1.js', 'assets/vendor-b2.js'),
      'assets/index-a1.js': 'console.log(1)',
      'assets/vendor-b2.js': 'export const x = 1',
      // Incompressible and large, but loaded only when its screen opens.
      'assets/AdminPage-c3.js': randomBytes(400 * 1024),
    });
    const { code, out } = await check(dir);
    expect(code).toBe(0);
    expect(out).toMatch(/initial JavaScript 0\.\d KB gzipped \(2 file\(s\)\), budget 300 KB/);
  });

  it('fails the build when what loads first is over 300 KB gzipped', async () => {
    const dir = build({
      'index.html': index('assets/index-a1.js', 'assets/vendor-b2.js'),
      'assets/index-a1.js': randomBytes(200 * 1024),
      'assets/vendor-b2.js': randomBytes(120 * 1024),
    });
    const { code, out } = await check(dir);
    expect(code).toBe(1);
    expect(out).toContain('over the 300 KB budget');
  });

  it('fails the build when index.html loads no script', async () => {
    const { code, out } = await check(build({ 'index.html': '<!doctype html><p>nothing</p>' }));
    expect(code).toBe(1);
    expect(out).toContain('index.html loads no script');
  });
});
