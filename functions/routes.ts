import { buildRouteTable } from '../shared/http/route-table.js';
import { health } from './health.js';
import { notFound } from './not-found.js';
import { openapi } from './openapi.js';
import { regionsGet } from './regions-get.js';
import { regionsList } from './regions-list.js';
import { tenantRegion } from './tenant-region.js';

/**
 * The route table: every HTTP function of the app. `functions/index.ts` registers it with the
 * Functions host; `tools/local-host.ts` serves it; `GET /openapi.json` describes it.
 */
export const routeTable = buildRouteTable([regionsList, regionsGet, tenantRegion, health, openapi, notFound]);
