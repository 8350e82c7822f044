import type { TObject, TSchema } from '@sinclair/typebox';
import { ProblemSchema } from './problem.js';
import type { AnyRoute } from './route.js';

/** Plain JSON Schema: TypeBox's symbol-keyed metadata does not survive a JSON round trip. */
const plain = (schema: TSchema): Record<string, unknown> => JSON.parse(JSON.stringify(schema));

const problemRef = { $ref: '#/components/schemas/Problem' };
const problemContent = { 'application/problem+json': { schema: problemRef } };
const pageContent = { 'text/html': { schema: { type: 'string', description: 'An HTML page' } } };
const scimErrorContent = { 'application/scim+json': { schema: { $ref: '#/components/schemas/ScimError' } } };

/** RFC 7644 §3.12. */
const ScimErrorSchema = {
  type: 'object',
  description: 'A SCIM error (RFC 7644 §3.12)',
  required: ['schemas', 'status'],
  properties: {
    schemas: { type: 'array', items: { const: 'urn:ietf:params:scim:api:messages:2.0:Error' } },
    status: { type: 'string', description: 'The HTTP status, as a string' },
    scimType: { type: 'string' },
    detail: { type: 'string' },
  },
};

const errorContentOf = (route: AnyRoute) =>
  route.errorFormat === 'html' ? pageContent : route.errorFormat === 'scim' ? scimErrorContent : problemContent;
const errorDescriptionOf = (route: AnyRoute) =>
  route.errorFormat === 'html'
    ? 'Error (an HTML page)'
    : route.errorFormat === 'scim'
      ? 'Error (a SCIM error)'
      : 'Error (RFC 9457 problem details)';

function parametersOf(schema: TObject | undefined, location: 'path' | 'query') {
  if (!schema) return [];
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || required.has(name),
    schema: plain(property),
    ...(property.description ? { description: property.description } : {}),
  }));
}

function responsesOf(route: AnyRoute) {
  // An `html` route's errors are pages, a `scim` route's SCIM errors (error-rendering.ts).
  const errorContent = errorContentOf(route);
  const responses: Record<string, unknown> = {};
  for (const [status, spec] of Object.entries(route.responses)) {
    const isProblem = Number(status) >= 400;
    responses[status] = {
      description: spec.description,
      ...(spec.schema
        ? { content: { [spec.contentType ?? 'application/json']: { schema: plain(spec.schema) } } }
        : isProblem
          ? { content: errorContent }
          : {}),
    };
  }
  if (route.request && !responses['400']) responses['400'] = { description: 'Invalid input', content: errorContent };
  responses.default = { description: errorDescriptionOf(route), content: errorContent };
  return responses;
}

/** An OpenAPI 3.1 document generated from the route table: the schemas that validate are the ones documented. */
export function buildOpenApiDocument(routes: readonly AnyRoute[], info: { version: string; serverUrl: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (route.internal) continue;
    const path = `/${route.route}`;
    const operations = (paths[path] ??= {});
    const body = route.request?.body;
    const bodyTypes: readonly string[] = route.request?.jsonMediaTypes ?? ['application/json'];
    for (const method of route.methods) {
      operations[method.toLowerCase()] = {
        operationId: route.methods.length > 1 ? `${route.name}-${method.toLowerCase()}` : route.name,
        summary: route.summary,
        tags: [...route.tags],
        parameters: [...parametersOf(route.request?.params, 'path'), ...parametersOf(route.request?.query, 'query')],
        ...(body
          ? {
              requestBody: {
                required: !route.request?.bodyOptional,
                content: Object.fromEntries(bodyTypes.map((type) => [type, { schema: plain(body) }])),
              },
            }
          : {}),
        responses: responsesOf(route),
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Roger Cloud API',
      version: info.version,
      description: 'Cloud print and scan for office MFPs. Errors outside /oauth are RFC 9457 problem details.',
    },
    servers: [{ url: info.serverUrl }],
    paths,
    components: { schemas: { Problem: plain(ProblemSchema), ScimError: ScimErrorSchema } },
  };
}
