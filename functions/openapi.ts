import { Type } from '@sinclair/typebox';
import { cacheableJson } from '../shared/http/etag.js';
import { buildOpenApiDocument } from '../shared/http/openapi.js';
import { defineRoute } from '../shared/http/route.js';
import { appVersion } from '../shared/version.js';

export const openapi = defineRoute({
  name: 'openapi',
  methods: ['GET'],
  route: 'openapi.json',
  summary: 'This document: OpenAPI 3.1, generated from the route table.',
  tags: ['operations'],
  responses: { 200: { description: 'OpenAPI 3.1 document', schema: Type.Object({}, { additionalProperties: true }) } },
  handler: async ({ headers }, { config }, { table }) =>
    cacheableJson(
      headers,
      buildOpenApiDocument(table.routes, { version: appVersion, serverUrl: config.region.apiUrl }),
      config.discovery.cacheMaxAgeSeconds,
    ),
});
