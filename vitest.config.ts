import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Vite's own warnings; the inlined workflow parser below ships source maps without sources.
  logLevel: 'error',
  test: {
    // The stand-in workspaces (tools/service-bus, tools/microsoft) and the reference clients
    // (clients/*) keep their tests beside them.
    include: ['tests/**/*.test.ts', 'tools/*/test/**/*.test.ts', 'clients/*/test/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    // Integration tests start servers on free ports; two cores, so keep parallelism modest.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/results.json' },
    // GitHub's workflow parser imports its JSON schema without an import attribute, which Node
    // refuses; inlined, Vite loads it (tests/infra/pipeline.test.ts).
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
});
