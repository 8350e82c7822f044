import { createDefaultHttpClient, type HttpClient } from '@azure/core-rest-pipeline';
import { recordCosmosRequest } from './request-meter.js';

/**
 * The SDK's own HTTP client, wrapped to count requests and request units per API call
 * (`CosmosClientOptions.httpClient` is the SDK's public hook for this).
 */
export function createCountingHttpClient(inner: HttpClient = createDefaultHttpClient()): HttpClient {
  return {
    async sendRequest(request) {
      const response = await inner.sendRequest(request);
      recordCosmosRequest(Number(response.headers.get('x-ms-request-charge') ?? 0));
      return response;
    },
  };
}
