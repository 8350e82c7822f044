import type { HttpFunctionOptions, HttpMethod, HttpResponseInit } from '@azure/functions';
import { ConfigError } from '../shared/config/load-config.js';
import { problemTypeUri } from '../shared/http/problem.js';

/**
 * What the Functions entry registers when the app cannot start (a setting missing or not valid,
 * e.g. a Key Vault reference App Service could not resolve). Registering nothing would leave the
 * worker with zero functions: every path a silent 404, which looks like a routing fault to
 * Front Door, the smoke test and whoever reads the logs. Instead `/health` and every other path
 * answer 503 problem+json naming the settings — names only, never values — so the probe marks
 * the region unhealthy and the deployment's smoke test says what to fix.
 */
export interface FunctionRegistration {
  readonly name: string;
  readonly options: HttpFunctionOptions;
}

const ALL_METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** A setting's name, as each ConfigError line begins (`NAME: what is wrong`). */
const SETTING_NAME = /^([A-Z][A-Z0-9_]*):/;

/** The settings a start-up failure names; none for a failure that is not about settings (a bug). */
export function failedSettings(error: unknown): string[] {
  if (!(error instanceof ConfigError)) return [];
  const names = error.problems.map((problem) => SETTING_NAME.exec(problem)?.[1]).filter((name): name is string => Boolean(name));
  return [...new Set(names)].sort();
}

/** One log line per problem for the host log (ConfigError never echoes a secret's value); a bug logs its stack. */
export function describeStartupFailure(error: unknown): string {
  if (error instanceof ConfigError) return `the app cannot start: ${error.message}`;
  const e = error as { name?: unknown; stack?: unknown };
  return `the app cannot start: ${typeof e?.stack === 'string' ? e.stack : String(e?.name ?? error)}`;
}

function answer(settings: readonly string[], path: string, method: string): HttpResponseInit {
  const detail =
    settings.length > 0
      ? `the app cannot start: these settings are missing or not valid: ${settings.join(', ')} (the host log has one line for each)`
      : 'the app cannot start (the host log says why)';
  const body = {
    type: problemTypeUri('app-not-configured'),
    title: 'The app is not configured',
    status: 503,
    detail,
    instance: path,
    settings,
  };
  return {
    status: 503,
    headers: {
      'Content-Type': 'application/problem+json',
      'Retry-After': '60',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    },
    ...(method === 'HEAD' ? {} : { body: JSON.stringify(body) }),
  };
}

/** `health` (what probes and the smoke test ask) and a catch-all for every other path and method. */
export function startupFailureFunctions(error: unknown): FunctionRegistration[] {
  const settings = failedSettings(error);
  const handler: HttpFunctionOptions['handler'] = async (request) => answer(settings, new URL(request.url).pathname, request.method);
  return [
    { name: 'health', options: { methods: ['GET', 'HEAD'], route: 'health', authLevel: 'anonymous', handler } },
    { name: 'not-configured', options: { methods: ALL_METHODS, route: '{*path}', authLevel: 'anonymous', handler } },
  ];
}
