// Entry point for the Azure Functions host (package.json "main", after bundling).
// Only `app` is imported as a value from @azure/functions: see LOCAL-AZURE.md, ESM pitfall.
import { app } from '@azure/functions';
import { loadConfig } from '../shared/config/load-config.js';
import { createHttpHandler } from '../shared/http/http-handler.js';
import { lazyServices } from '../shared/services.js';
import { servedMethods } from '../shared/http/route-table.js';
import { routeTable } from './routes.js';

// Validate every setting when the worker loads the app: a bad setting stops start-up here,
// with one line per problem in the host log, instead of failing on some later request.
const services = lazyServices(loadConfig());

for (const route of routeTable.routes) {
  app.http(route.name, {
    methods: [...servedMethods(route)],
    route: route.route,
    authLevel: route.authLevel,
    handler: createHttpHandler(route, { services, table: routeTable }),
  });
}
