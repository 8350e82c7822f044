import type { HttpClient, PipelineRequest } from '@azure/core-rest-pipeline';
import type { DependencyCall, Telemetry } from '../telemetry/telemetry.js';
import { containerSpecs } from './containers.js';

const CONTAINER_IDS: ReadonlySet<string> = new Set(Object.values(containerSpecs).map((spec) => spec.id));

/**
 * Each request the Cosmos SDK sends, retries included, as one dependency span: the operation,
 * the container, the status and the request units. The app is bundled, so the SDK's own tracing
 * hooks never see it; this is the SDK's public `httpClient` hook, where requests are already
 * counted (counting-http-client.ts).
 */
export function createTracedHttpClient(inner: HttpClient, telemetry: Telemetry): HttpClient {
  return {
    sendRequest: (request) =>
      telemetry.dependency(
        cosmosCall(request),
        () => inner.sendRequest(request),
        (response) => ({ statusCode: response.status, requestCharge: Number(response.headers.get('x-ms-request-charge') ?? 0) }),
      ),
  };
}

/**
 * What a request does, from its method, path and headers. Only fixed words and the names of the
 * app's own containers survive: item ids (a rate-limit key holds an address, a look-up a hash of
 * a login name) and database names never reach telemetry.
 */
export function cosmosCall(request: Pick<PipelineRequest, 'method' | 'url' | 'headers'>): DependencyCall {
  const segments = new URL(request.url).pathname.split('/').filter(Boolean);
  const collection = segments[2] === 'colls' ? segments[3] : undefined;
  const target = collection === undefined ? undefined : CONTAINER_IDS.has(collection) ? collection : 'other';
  // `docs/<id>` is one item, `docs` the feed; the word before an id is a resource type (a fixed word of the REST API).
  const word = segments.length % 2 === 0 ? segments.at(-2) : segments.at(-1);
  const resource = word === undefined || RESOURCE_TYPES.has(word) ? word : 'other';
  const oneItem = segments.length % 2 === 0 && segments.length > 0;
  const flag = (name: string) => request.headers.get(name)?.toLowerCase() === 'true';
  let operation: string;
  if (resource === 'docs' && !oneItem && request.method === 'POST') {
    operation = flag('x-ms-documentdb-isquery')
      ? 'query'
      : flag('x-ms-cosmos-is-batch-request')
        ? 'batch'
        : flag('x-ms-documentdb-is-upsert')
          ? 'upsert'
          : 'create';
  } else if (resource === 'docs') {
    operation = ITEM_OPERATIONS[request.method] ?? 'other';
    if (!oneItem && request.method === 'GET') operation = 'readFeed';
  } else {
    operation = `${request.method === 'GET' ? 'read' : request.method.toLowerCase()}${resource ? `:${resource}` : ':account'}`;
  }
  return { system: 'cosmosdb', operation, ...(target ? { target } : {}) };
}

const RESOURCE_TYPES: ReadonlySet<string> = new Set(['dbs', 'colls', 'docs', 'pkranges', 'offers', 'sprocs', 'triggers', 'udfs']);
const ITEM_OPERATIONS: Readonly<Record<string, string>> = { GET: 'read', PUT: 'replace', DELETE: 'delete', PATCH: 'patch' };
