import { Type } from '@sinclair/typebox';
import { findRegion, listRegions, RegionSchema } from '../shared/discovery/regions.js';
import { cacheableJson } from '../shared/http/etag.js';
import { defineRoute } from '../shared/http/route.js';
import { HttpProblem } from '../shared/http/problem.js';
import { lookupTenantRegion, TenantSlugSchema } from '../shared/tenants/tenants.js';

export const regionsList = defineRoute({
  name: 'regions-list',
  methods: ['GET'],
  route: 'regions',
  summary: 'List the regions. Cacheable, with ETag.',
  tags: ['discovery'],
  responses: {
    200: { description: 'The region catalog', schema: Type.Object({ regions: Type.Array(RegionSchema) }) },
    304: { description: 'Not modified (If-None-Match matched the ETag)' },
  },
  handler: async (input, { config }) => cacheableJson(input.headers, { regions: listRegions(config) }, config.discovery.cacheMaxAgeSeconds),
});

export const regionsGet = defineRoute({
  name: 'regions-get',
  methods: ['GET'],
  route: 'regions/{id}',
  summary: 'One region of the catalog.',
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

export const tenantRegion = defineRoute({
  name: 'tenant-region',
  methods: ['GET'],
  route: 'tenants/{slug}/region',
  summary: "A tenant's home region; nothing else about the tenant.",
  tags: ['discovery'],
  request: { params: Type.Object({ slug: TenantSlugSchema }) },
  responses: {
    200: { description: "The tenant's home region", schema: RegionSchema },
    304: { description: 'Not modified' },
    404: { description: 'No tenant has this slug' },
  },
  handler: async ({ params, headers }, { config, store }) => {
    const regionId = await lookupTenantRegion(store, params.slug);
    if (!regionId) throw new HttpProblem('not-found', 'no tenant has this slug');
    const region = findRegion(config, regionId);
    // A directory entry naming a region the catalog lacks is a deployment error, not the caller's.
    if (!region) throw new Error('tenant directory names a region missing from ROGER_REGIONS');
    return cacheableJson(headers, region, config.discovery.cacheMaxAgeSeconds);
  },
});
