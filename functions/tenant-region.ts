import { Type } from '@sinclair/typebox';
import { findRegion, RegionSchema } from '../shared/discovery/regions.js';
import { lookupTenantRegion, TenantSlugSchema } from '../shared/tenants/tenants.js';
import { cacheableJson } from '../shared/http/etag.js';
import { HttpProblem } from '../shared/http/problem.js';
import { defineRoute } from '../shared/http/route.js';

export const tenantRegion = defineRoute({
  name: 'tenant-region',
  methods: ['GET'],
  route: 'tenants/{slug}/region',
  authLevel: 'anonymous',
  summary: "A tenant's home region (SPEC §3.1); nothing else about the tenant.",
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
