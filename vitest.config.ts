import { defineConfig } from 'vitest/config';

/**
 * Files that register process-wide singletons (OpenTelemetry's global tracer, meter and logger
 * providers can be set once per process; the Azure Monitor file also sets the environment the
 * distro reads) run with modules of their own; every other file shares its worker's modules with
 * the files before it, which spares re-importing the app and its SDKs for each of ~140 files
 * (about a third of the suite's time).
 */
const ISOLATED = ['tests/**/telemetry.test.ts', 'tests/integration/azure-monitor.test.ts'];

export default defineConfig({
  // Vite's own warnings; the inlined workflow parser below ships source maps without sources.
  logLevel: 'error',
  test: {
    // Integration tests start servers on free ports; two cores, so keep parallelism modest.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/results.json' },
    // GitHub's workflow parser imports its JSON schema without an import attribute, which Node
    // refuses; inlined, Vite loads it (tests/infra/pipeline.test.ts).
    server: { deps: { inline: ['@actions/workflow-parser'] } },
    projects: [
      {
        extends: true,
        test: {
          name: 'shared-modules',
          // The stand-in workspaces (tools/service-bus, tools/microsoft) and the reference clients
          // (clients/*) keep their tests beside them.
          include: ['tests/**/*.test.ts', 'tools/*/test/**/*.test.ts', 'clients/*/test/**/*.test.ts'],
          exclude: ISOLATED,
          isolate: false,
          // The build before any test (the smoke tests run dist/), named in one project only: a
          // setup of the root config would run again for each project, the builds racing on dist/.
          globalSetup: ['tests/global-setup.ts'],
        },
      },
      { extends: true, test: { name: 'isolated', include: ISOLATED, isolate: true } },
    ],
  },
});
