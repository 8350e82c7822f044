// Bundles one reference client (clients/<name>/src/cli.ts) into clients/<name>/dist/<name>.js,
// which its bin/<name>.js runs. One file with its dependencies inside, so the program starts fast
// and runs from any folder (`npm link`, `npx`). Run by the workspace's build and by `npm run build`.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const name = process.argv[2];
if (!name) throw new Error('usage: node clients/build-client.mjs <roger|roger-printer>');
const root = fileURLToPath(new URL(`./${name}/`, import.meta.url));
const { version } = JSON.parse(await readFile(`${root}package.json`, 'utf8'));
await build({
  entryPoints: [`${root}src/cli.ts`],
  outfile: `${root}dist/${name}.js`,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  // Bundled CommonJS dependencies call require() for Node built-ins; ESM has none of its own.
  banner: {
    js: "import { createRequire as __rogerCreateRequire } from 'node:module'; const require = __rogerCreateRequire(import.meta.url);",
  },
  define: { __ROGER_CLIENT_VERSION__: JSON.stringify(version) },
  logLevel: 'warning',
});
