import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { azureSettings } from './azure-settings.js';

/**
 * Cold start (issue 8): the Functions host imports dist/functions/index.js on every new
 * instance. The heavy SDKs — Service Bus, Microsoft Graph, Azure Identity, OpenTelemetry, scim-patch — and the argon2
 * addon must sit behind dynamic imports, loaded by the functions that use them, not by the
 * entry. Checked on the bundle's static import graph; `npm run bench` times the import.
 */
function staticallyImported(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\s+(?:[^'"]*?\sfrom\s+)?["']([^"']+)["'];?$/gm)) {
      if (match[1]!.startsWith('.')) visit(join(dirname(file), match[1]!));
    }
  };
  visit(entry);
  return seen;
}

const chunks = readdirSync('dist/chunks')
  .filter((f) => f.endsWith('.js'))
  .map((f) => join('dist/chunks', f));
const definedIn = (pattern: RegExp) => chunks.filter((file) => pattern.test(readFileSync(file, 'utf8')));

describe('the Functions entry loads heavy SDKs lazily', () => {
  const eager = staticallyImported('dist/functions/index.js');

  it.each([
    ['@azure/service-bus', /ServiceBusAdministrationClient = class/],
    ['@microsoft/microsoft-graph-client', /var GraphClientError = /],
    ['@azure/identity', /DefaultAzureCredential = class|class DefaultAzureCredential/],
    // Sign in with Microsoft: MSAL loads with the first Microsoft sign-in (shared/microsoft/msal.ts).
    ['@azure/msal-node', /ConfidentialClientApplication = class extends ClientApplication/],
    // SCIM PATCH: the library loads with the first PATCH (shared/scim/patch.ts).
    ['scim-patch', /NoPathInScimPatchOp = class extends InvalidScimPatch/],
    // Telemetry: none of OpenTelemetry loads unless a setting turns it on (shared/telemetry/start.ts).
    ['@opentelemetry/api', /Symbol\.for\(["`]opentelemetry\.js\.api\./],
    ['@azure/monitor-opentelemetry', /function useAzureMonitor\(/],
    ['@azure/functions-opentelemetry-instrumentation', /AzureFunctionsInstrumentationESM = /],
  ])('%s is in the bundle, but not in what the entry imports statically', (_sdk, definition) => {
    const defining = definedIn(definition);
    expect(defining.length).toBeGreaterThan(0);
    for (const file of defining) expect(eager.has(file), file).toBe(false);
  });

  it('with telemetry on, the entry awaits only the small start-up chunk, which imports neither the distro nor OpenTelemetry statically', () => {
    const [startup, ...others] = definedIn(/function startAzureFunctionsTelemetry\(/);
    expect(others).toEqual([]);
    expect(eager.has(startup!)).toBe(false);
    const awaited = staticallyImported(startup!);
    for (const definition of [
      /function useAzureMonitor\(/,
      /AzureFunctionsInstrumentationESM = /,
      /Symbol\.for\(["`]opentelemetry\.js\.api\./,
    ])
      for (const file of definedIn(definition)) expect(awaited.has(file), file).toBe(false);
    // The distro is one dynamic import away, made after start-up (shared/telemetry/quiet-start.ts).
    expect(readFileSync(startup!, 'utf8')).toMatch(/import\(["']\.\/azure-monitor-[A-Z0-9]+\.js["']\)/);
  });

  it('with telemetry on, importing the entry starts no OpenTelemetry: nothing is registered when the import returns', () => {
    const script = `
      await import('./dist/functions/index.js');
      console.log(JSON.stringify({ otel: globalThis[Symbol.for('opentelemetry.js.api.1')] !== undefined }));
      process.exit(0);`;
    const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH ?? '',
        ...azureSettings,
        APPLICATIONINSIGHTS_CONNECTION_STRING:
          'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/;LiveEndpoint=https://127.0.0.1:9/',
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
      },
      encoding: 'utf8',
    });
    expect(stdout).not.toContain('telemetry-start-failed');
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({ otel: false });
  });

  it('argon2 (a native addon) is imported dynamically only', () => {
    for (const file of eager) expect(readFileSync(file, 'utf8'), file).not.toMatch(/^\s*import\s[^;]*["']@node-rs\/argon2["']/m);
    expect(definedIn(/import\("@node-rs\/argon2"\)/).length).toBeGreaterThan(0);
  });
});
