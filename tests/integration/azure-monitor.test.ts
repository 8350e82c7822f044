import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { shutdownAzureMonitor } from '@azure/monitor-opentelemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/load-config.js';
import { startAzureFunctionsTelemetry } from '../../shared/telemetry/azure-functions.js';
import { metricNames } from '../../shared/telemetry/metric-names.js';

/**
 * The Azure Monitor distro as the Functions entry starts it (telemetry/azure-functions.ts: after
 * start-up, with what was reported before replayed), exporting to an ingestion endpoint of the
 * test's own instead of Application Insights: what arrives is the wire format, so the metric
 * names an alert queries in `customMetrics` and the dependency and trace items are checked as
 * Application Insights would store them.
 */
describe('Azure Monitor: what reaches the ingestion endpoint', () => {
  let server: Server;
  const envelopes: { name: string; data: { baseType: string; baseData: Record<string, unknown> } }[] = [];

  beforeAll(async () => {
    // The exporter speaks HTTPS only: a certificate of the test's own, trusted by this worker alone.
    const folder = mkdtempSync(join(tmpdir(), 'roger-ingestion-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(folder, 'key.pem'),
        '-out',
        join(folder, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const tls = { key: readFileSync(join(folder, 'key.pem')), cert: readFileSync(join(folder, 'cert.pem')) };
    rmSync(folder, { recursive: true, force: true });
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    // As in the Function App: the distro's resource detection finds Azure Functions here rather
    // than asking the VM metadata endpoint, which would leave the machine.
    process.env.WEBSITE_SITE_NAME = 'roger-test';
    process.env.FUNCTIONS_EXTENSION_VERSION = '~4';
    server = createServer(tls, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        if (request.url?.includes('/track')) envelopes.push(...(JSON.parse(text) as typeof envelopes));
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ itemsReceived: 1, itemsAccepted: 1, errors: [] }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('counters arrive under the names the alerts query, with their attributes, also those counted before it started; spans as dependencies; events as traces', async () => {
    const { port } = server.address() as AddressInfo;
    const { telemetry, started } = startAzureFunctionsTelemetry(
      loadConfig({}),
      {
        // Live metrics to a closed loopback port: its default endpoint is Microsoft's.
        APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:${port}/;LiveEndpoint=https://127.0.0.1:9/`,
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
      },
      { quietMs: 0, deadlineMs: 0 },
    );
    // Before the distro is ready: queued, then replayed.
    expect(telemetry.replacesHostLog).toBe(true);
    telemetry.signIn('pin', 'success');
    telemetry.lockout('printer');
    telemetry.log('info', 'request', { route: '/health', status: 200 });
    expect(await started).toBe(true);
    expect(telemetry.replacesHostLog).toBe(true);
    telemetry.refusal(429);
    // Traces are sampled at 5 per second (the distro's default), a budget that starts from none
    // and fills with time: calls spread over 3 s, so a slow, busy machine still samples some.
    for (let i = 0; i < 30; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await telemetry.dependency(
        { system: 'cosmosdb', operation: 'read', target: 'accounts' },
        async () => 'ok',
        () => ({ statusCode: 200 }),
      );
    }
    telemetry.log('info', 'request', { route: '/regions', status: 200 });
    await shutdownAzureMonitor(); // flushes every exporter

    const metrics = envelopes.filter((e) => e.data.baseType === 'MetricData');
    const metric = (name: string) =>
      metrics.flatMap((e) =>
        ((e.data.baseData.metrics as { name: string; value: number }[]) ?? []).filter((m) => m.name === name).map(() => e.data.baseData),
      );
    expect(metric(metricNames.signIns)[0]).toMatchObject({ properties: { method: 'pin', outcome: 'success' } });
    expect(metric(metricNames.lockouts)[0]).toMatchObject({ properties: { scope: 'printer' } });
    expect(metric(metricNames.refusals)[0]).toMatchObject({ properties: { status: '429' } });
    const dependency = envelopes.find((e) => e.data.baseType === 'RemoteDependencyData');
    expect(dependency?.data.baseData).toMatchObject({
      name: 'cosmosdb read accounts',
      type: 'azure.cosmosdb',
      data: 'read',
      success: true,
      properties: { 'db.collection.name': 'accounts', 'db.response.status_code': '200' },
    });
    const traces = envelopes.filter((e) => e.data.baseType === 'MessageData').map((e) => e.data.baseData);
    expect(traces).toContainEqual(
      expect.objectContaining({ message: 'request route=/regions status=200', properties: expect.objectContaining({ route: '/regions' }) }),
    );
    expect(traces).toContainEqual(expect.objectContaining({ message: 'request route=/health status=200' }));
    expect(traces).toContainEqual(
      expect.objectContaining({ message: expect.stringMatching(/^telemetry-started ms=\d+ replayed=3 dropped=0$/) }),
    );
  });
});
