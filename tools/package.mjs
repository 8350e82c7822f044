// `npm run package`: lays out what the Function App runs, in dist-publish/ (run `npm run build`
// first). The pipeline zips the folder and publishes it. Only what Azure needs goes in:
//   host.json; package.json naming the entry and the one runtime dependency the bundle cannot
//   hold (@node-rs/argon2, a native addon) and its linux-x64-gnu binary (Flex Consumption runs
//   Linux x64 with glibc); dist/functions and the chunks it may load, found by following the
//   build's import graph (dist/build-meta.json) from the entry. Chunks that only the local host,
//   its stand-ins and the dev tools load share dist/chunks but stay out.
import { cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';

const out = new URL('../dist-publish/', import.meta.url);
const root = new URL('../', import.meta.url);
const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8'));
const NATIVE = ['@node-rs/argon2', '@node-rs/argon2-linux-x64-gnu'];

async function exists(url) {
  return stat(url).then(
    () => true,
    () => false,
  );
}

const ENTRY = 'dist/functions/index.js';
if (!(await exists(new URL(ENTRY, root))) || !(await exists(new URL('dist/build-meta.json', root)))) {
  console.error(`${ENTRY} or dist/build-meta.json is missing: run \`npm run build\` first`);
  process.exit(1);
}
for (const name of NATIVE) {
  if (!(await exists(new URL(`node_modules/${name}/package.json`, root)))) {
    console.error(`node_modules/${name} is missing: package on Linux x64 (glibc) after \`npm ci\`, as the pipeline does`);
    process.exit(1);
  }
}

await rm(out, { recursive: true, force: true });
await mkdir(new URL('dist/', out), { recursive: true });
await cp(new URL('host.json', root), new URL('host.json', out));
const { outputs } = JSON.parse(await readFile(new URL('dist/build-meta.json', root), 'utf8'));
const reachable = new Set();
const visit = (file) => {
  if (reachable.has(file)) return;
  reachable.add(file);
  for (const { path, external } of outputs[file].imports) if (!external) visit(path);
};
visit(ENTRY);
let javascriptBytes = 0;
for (const file of reachable) {
  javascriptBytes += outputs[file].bytes;
  await mkdir(new URL('.', new URL(file, out)), { recursive: true });
  await cp(new URL(file, root), new URL(file, out));
  if (await exists(new URL(`${file}.map`, root))) await cp(new URL(`${file}.map`, root), new URL(`${file}.map`, out));
}
for (const name of NATIVE) {
  await cp(new URL(`node_modules/${name}/`, root), new URL(`node_modules/${name}/`, out), { recursive: true });
}
const runtime = {
  name: pkg.name,
  version: pkg.version,
  private: true,
  type: 'module',
  main: pkg.main,
  engines: pkg.engines,
  dependencies: { '@node-rs/argon2': pkg.dependencies['@node-rs/argon2'] },
};
await writeFile(new URL('package.json', out), `${JSON.stringify(runtime, null, 2)}\n`);

const files = await readdir(out, { recursive: true });
console.log(
  `dist-publish/: ${files.length} entries for ${pkg.name} ${pkg.version}, ${reachable.size} JavaScript files of ${javascriptBytes} bytes`,
);
