import { execFile } from 'node:child_process';
import { cp, mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTable } from '../../functions/routes.js';
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
module.exports = {
  setProgrammingModel() {},
  registerHook(name) { hooks.push(name); return { dispose() {} }; },
  log() {},
  registerFunction(metadata) {
    const trigger = Object.values(metadata.bindings).find((b) => b.type === 'httpTrigger');
    registered.push({ name: metadata.name, route: trigger.route, methods: trigger.methods });
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

  it('registers every route and loads argon2 with nothing but its own files', async () => {
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
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { registered: { name: string; route: string }[]; argon2: boolean };
    expect(result.argon2).toBe(true);
    expect(result.registered.map((r) => `${r.name} ${r.route}`).sort()).toEqual(
      routeTable.routes.map((r) => `${r.name} ${r.route}`).sort(),
    );
  });

  it('starts Azure Monitor from its own files when the host sets APPLICATIONINSIGHTS_CONNECTION_STRING, hooks joined before start-up ends', async () => {
    const app = await unpacked();
    const script = `
      const { createRequire } = await import('node:module');
      await import('./dist/functions/index.js');
      const core = createRequire(process.cwd() + '/')('@azure/functions-core');
      console.log(JSON.stringify({ registered: core.registered.length, hooks: core.hooks }));
      process.exit(0);`;
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: app,
      env: {
        PATH: process.env.PATH ?? '',
        ...azureSettings,
        // Nothing is exported: the process ends before the first export, and the endpoint is closed.
        APPLICATIONINSIGHTS_CONNECTION_STRING:
          'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/',
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=00000000-0000-0000-0000-000000000001',
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
      },
    });
    expect(stderr + stdout).not.toContain('telemetry-start-failed');
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { registered: number; hooks: string[] };
    expect(result.registered).toBe(routeTable.routes.length);
    // The Functions instrumentation: trace context for each invocation, and the worker's own logs.
    expect(result.hooks).toEqual(expect.arrayContaining(['preInvocation', 'log']));
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
