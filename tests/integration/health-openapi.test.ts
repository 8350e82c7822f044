import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { routeTable } from '../../functions/routes.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

describe('GET /health', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost();
  });
  afterAll(() => host.close());

  it('reports status, version and region after one store call, and nothing secret', async () => {
    const response = await fetch(`${host.url}/health`);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toEqual({ status: 'ok', version: expect.any(String), region: 'eu', checks: { store: 'ok', onedrive: 'configured' } });
    expect(host.logs.at(-1)).toMatch(/route=\/health status=200 .*cosmosRequests=1 /);
    expect(JSON.stringify(body)).not.toMatch(/key|endpoint|127\.0\.0\.1/i);
  });
});

describe('GET /health with the store down', () => {
  let host: TestHost;
  beforeAll(async () => {
    // Port 9 (discard) on loopback: nothing listens, so every Cosmos request is refused.
    host = await startTestHost({ env: { COSMOS_ENDPOINT: 'http://127.0.0.1:9', COSMOS_KEY: 'bG9jYWw=' } });
  });
  afterAll(() => host.close());

  it('answers 503 problem+json with Retry-After', async () => {
    const response = await fetch(`${host.url}/health`);
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toMatchObject({ status: 503, region: 'eu', checks: { store: 'failed' } });
  });
});

describe('GET /openapi.json', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost();
  });
  afterAll(() => host.close());

  it('is a valid OpenAPI 3.1 document listing every route and method of the table', async () => {
    const response = await fetch(`${host.url}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(document.openapi).toBe('3.1.0');

    const validator = new Validator();
    const result = await validator.validate(document as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);

    const published = routeTable.routes.filter((route) => !route.internal);
    expect(published.length).toBeGreaterThan(0);
    for (const route of published) {
      for (const method of route.methods) {
        expect(document.paths[`/${route.route}`]?.[method.toLowerCase()], `${method} /${route.route}`).toBeDefined();
      }
    }
    const operations = Object.values(document.paths).flatMap((ops) => Object.keys(ops));
    expect(operations).toHaveLength(published.reduce((n, route) => n + route.methods.length, 0));
  });
});
