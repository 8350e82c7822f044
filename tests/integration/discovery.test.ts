import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, SlugTaken } from '../../shared/tenants/tenants.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/** `us` as a catalog written before amqpWebSocketUrl existed: discovery derives it. */
const regions = [
  {
    id: 'eu',
    name: 'Europe',
    apiUrl: 'https://eu.api.example.test',
    amqpUrl: 'amqps://eu.sb.example.test',
    amqpWebSocketUrl: 'wss://eu.sb.example.test/$servicebus/websocket',
  },
  { id: 'us', name: 'United States', apiUrl: 'https://us.api.example.test', amqpUrl: 'amqps://us.sb.example.test' },
];

describe('discovery (docs/flows.md#discovery)', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost();
  });
  afterAll(() => host.close());

  it('lists the local default regions eu and us', async () => {
    const response = await fetch(`${host.url}/regions`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    const body = (await response.json()) as { regions: { id: string; apiUrl: string; amqpUrl: string }[] };
    expect(body.regions.map((r) => r.id)).toEqual(['eu', 'us']);
    expect(body.regions[0]!.apiUrl).toBe(host.url); // local default: this host's PORT
  });

  it('advertises AMQP over WebSockets beside AMQP for each region (docs/flows.md#amqp-over-websockets)', async () => {
    const { regions: listed } = (await (await fetch(`${host.url}/regions`)).json()) as {
      regions: { amqpUrl: string; amqpWebSocketUrl: string }[];
    };
    for (const region of listed) {
      expect(region.amqpUrl).toBe('amqp://localhost:5672');
      expect(region.amqpWebSocketUrl).toBe('ws://localhost:5672/$servicebus/websocket'); // the local broker: one port for both
    }
    expect(await (await fetch(`${host.url}/regions/us`)).json()).toMatchObject({
      amqpWebSocketUrl: 'ws://localhost:5672/$servicebus/websocket',
    });
  });

  it('answers 304 to If-None-Match with the current ETag, and 200 to a stale one', async () => {
    const first = await fetch(`${host.url}/regions`);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const cached = await fetch(`${host.url}/regions`, { headers: { 'If-None-Match': etag } });
    expect(cached.status).toBe(304);
    expect(cached.headers.get('etag')).toBe(etag);
    expect(await cached.text()).toBe('');
    const weak = await fetch(`${host.url}/regions`, { headers: { 'If-None-Match': `"stale", W/${etag}` } });
    expect(weak.status).toBe(304);
    const stale = await fetch(`${host.url}/regions`, { headers: { 'If-None-Match': '"stale"' } });
    expect(stale.status).toBe(200);
  });

  it('answers HEAD like GET, without a body', async () => {
    const get = await fetch(`${host.url}/regions`);
    const head = await fetch(`${host.url}/regions`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toBe(get.headers.get('etag'));
    expect(await head.text()).toBe('');
  });

  it('returns one region, 404 problem for an unknown id, 400 for a malformed one', async () => {
    const eu = await fetch(`${host.url}/regions/eu`);
    expect(eu.status).toBe(200);
    expect(await eu.json()).toMatchObject({ id: 'eu', name: 'Europe' });

    const unknown = await fetch(`${host.url}/regions/ap`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');

    const malformed = await fetch(`${host.url}/regions/EU-1`);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ errors: [{ pointer: '/params/id' }] });
  });

  it('answers 404 problem+json for an unknown tenant, with nothing else in it', async () => {
    const response = await fetch(`${host.url}/tenants/nope/region`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toEqual({
      type: 'tag:roger.cloud,2026:problems/not-found',
      title: 'Not found',
      status: 404,
      detail: 'no tenant has this slug',
      instance: '/tenants/nope/region',
    });
  });

  it('rejects a malformed slug with 400 naming the parameter', async () => {
    const response = await fetch(`${host.url}/tenants/Not_A_Slug/region`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ pointer: '/params/slug' }] });
  });
});

describe('tenant home region from the directory', () => {
  let host: TestHost;
  const env = { ROGER_REGIONS: JSON.stringify(regions), ROGER_REGION: 'us' };

  beforeAll(async () => {
    host = await startTestHost({ env });
  });
  afterAll(() => host.close());

  it('finds a registered tenant with one point read and serves its region', async () => {
    const services = await host.services();
    await createTenant(services, { slug: 'contoso', name: 'Contoso' });
    await expect(createTenant(services, { slug: 'contoso', name: 'Other' })).rejects.toBeInstanceOf(SlugTaken);

    const response = await fetch(`${host.url}/tenants/contoso/region`);
    expect(response.status).toBe(200);
    // This app serves "us"; the tenant was created here. Its catalog entry has no amqpWebSocketUrl:
    // the one derived from amqpUrl is served (443, the SDK's path).
    expect(await response.json()).toEqual({ ...regions[1], amqpWebSocketUrl: 'wss://us.sb.example.test/$servicebus/websocket' });
    expect(response.headers.get('etag')).toBeTruthy();
    expect(host.logs.at(-1)).toMatch(/route=\/tenants\/\{slug\}\/region status=200 .*cosmosRequests=1 /);
  });

  it('serves the amqpWebSocketUrl the catalog names', async () => {
    const { regions: listed } = (await (await fetch(`${host.url}/regions`)).json()) as { regions: unknown[] };
    expect(listed[0]).toEqual(regions[0]);
  });
});
