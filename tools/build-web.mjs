// Builds the web app (web/, served under /app/) with Vite and holds it to its budget: the JavaScript
// that index.html loads before anything else (its module script and the chunks it preloads), gzipped,
// must stay under 300 KB (docs/web-app.md). Prints the number; exits non-zero above it.
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const BUDGET_BYTES = 300 * 1024;
const webRoot = new URL('../web/', import.meta.url);

// What ships is the production build whoever runs this: vitest's global set-up calls the build with
// NODE_ENV=test, which would otherwise give the browser tests React's development bundle (and a
// bigger number than the one CI's build step reports).
process.env.NODE_ENV = 'production';
await build({ root: webRoot.pathname, configFile: new URL('vite.config.ts', webRoot).pathname, logLevel: 'warn', mode: 'production' });

const html = await readFile(new URL('dist/index.html', webRoot), 'utf8');
const initial = [...html.matchAll(/<(?:script type="module"[^>]*src|link rel="modulepreload"[^>]*href)="\/app\/([^"]+\.js)"/g)].map(
  (m) => m[1],
);
let gzipped = 0;
for (const file of initial) gzipped += gzipSync(await readFile(new URL(`dist/${file}`, webRoot))).length;
const kb = (gzipped / 1024).toFixed(1);
console.log(`web app: initial JavaScript ${kb} KB gzipped (${initial.length} file(s)), budget 300 KB`);
if (initial.length === 0 || gzipped > BUDGET_BYTES) {
  console.error(initial.length === 0 ? 'web app: index.html loads no script' : 'web app: over the 300 KB budget');
  process.exit(1);
}
