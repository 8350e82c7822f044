import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Cold start (issue 8): the Functions host imports dist/functions/index.js on every new
 * instance. The heavy SDKs — Service Bus, Microsoft Graph, Azure Identity, OpenTelemetry — and the argon2
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
    // Telemetry: none of OpenTelemetry loads unless a setting turns it on (shared/telemetry/start.ts).
    ['@opentelemetry/api', /Symbol\.for\(["`]opentelemetry\.js\.api\./],
    ['@azure/monitor-opentelemetry', /function useAzureMonitor\(/],
    ['@azure/functions-opentelemetry-instrumentation', /AzureFunctionsInstrumentationESM = /],
  ])('%s is in the bundle, but not in what the entry imports statically', (_sdk, definition) => {
    const defining = definedIn(definition);
    expect(defining.length).toBeGreaterThan(0);
    for (const file of defining) expect(eager.has(file), file).toBe(false);
  });

  it('argon2 (a native addon) is imported dynamically only', () => {
    for (const file of eager) expect(readFileSync(file, 'utf8'), file).not.toMatch(/^\s*import\s[^;]*["']@node-rs\/argon2["']/m);
    expect(definedIn(/import\("@node-rs\/argon2"\)/).length).toBeGreaterThan(0);
  });
});
