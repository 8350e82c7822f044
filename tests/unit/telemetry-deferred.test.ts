import functions from '@azure/functions';
import { AzureFunctionsInstrumentationESM } from '@azure/functions-opentelemetry-instrumentation';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../shared/config/load-config.js';
import { startAzureFunctionsTelemetry, workerTelemetryCapabilities } from '../../shared/telemetry/azure-functions.js';
import { deferredTelemetry } from '../../shared/telemetry/deferred.js';
import { metricNames } from '../../shared/telemetry/metric-names.js';
import { startWhenQuiet, type InvocationHooks } from '../../shared/telemetry/quiet-start.js';
import { counted, recordTelemetry } from '../helpers/telemetry.js';

/**
 * In Azure the distro starts after start-up (telemetry/azure-functions.ts); the port the services
 * got at start keeps what they report until then (telemetry/deferred.ts), replayed into the real
 * OpenTelemetry port over the SDK's in-memory exporters.
 */
describe('the deferred telemetry port', () => {
  const recorder = recordTelemetry();
  afterAll(() => recorder.shutdown());

  it('queues counters and log records, replays them when the real port is ready, then passes calls straight on', async () => {
    const deferred = deferredTelemetry({ replacesHostLog: true });
    const { telemetry } = deferred;
    telemetry.signIn('pin', 'failure');
    telemetry.signIn('pin', 'failure');
    telemetry.lockout('printer');
    telemetry.refusal(429);
    telemetry.messagesSent(3);
    const before = Date.now() - 60_000;
    telemetry.log('warn', 'refresh-token-reuse', { tenantId: 't1' }, before);
    // Before ready: the call runs, untraced.
    expect(await telemetry.dependency({ system: 'cosmosdb', operation: 'read', target: 'accounts' }, async () => 'early')).toBe('early');
    expect(deferred.queued).toBe(6);
    expect(telemetry.replacesHostLog).toBe(true);

    deferred.ready(recorder.telemetry);
    expect(deferred.queued).toBe(0);
    expect(telemetry.replacesHostLog).toBe(false); // the real port's answer from now on
    telemetry.signIn('pin', 'failure');
    await telemetry.dependency({ system: 'cosmosdb', operation: 'read', target: 'jobs' }, async () => 'late');

    const exported = await recorder.exported();
    expect(counted(exported, metricNames.signIns, { method: 'pin', outcome: 'failure' })).toBe(3);
    expect(counted(exported, metricNames.lockouts, { scope: 'printer' })).toBe(1);
    expect(counted(exported, metricNames.refusals, { status: 429 })).toBe(1);
    expect(counted(exported, metricNames.messagesSent)).toBe(3);
    const record = exported.logs.find((r) => (r.attributes as Record<string, unknown>)['roger.event'] === 'refresh-token-reuse');
    expect(record).toMatchObject({ body: 'refresh-token-reuse tenantId=t1', severityText: 'WARN' });
    expect(exported.spans.map((span) => span.name)).toEqual(['cosmosdb read jobs']);
  });

  it('keeps at most `capacity` entries and counts what it dropped', () => {
    const deferred = deferredTelemetry({ capacity: 3, replacesHostLog: true });
    for (let i = 0; i < 5; i++) deferred.telemetry.release();
    deferred.telemetry.log('info', 'request', { status: 200 });
    expect(deferred.queued).toBe(3);
    expect(deferred.dropped).toBe(3);
    const replayed: string[] = [];
    deferred.ready({ ...recorder.telemetry, release: () => void replayed.push('release'), log: () => void replayed.push('log') });
    expect(replayed).toEqual(['release', 'release', 'release']);
  });

  it('when telemetry cannot start, lets the queue go and reports nowhere; the host log gets the lines again', async () => {
    const deferred = deferredTelemetry({ replacesHostLog: true });
    deferred.telemetry.refreshReuse();
    deferred.failed();
    expect(deferred.queued).toBe(0);
    expect(deferred.telemetry.replacesHostLog).toBe(false);
    deferred.telemetry.refreshReuse();
    expect(deferred.queued).toBe(0);
    expect(await deferred.telemetry.dependency({ system: 'graph', operation: 'item' }, async () => 7)).toBe(7);
    deferred.ready(recorder.telemetry); // too late: ignored
    expect(deferred.telemetry.replacesHostLog).toBe(false);
  });
});

