import { Type } from '@sinclair/typebox';
import { listRegions, RegionSchema } from '../shared/discovery/regions.js';
import { cacheableJson } from '../shared/http/etag.js';
import { defineRoute } from '../shared/http/route.js';

export const regionsList = defineRoute({
  name: 'regions-list',
  methods: ['GET'],
  route: 'regions',
  authLevel: 'anonymous',
  summary: 'List the regions (SPEC §3.1). Cacheable, with ETag.',
  tags: ['discovery'],
  responses: {
    200: { description: 'The region catalog', schema: Type.Object({ regions: Type.Array(RegionSchema) }) },
    304: { description: 'Not modified (If-None-Match matched the ETag)' },
  },
  handler: async (input, { config }) =>
    cacheableJson(input.headers, { regions: listRegions(config) }, config.discovery.cacheMaxAgeSeconds),
});
