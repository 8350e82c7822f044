import type { TObject, TSchema } from '@sinclair/typebox';
import { ProblemSchema } from './problem.js';
import type { AnyRoute } from './route.js';

/** Plain JSON Schema: TypeBox's symbol-keyed metadata does not survive a JSON round trip. */
const plain = (schema: TSchema): Record<string, unknown> => JSON.parse(JSON.stringify(schema));

const problemRef = { $ref: '#/components/schemas/Problem' };
const problemContent = { 'application/problem+json': { schema: problemRef } };
const pageContent = { 'text/html': { schema: { type: 'string', description: 'An HTML page' } } };

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
  // An `html` route's errors are pages (error-rendering.ts), like its answers.
  const errorContent = route.errorFormat === 'html' ? pageContent : problemContent;
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
  responses.default =
    route.errorFormat === 'html'
      ? { description: 'Error (an HTML page)', content: pageContent }
      : { description: 'Error (RFC 9457 problem details)', content: problemContent };
  return responses;
}

/** An OpenAPI 3.1 document generated from the route table: the schemas that validate are the ones documented. */
export function buildOpenApiDocument(routes: readonly AnyRoute[], info: { version: string; serverUrl: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (route.internal) continue;
    const path = `/${route.route}`;
    const operations = (paths[path] ??= {});
    for (const method of route.methods) {
      operations[method.toLowerCase()] = {
        operationId: route.methods.length > 1 ? `${route.name}-${method.toLowerCase()}` : route.name,
        summary: route.summary,
        tags: [...route.tags],
        parameters: [...parametersOf(route.request?.params, 'path'), ...parametersOf(route.request?.query, 'query')],
        ...(route.request?.body
          ? {
              requestBody: {
                required: !route.request.bodyOptional,
                content: { 'application/json': { schema: plain(route.request.body) } },
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
    components: { schemas: { Problem: plain(ProblemSchema) } },
  };
}
