import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../shared/config/load-config.js';
import { startTelemetry } from '../../shared/telemetry/start.js';
import { noTelemetry } from '../../shared/telemetry/telemetry.js';

/** Where telemetry goes (telemetry/start.ts): nowhere by default, the console when a local run asks. */
describe('startTelemetry', () => {
  afterEach(() => vi.restoreAllMocks());

  it('is off without TELEMETRY_CONSOLE or APPLICATIONINSIGHTS_CONNECTION_STRING', async () => {
    expect(await startTelemetry(loadConfig({}), {})).toBe(noTelemetry);
    expect(await startTelemetry(loadConfig({ TELEMETRY_CONSOLE: 'off' }), {})).toBe(noTelemetry);
  });

  it('TELEMETRY_CONSOLE=on prints log records with their attributes, and leaves the log lines to the host', async () => {
    const printed: unknown[] = [];
    vi.spyOn(console, 'dir').mockImplementation((value: unknown) => void printed.push(value));
    const telemetry = await startTelemetry(loadConfig({ TELEMETRY_CONSOLE: 'on' }), {});
    expect(telemetry).not.toBe(noTelemetry);
    expect(telemetry.replacesHostLog).toBe(false);
    telemetry.log('warn', 'refresh-token-reuse', { tenantId: 't1' });
    expect(printed).toContainEqual(
      expect.objectContaining({
        body: 'refresh-token-reuse tenantId=t1',
        attributes: { 'roger.event': 'refresh-token-reuse', tenantId: 't1' },
      }),
    );
  });

  it('refuses a value other than on or off', () => {
    expect(() => loadConfig({ TELEMETRY_CONSOLE: 'yes' })).toThrow(/TELEMETRY_CONSOLE/);
  });
});
