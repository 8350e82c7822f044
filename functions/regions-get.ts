import { Type } from '@sinclair/typebox';
import { findRegion, RegionSchema } from '../shared/discovery/regions.js';
import { cacheableJson } from '../shared/http/etag.js';
import { HttpProblem } from '../shared/http/problem.js';
import { defineRoute } from '../shared/http/route.js';

export const regionsGet = defineRoute({
  name: 'regions-get',
  methods: ['GET'],
  route: 'regions/{id}',
  authLevel: 'anonymous',
  summary: 'One region of the catalog (SPEC §3.1).',
  tags: ['discovery'],
  request: { params: Type.Object({ id: Type.String({ pattern: '^[a-z]{2,8}$' }) }) },
  responses: {
    200: { description: 'The region', schema: RegionSchema },
    304: { description: 'Not modified' },
    404: { description: 'No such region' },
  },
  handler: async ({ params, headers }, { config }) => {
    const region = findRegion(config, params.id);
    if (!region) throw new HttpProblem('not-found', `there is no region "${params.id}"`);
    return cacheableJson(headers, region, config.discovery.cacheMaxAgeSeconds);
  },
});
