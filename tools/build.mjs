// Bundles the app for the Functions host (dist/functions/index.js = package.json "main") and
// the local host (dist/tools/start.js) and dev tools. ESM with code splitting, so SDKs that are imported
// lazily (@azure/identity, Service Bus, Graph) land in chunks loaded only when used. The chunks of
// all entries share dist/chunks; dist/build-meta.json (esbuild's metafile) says which output
// imports which, so `npm run package` can take only what the Functions entry can reach.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { build } from 'esbuild';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

await rm(new URL('../dist', import.meta.url), { recursive: true, force: true });
const { metafile } = await build({
  entryPoints: {
    'functions/index': 'functions/index.ts',
    'tools/start': 'tools/start.ts',
    'tools/config-docs': 'tools/config-docs.ts',
    'tools/demo': 'tools/demo.ts',
    'tools/keys': 'tools/keys.ts',
    'tools/smoke': 'tools/smoke.ts',
    'tools/bench': 'tools/bench/bench.ts',
    'tools/bench-peer': 'tools/bench/peer.ts',
    // The scale run forks its receivers from the file beside it (tools/bench/scale.ts).
    'tools/scale/scale': 'tools/bench/scale.ts',
    'tools/scale/scale-receivers': 'tools/bench/scale-receivers.ts',
  },
  outdir: 'dist',
  metafile: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  // functions-core is provided by the Functions host; the Cosmos and Service Bus stand-ins are
  // dev dependencies loaded only by local runs; native addons cannot be bundled.
  // The benchmark's load generator and peer server are dev dependencies, used from node_modules.
  external: ['@azure/functions-core', '@vercel/cosmosdb-server', 'rhea', '@node-rs/argon2', 'autocannon', 'oidc-provider'],
  define: { __ROGER_VERSION__: JSON.stringify(pkg.version) },
  // Bundled CommonJS dependencies call require() for Node built-ins; ESM has none of its own.
  banner: {
    js: "import { createRequire as __rogerCreateRequire } from 'node:module'; const require = __rogerCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
await writeFile(new URL('../dist/build-meta.json', import.meta.url), JSON.stringify(metafile));

// The web app (web/dist), with its size budget.
await import('./build-web.mjs');

// The reference clients (clients/roger, clients/roger-printer): each one bundled program.
for (const client of ['roger', 'roger-printer']) {
  execFileSync(process.execPath, ['clients/build-client.mjs', client], { stdio: 'inherit' });
}
