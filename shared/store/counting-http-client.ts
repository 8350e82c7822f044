import { createDefaultHttpClient, type HttpClient } from '@azure/core-rest-pipeline';
import { noteBatchExchange } from './batch-outcome.js';
import { costOfRequest } from './cosmos-cost.js';
import { recordCosmosRequest, type CosmosRequestCost } from './request-meter.js';

/** The request body as text when the SDK sent text (it sends JSON); else its length only, if it has one. */
function bodyText(body: unknown): string | undefined {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  return undefined;
}

/**
 * The SDK's own HTTP client, wrapped to count requests, request units, bytes each way, indexed
 * paths and an RU estimate per API call (cosmos-cost.ts, docs/data.md#what-a-call-costs); and,
 * for a transactional batch, what the wire answered (batch-outcome.ts: the SDK drops it).
 * `CosmosClientOptions.httpClient` is the SDK's public hook for this.
 */
export function createCountingHttpClient(inner: HttpClient = createDefaultHttpClient()): HttpClient {
  return {
    async sendRequest(request) {
      const batch = request.headers.get('x-ms-cosmos-is-batch-request')?.toLowerCase() === 'true';
      let response;
      try {
        response = await inner.sendRequest(request);
      } catch (error) {
        if (batch) noteBatchExchange({ error });
        throw error;
      }
      if (batch) noteBatchExchange({ status: response.status });
      const requestCharge = Number(response.headers.get('x-ms-request-charge') ?? 0);
      let cost: CosmosRequestCost;
      try {
        cost = costOfRequest(
          { method: request.method, url: request.url, headers: request.headers, body: bodyText(request.body) },
          { status: response.status, bodyAsText: response.bodyAsText ?? undefined, requestCharge },
        );
      } catch {
        // Measuring must never fail a request that Cosmos answered (a write that landed, say):
        // an item the meter cannot walk is counted by its request and charge alone.
        cost = { requestCharge, bytesRead: 0, bytesWritten: 0, indexedPaths: 0, ruEstimate: 0 };
      }
      recordCosmosRequest(cost);
      return response;
    },
  };
}
