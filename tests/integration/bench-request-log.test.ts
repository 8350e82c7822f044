import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callCost } from '../../tools/bench/request-log.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * The bench reads each call's store cost from the host's request log (docs/benchmarks.md#the-cost-table):
 * a field renamed in the log line would leave its column '-' without anyone noticing, so this
 * reads the line of a real device authorization the way the bench does.
 */
describe('the bench reads the request log line (tools/bench/request-log.ts)', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost();
  });
  afterAll(() => host.close());

  it('finds every cost field of a device authorization: requests, bytes each way, indexed paths, RU', async () => {
    const response = await fetch(`${host.url}/oauth/device_authorization`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'client_id=roger-desktop&scope=jobs',
    });
    expect(response.status).toBe(200);
    const cost = callCost(host.logs, '/oauth/device_authorization');
    expect(cost).toBeDefined();
    expect(cost!.requests).toBeGreaterThanOrEqual(1);
    expect(cost!.bytesWritten).toBeGreaterThan(0); // the device-code record
    expect(cost!.bytesRead).toBeGreaterThan(0); // the record as the store sent it back
    expect(cost!.indexedPaths).toBeGreaterThanOrEqual(2); // id and _ts at least
    expect(cost!.ruEstimate).toBeGreaterThan(0);
    expect(cost!.ru).toBeGreaterThan(0);
  });

  it('means over the calls, the spread of request counts, and no field some calls lack', () => {
    const lines = [
      '2026-12-01T12:00:00.000Z information request method=POST route=/oauth/token status=200 ms=3 cosmosRequests=2 cosmosRU=2 cosmosBytesWritten=1000',
      '2026-12-01T12:00:00.001Z information request method=POST route=/oauth/token status=200 ms=4 cosmosRequests=3 cosmosRU=3',
      'information request method=GET route=/regions status=200 ms=1 cosmosRequests=0 cosmosRU=0',
    ];
    expect(callCost(lines, '/oauth/token')).toEqual({ requests: 2.5, ru: 2.5, requestsRange: [2, 3] });
    expect(callCost(lines, '/regions')).toEqual({ requests: 0, ru: 0 });
    expect(callCost(lines, '/api/jobs')).toBeUndefined();
  });
});
