// The web app's size budget (docs/web-app.md): the JavaScript that index.html loads before anything
// else — its module script and the chunks it preloads — gzipped, at most 300 KB. Screens loaded later
// do not count. Used by build-web.mjs after each build; `node tools/web-budget.mjs <dist>` checks a
// build on its own (exit 1 above the budget or when index.html loads no script).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

export const BUDGET_KB = 300;

/** The initial JavaScript of the build in `distDir`: which files, and their gzipped bytes together. */
export async function initialJavaScript(distDir) {
  const html = await readFile(join(distDir, 'index.html'), 'utf8');
  const files = [...html.matchAll(/<(?:script type="module"[^>]*src|link rel="modulepreload"[^>]*href)="\/app\/([^"]+\.js)"/g)].map(
    (m) => m[1],
  );
  let gzipped = 0;
  for (const file of files) gzipped += gzipSync(await readFile(join(distDir, file))).length;
  return { files, gzipped };
}

/** Prints the size against the budget; false (with the reason on stderr) when the build must fail. */
export async function reportBudget(distDir) {
  const { files, gzipped } = await initialJavaScript(distDir);
  console.log(`web app: initial JavaScript ${(gzipped / 1024).toFixed(1)} KB gzipped (${files.length} file(s)), budget ${BUDGET_KB} KB`);
  if (files.length === 0) console.error('web app: index.html loads no script');
  else if (gzipped > BUDGET_KB * 1024) console.error(`web app: over the ${BUDGET_KB} KB budget`);
  return files.length > 0 && gzipped <= BUDGET_KB * 1024;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (!process.argv[2]) {
    console.error('usage: node tools/web-budget.mjs <web dist directory>');
    process.exit(2);
  }
  if (!(await reportBudget(process.argv[2]))) process.exit(1);
}
