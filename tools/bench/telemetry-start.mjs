// What turning telemetry on costs a cold start (docs/benchmarks.md#cold-start-and-telemetry).
// Run after `npm run build && npm run package`: `node tools/bench/telemetry-start.mjs [pairs]`.
//
// Fresh processes load the published package (dist-publish/) beside a stand-in for the worker's
// @azure/functions-core that keeps the hooks the app registers, alternating telemetry off and on
// (a dummy connection string whose endpoints are closed loopback ports, so nothing leaves the
// machine; the Function App's WEBSITE_SITE_NAME, so the distro's resource detection finds Azure
// Functions instead of asking the VM metadata endpoint). Each process times `await import()` of the entry (wall and CPU); with telemetry on it
// then runs the hooks of one invocation, as the worker does around a request, and records when
// the distro's meter provider is registered: the time from process start to telemetry ready.
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const pairs = Number(process.argv[2] ?? 9);
const CORE = `
const hooks = { preInvocation: [], postInvocation: [] };
module.exports = {
  setProgrammingModel() {},
  log() {},
  registerFunction() { return { dispose() {} }; },
  registerHook(name, callback) {
    const list = (hooks[name] ??= []);
    list.push(callback);
    return { dispose() { list.splice(list.indexOf(callback), 1); } };
  },
  async invoke() {
    const context = { invocationContext: {}, inputs: [], hookData: {} };
    for (const hook of [...hooks.preInvocation]) await hook(context);
    for (const hook of [...hooks.postInvocation]) await hook(context);
  },
};`;
const CHILD = `
const t0 = performance.now();
const c0 = process.cpuUsage();
await import('./dist/functions/index.js');
const importMs = performance.now() - t0;
const cpu = process.cpuUsage(c0);
let readyMs;
if (process.env.APPLICATIONINSIGHTS_CONNECTION_STRING) {
  const { createRequire } = await import('node:module');
  await createRequire(process.cwd() + '/')('@azure/functions-core').invoke();
  const api = Symbol.for('opentelemetry.js.api.1');
  while (!globalThis[api]?.metrics) await new Promise((resolve) => setTimeout(resolve, 2));
  readyMs = performance.now();
}
console.log(JSON.stringify({ importMs, cpuMs: (cpu.user + cpu.system) / 1000, readyMs }));
process.exit(0);`;

const settings = {
  COSMOS_ENDPOINT: 'https://roger-bench.documents.azure.com:443/',
  SERVICEBUS_NAMESPACE: 'roger-bench.servicebus.windows.net',
  SERVICEBUS_LISTEN_KEY: 'bench-listen-key-0123456789',
  ENTRA_CLIENT_ID: '00000000-0000-0000-0000-000000000000',
  ENTRA_CLIENT_SECRET: 'bench-client-secret',
  ONEDRIVE_TOKEN_KEYS: JSON.stringify({ keys: [{ kid: 'bench', key: Buffer.alloc(32, 7).toString('base64') }] }),
  WEBSITE_SITE_NAME: 'roger-bench',
  FUNCTIONS_EXTENSION_VERSION: '~4',
  // Required where WEBSITE_SITE_NAME is set; fresh ones, from the app's own tool.
  ROGER_SIGNING_KEYS: execFileSync(process.execPath, ['dist/tools/keys.js', 'new', 'signing-keys'], { encoding: 'utf8' }).trim(),
};
const telemetryOn = {
  APPLICATIONINSIGHTS_CONNECTION_STRING:
    'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/;LiveEndpoint=https://127.0.0.1:9/',
  APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
};

const sandbox = await mkdtemp(join(tmpdir(), 'roger-telemetry-start-'));
try {
  const app = join(sandbox, 'app');
  await cp('dist-publish', app, { recursive: true });
  const core = join(sandbox, 'node_modules', '@azure', 'functions-core');
  await mkdir(core, { recursive: true });
  await writeFile(join(core, 'package.json'), '{"name":"@azure/functions-core","main":"index.js"}');
  await writeFile(join(core, 'index.js'), CORE);

  const run = (extra) => {
    const t0 = performance.now();
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', CHILD], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', ...settings, ...extra },
      encoding: 'utf8',
    });
    return { ...JSON.parse(out.trim().split('\n').pop()), processMs: performance.now() - t0 };
  };
  const off = [];
  const on = [];
  for (let i = 0; i < pairs; i++) {
    // Interleaved, so a neighbour's load falls on both variants alike.
    off.push(run({}));
    on.push(run(telemetryOn));
  }
  const median = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  const row = (key, runs) => median(runs.map((r) => r[key]));
  const fmt = (n) => n.toFixed(1);
  const result = {
    pairs,
    off: { importMs: row('importMs', off), cpuMs: row('cpuMs', off) },
    on: { importMs: row('importMs', on), cpuMs: row('cpuMs', on), readyMs: row('readyMs', on) },
    paired: {
      importMs: median(on.map((r, i) => r.importMs - off[i].importMs)),
      cpuMs: median(on.map((r, i) => r.cpuMs - off[i].cpuMs)),
    },
  };
  console.log(JSON.stringify(result));
  console.log(
    `median of ${pairs} pairs: import off ${fmt(result.off.importMs)} ms (CPU ${fmt(result.off.cpuMs)}), ` +
      `on ${fmt(result.on.importMs)} ms (CPU ${fmt(result.on.cpuMs)}); paired difference ${fmt(result.paired.importMs)} ms ` +
      `(CPU ${fmt(result.paired.cpuMs)}); process start to distro ready ${fmt(result.on.readyMs)} ms`,
  );
} finally {
  await rm(sandbox, { recursive: true, force: true });
}
