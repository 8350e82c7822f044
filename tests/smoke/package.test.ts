import { execFile } from 'node:child_process';
import { cp, mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTable } from '../../functions/routes.js';
import { timers } from '../../functions/timers.js';
import { azureSettings } from './azure-settings.js';

/**
 * What the pipeline publishes (`npm run package` → dist-publish/), loaded on its own, away from
 * the repository's node_modules, with a stand-in for the worker's @azure/functions-core that
 * records registrations: proves the package holds everything the Function App will load.
 */
const run = promisify(execFile);
const FAKE_CORE = `
const registered = [];
const hooks = [];
let model;
module.exports = {
  setProgrammingModel(programmingModel) { model = programmingModel; },
  registerHook(name, callback) {
    const hook = { name, callback };
    hooks.push(hook);
    return { dispose() { hooks.splice(hooks.indexOf(hook), 1); } };
  },
  /** What the worker asks once the app has loaded: the end of the app's set-up. */
  capabilities: () => model.getCapabilities({}),
  /** One invocation's hooks, as the worker runs them around a function. */
  async invoke() {
    const context = { invocationContext: {}, inputs: [], hookData: {} };
    for (const name of ['preInvocation', 'postInvocation'])
      for (const hook of hooks.filter((h) => h.name === name)) await hook.callback(context);
  },
  hookNames: () => hooks.map((h) => h.name),
  log() {},
  registerFunction(metadata) {
    const trigger = Object.values(metadata.bindings).find((b) => b.type === 'httpTrigger' || b.type === 'timerTrigger');
    registered.push({ name: metadata.name, type: trigger.type, route: trigger.route, methods: trigger.methods, schedule: trigger.schedule });
    return { dispose() {} };
  },
  registered,
  hooks,
};`;

describe('the published package', () => {
  let sandbox: string | undefined;
  beforeAll(async () => {
    await run(process.execPath, ['tools/package.mjs']);
  });
  afterAll(async () => {
    if (sandbox) await rm(sandbox, { recursive: true, force: true });
  });

  /** The package copied away from the repository, beside a stand-in for the worker's module. */
  async function unpacked(): Promise<string> {
    sandbox ??= await mkdtemp(join(tmpdir(), 'roger-package-'));
    const app = join(sandbox, 'app');
    await rm(app, { recursive: true, force: true });
    await cp('dist-publish', app, { recursive: true });
    // Outside the app folder, where the worker's own module would resolve from.
    const core = join(sandbox, 'node_modules', '@azure', 'functions-core');
    await mkdir(core, { recursive: true });
    await writeFile(join(core, 'package.json'), '{"name":"@azure/functions-core","main":"index.js"}');
    await writeFile(join(core, 'index.js'), FAKE_CORE);
    return app;
  }

  it('registers every route and timer, and loads argon2 with nothing but its own files', async () => {
    const app = await unpacked();

    const script = `
      const { createRequire } = await import('node:module');
      const pkg = JSON.parse(await (await import('node:fs/promises')).readFile('package.json', 'utf8'));
      await import('./' + pkg.main);
      const core = createRequire(process.cwd() + '/')('@azure/functions-core');
      const argon2 = await import('@node-rs/argon2');
      const hash = await argon2.hash('1234');
      console.log(JSON.stringify({ registered: core.registered, argon2: await argon2.verify(hash, '1234') }));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', ...azureSettings },
    });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
      registered: { name: string; type: string; route?: string; schedule?: string }[];
      argon2: boolean;
    };
    expect(result.argon2).toBe(true);
    const http = result.registered.filter((r) => r.type === 'httpTrigger');
    expect(http.map((r) => `${r.name} ${r.route}`).sort()).toEqual(routeTable.routes.map((r) => `${r.name} ${r.route}`).sort());
    // The timer functions (functions/timers.ts), each on its NCRONTAB schedule.
    const timed = result.registered.filter((r) => r.type === 'timerTrigger');
    expect(timed.map((r) => `${r.name} ${r.schedule}`)).toEqual(timers.map((t) => `${t.name} ${t.schedule}`));
  });

  it('starts Azure Monitor from its own files when the host sets APPLICATIONINSIGHTS_CONNECTION_STRING: the capability during start-up, the distro after the first invocation', async () => {
    const app = await unpacked();
    const script = `
      const { createRequire } = await import('node:module');
      await import('./dist/functions/index.js');
      const core = createRequire(process.cwd() + '/')('@azure/functions-core');
      const capabilities = await core.capabilities();
      const api = Symbol.for('opentelemetry.js.api.1');
      const atLoad = { hooks: core.hookNames(), otel: globalThis[api] !== undefined };
      await core.invoke();
      for (let i = 0; i < 1000 && !globalThis[api]?.metrics; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 50));
      console.log(JSON.stringify({ registered: core.registered.length, capabilities, atLoad, hooks: core.hookNames(), otel: globalThis[api] !== undefined }));
      process.exit(0);`;
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: app,
      env: {
        PATH: process.env.PATH ?? '',
        ...azureSettings,
        // Nothing is exported: the process ends before the first export, and the endpoints are closed.
        APPLICATIONINSIGHTS_CONNECTION_STRING:
          'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/;LiveEndpoint=https://127.0.0.1:9/',
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=00000000-0000-0000-0000-000000000001',
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
      },
    });
    expect(stderr + stdout).not.toContain('telemetry-start-failed');
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
      registered: number;
      capabilities: Record<string, string>;
      atLoad: { hooks: string[]; otel: boolean };
      hooks: string[];
      otel: boolean;
    };
    expect(result.registered).toBe(routeTable.routes.length + timers.length);
    // Declared while the app loaded: the host no longer sends the worker's logs on its behalf.
    expect(result.capabilities).toMatchObject({ WorkerOpenTelemetryEnabled: 'true' });
    // At load, no OpenTelemetry at all: only the hooks that wait for the first invocation.
    expect(result.atLoad).toEqual({ hooks: ['preInvocation', 'postInvocation'], otel: false });
    // After it: the distro, and the Functions instrumentation's hooks (trace context for each
    // invocation, the worker's own logs); the distro adds a trace-context hook of its own. The
    // hooks that waited for the first invocation are gone.
    expect(result.otel).toBe(true);
    expect(result.hooks).toEqual(expect.arrayContaining(['log', 'preInvocation']));
    expect(result.hooks).not.toContain('postInvocation');
  });

  it('holds no stand-in code: nothing from tools/, the local Cosmos server or the broker', async () => {
    const { outputs } = JSON.parse(await readFile('dist/build-meta.json', 'utf8')) as {
      outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
    };
    const published = (await readdir('dist-publish/dist', { recursive: true })).filter((f) => f.endsWith('.js')).map((f) => `dist/${f}`);
    expect(published).toContain('dist/functions/index.js');
    const standIns = published.flatMap((file) =>
      Object.keys(outputs[file]!.inputs)
        .filter((input) => /^tools\/|node_modules\/(@vercel\/cosmosdb-server|rhea)\//.test(input))
        .map((input) => `${file} holds ${input}`),
    );
    expect(standIns).toEqual([]);
  });
});
