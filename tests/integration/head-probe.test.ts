import { HttpRequest, InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { regionsList } from '../../functions/discovery.js';
import { routeTable } from '../../functions/routes.js';
import { createHttpHandler } from '../../shared/http/http-handler.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * Front Door's health probe is `HEAD /regions` (infra/modules/front-door.bicep): 200 without a
 * body, on the local host and from the handler the Functions host calls (which would otherwise
 * pass a body on to whatever the platform does with it).
 */
describe('HEAD /regions, the Front Door probe', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost();
  });
  afterAll(() => host.close());

  it('answers 200 with no body on the local host', async () => {
    const response = await fetch(`${host.url}/regions`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.text()).toBe('');
  });

  it('the handler the Functions host registers answers HEAD with the GET headers and no body', async () => {
    const handler = createHttpHandler(regionsList, { services: host.services, table: routeTable });
    const call = (method: string) =>
      handler(new HttpRequest({ method, url: `${host.url}/regions` }), new InvocationContext({ functionName: regionsList.name }));
    const [get, head] = await Promise.all([call('GET'), call('HEAD')]);
    expect(get.body).toContain('"regions"');
    expect(head.status).toBe(200);
    expect(head.body).toBeUndefined();
    expect(head.headers['Content-Type']).toBe('application/json');
    expect(get.headers.ETag).toMatch(/^".+"$/);
    expect(head.headers.ETag).toBe(get.headers.ETag);
  });
});