describe('when the distro starts (telemetry/quiet-start.ts)', () => {
  afterEach(() => vi.useRealTimers());

  /** Invocation hooks as the worker runs them: one callback pair, removable. */
  function worker() {
    let listeners: { began: () => void; ended: () => void } | undefined;
    const hooks: InvocationHooks = {
      onInvocation(began, ended) {
        listeners = { began, ended };
        return () => (listeners = undefined);
      },
    };
    return { hooks, begin: () => listeners?.began(), end: () => listeners?.ended(), listening: () => listeners !== undefined };
  }

  it('not before the first invocation, then once nothing has run for quietMs; it stops listening', () => {
    vi.useFakeTimers();
    const w = worker();
    const start = vi.fn();
    startWhenQuiet(w.hooks, start, { quietMs: 200, deadlineMs: 10_000 });
    vi.advanceTimersByTime(5_000); // start-up, waiting for the request that woke the instance
    expect(start).not.toHaveBeenCalled();
    w.begin();
    w.begin();
    w.end();
    vi.advanceTimersByTime(1_000); // one still running
    expect(start).not.toHaveBeenCalled();
    w.end();
    vi.advanceTimersByTime(150);
    w.begin(); // the client's next request: wait again
    w.end();
    vi.advanceTimersByTime(150);
    expect(start).not.toHaveBeenCalled();
    vi.advanceTimersByTime(50);
    expect(start).toHaveBeenCalledTimes(1);
    expect(w.listening()).toBe(false);
    vi.advanceTimersByTime(20_000);
    expect(start).toHaveBeenCalledTimes(1);
  });

  it('at the deadline whatever runs, so a busy or idle instance is not left without telemetry', () => {
    vi.useFakeTimers();
    const w = worker();
    const start = vi.fn();
    startWhenQuiet(w.hooks, start, { quietMs: 200, deadlineMs: 10_000 });
    w.begin();
    vi.advanceTimersByTime(10_000);
    expect(start).toHaveBeenCalledTimes(1);
    w.end();
    vi.advanceTimersByTime(1_000);
    expect(start).toHaveBeenCalledTimes(1);
  });
});

describe('the Functions set-up at load (telemetry/azure-functions.ts)', () => {
  it('declares the capabilities the Functions instrumentation would declare in its own set-up', () => {
    const declared: unknown[] = [];
    new AzureFunctionsInstrumentationESM({ enabled: false }).registerAzFunc({
      ...functions,
      app: { ...functions.app, setup: (options) => void declared.push(options.capabilities) },
    });
    expect(declared).toEqual([workerTelemetryCapabilities]);
  });

  it('if the distro does not start, the app keeps its (empty) telemetry and says so in one line without the setting', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
    // Not an instrumentation key: the distro's exporter refuses it.
    const secretish = 'InstrumentationKey=not-a-key-5ecret;IngestionEndpoint=https://127.0.0.1:9/;LiveEndpoint=https://127.0.0.1:9/';
    const { telemetry, started } = startAzureFunctionsTelemetry(
      loadConfig({}),
      { APPLICATIONINSIGHTS_CONNECTION_STRING: secretish, APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true' },
      { quietMs: 0, deadlineMs: 0 },
    );
    telemetry.signIn('password', 'success');
    expect(await started).toBe(false);
    expect(lines.filter((line) => line.startsWith('telemetry-start-failed'))).toEqual([
      expect.stringMatching(/^telemetry-start-failed error=\w+$/),
    ]);
    expect(lines.join('\n')).not.toContain('5ecret');
    expect(telemetry.replacesHostLog).toBe(false);
    expect(await telemetry.dependency({ system: 'entra', operation: 'token' }, async () => 'served')).toBe('served');
    vi.restoreAllMocks();
  });
});
