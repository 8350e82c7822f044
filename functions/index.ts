// Entry point for the Azure Functions host (package.json "main", after bundling).
// Only `app` is imported as a value from @azure/functions: see docs/architecture.md#two-hosts-one-app (the ESM pitfall).
import { app } from '@azure/functions';
import { azureAdapters, requireAzureEndpoints } from '../shared/azure-adapters.js';
import { loadConfig, type Config } from '../shared/config/load-config.js';
import { createHttpHandler } from '../shared/http/http-handler.js';
import { lazyServices } from '../shared/services.js';
import { startTelemetry } from '../shared/telemetry/start.js';
import { servedMethods } from '../shared/http/route-table.js';
import { routeTable } from './routes.js';
import { timerHandler, timers } from './timers.js';
import { describeStartupFailure, startupFailureFunctions } from './startup-failure.js';

// Validate every setting when the worker loads the app: a bad setting, or a blank Azure
// endpoint (the local stand-ins are `npm start`'s), stops start-up here with one line per
// problem in the host log, instead of failing on some later request. The app then serves only
// a 503 naming those settings (startup-failure.ts), never zero functions and a 404 everywhere.
function validConfig(): Config | undefined {
  try {
    const config = loadConfig();
    requireAzureEndpoints(config);
    return config;
  } catch (error) {
    console.error(describeStartupFailure(error));
    for (const { name, options } of startupFailureFunctions(error)) app.http(name, options);
    return undefined;
  }
}

const config = validConfig();
if (config) {
  // While the module loads, only the Functions instrumentation joins the host's set-up (which
  // closes after it); the Azure Monitor distro starts later, off the first request's path, and
  // the port given to the services holds what they report until then (shared/telemetry/azure-functions.ts).
  const telemetry = await startTelemetry(config);
  const services = lazyServices(config, azureAdapters, undefined, telemetry);
  for (const route of routeTable.routes) {
    app.http(route.name, {
      methods: [...servedMethods(route)],
      route: route.route,
      authLevel: route.authLevel,
      handler: createHttpHandler(route, { services, table: routeTable, telemetry }),
    });
  }
  // Timer triggers run on one instance at a time (the host holds a lease); the sweep does not rely on it (after-print.ts).
  for (const timer of timers) {
    const run = timerHandler(timer, services, telemetry);
    app.timer(timer.name, { schedule: timer.schedule, handler: (_info, context) => run(context) });
  }
}
