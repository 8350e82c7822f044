import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RELEASE_CLAIM_SECONDS } from '../../shared/jobs/jobs.js';
import { ADMIN_CALL_TIMEOUT_MS, ADMIN_RETRY, SEND_RETRY } from '../../shared/messaging/messaging.js';
import { GRAPH_REQUEST_TIMEOUT_MS, MAX_RETRIES, MAX_RETRY_AFTER_SECONDS } from '../../shared/onedrive/graph-drive.js';
import { COSMOS_REQUEST_TIMEOUT_MS } from '../../shared/store/store-http-client.js';
import { cosmosConnectionPolicy } from '../../shared/store/store.js';

/**
 * A function that runs past host.json's `functionTimeout` makes the host restart the language
 * worker, and every request in flight on that instance dies with it. So the limit is generous
 * (HTTP requests are cut at 230 s by App Service's front end anyway) and every call to a
 * dependency carries its own, much shorter bound: a slow dependency costs one 503, never the
 * instance. These are the options the adapters build, read back.
 */
interface HostJson {
  functionTimeout: string;
  logging: { applicationInsights: { samplingSettings: { isEnabled: boolean; excludedTypes: string } } };
}
const host = JSON.parse(readFileSync('host.json', 'utf8')) as HostJson;
const [hours, minutes, seconds] = host.functionTimeout.split(':').map(Number) as [number, number, number];
const functionTimeoutMs = ((hours * 60 + minutes) * 60 + seconds) * 1000;
/** A worst case must fit twice into the limit: a handler makes more than one call. */
const HEADROOM = 2;

describe('time limits', () => {
  it('functionTimeout is 2 minutes: under the front end’s 230 s, far above any bounded call', () => {
    expect(host.functionTimeout).toBe('00:02:00');
    expect(functionTimeoutMs).toBeLessThan(230_000);
  });

  it('Cosmos DB: 5 s per request (the store’s HTTP client; the SDK’s timeout above it), throttling retried within 30 s', () => {
    const policy = cosmosConnectionPolicy(true);
    expect(COSMOS_REQUEST_TIMEOUT_MS).toBe(5_000);
    expect(policy.requestTimeout).toBeGreaterThan(COSMOS_REQUEST_TIMEOUT_MS);
    expect(policy.retryOptions).toEqual({ maxRetryAttemptCount: 9, maxWaitTimeInSeconds: 30 });
    const worst = policy.retryOptions!.maxWaitTimeInSeconds! * 1000 + COSMOS_REQUEST_TIMEOUT_MS;
    expect(worst * HEADROOM).toBeLessThanOrEqual(functionTimeoutMs);
  });

  it('Service Bus: a send is two tries of 5 s; an administration call (subscriptions) is cut at 10 s, retries included', () => {
    const send = (SEND_RETRY.maxRetries + 1) * SEND_RETRY.timeoutInMs + SEND_RETRY.maxRetries * SEND_RETRY.retryDelayInMs;
    expect(send * HEADROOM).toBeLessThanOrEqual(functionTimeoutMs);
    expect(ADMIN_RETRY.maxRetries).toBeLessThanOrEqual(2);
    expect(ADMIN_CALL_TIMEOUT_MS * HEADROOM).toBeLessThanOrEqual(functionTimeoutMs);
    // Each administration call of the adapter carries that signal (the client has no time limit of its own).
    const adapter = readFileSync('shared/messaging/azure-messaging.ts', 'utf8');
    const calls = adapter.match(/await admin\.\w+\(/g) ?? [];
    expect(calls.length).toBeGreaterThan(0);
    expect(adapter.match(/abortSignal: AbortSignal\.timeout\(ADMIN_CALL_TIMEOUT_MS\)/g)).toHaveLength(calls.length);
    expect(adapter).toContain('new ServiceBusAdministrationClient(namespace, credential, { retryOptions: ADMIN_RETRY })');
  });

  it('Graph and Entra ID: 8 s per Graph request, 2 retries after at most 5 s each, a token refresh of 10 s', () => {
    // MSAL's requests go through the network client of shared/microsoft/msal.ts, which cuts each at this limit.
    const msal = readFileSync('shared/microsoft/msal.ts', 'utf8');
    const TOKEN_TIMEOUT_MS = Number(/const DEFAULT_TIMEOUT_MS = ([\d_]+);/.exec(msal)![1]!.replaceAll('_', ''));
    expect(TOKEN_TIMEOUT_MS).toBe(10_000);
    expect(msal).toContain('registration.timeoutMs ?? DEFAULT_TIMEOUT_MS');
    const graph = (MAX_RETRIES + 1) * GRAPH_REQUEST_TIMEOUT_MS + MAX_RETRIES * MAX_RETRY_AFTER_SECONDS * 1000 + TOKEN_TIMEOUT_MS;
    expect(graph * HEADROOM).toBeLessThanOrEqual(functionTimeoutMs);
  });

  it('a release claim outlives any invocation, so it lapses only when its sender is gone', () => {
    expect(RELEASE_CLAIM_SECONDS * 1000).toBeGreaterThan(functionTimeoutMs);
  });
});

describe('telemetry sampling (host.json)', () => {
  it('samples requests (the Front Door probes from every edge site would otherwise all be stored), never exceptions', () => {
    const sampling = host.logging.applicationInsights.samplingSettings;
    expect(sampling.isEnabled).toBe(true);
    expect(sampling.excludedTypes.split(';')).toEqual(['Exception']);
  });

  it('keeps the host in the telemetry mode that reads those settings (OpenTelemetry mode ignores them)', () => {
    expect((host as { telemetryMode?: string }).telemetryMode).toBeUndefined();
  });
});
