import { compareSpecificity, parseRouteTemplate, type RouteTemplate } from './route-template.js';
import type { AnyRoute } from './route.js';

export interface RouteMatch {
  readonly route: AnyRoute;
  readonly params: Record<string, string>;
}

/**
 * The methods a route is registered for: its own, plus HEAD wherever GET is served
 * (RFC 9110 §9.3.2). Both hosts send HEAD answers without a body.
 */
export function servedMethods(route: AnyRoute): AnyRoute['methods'] {
  return route.methods.includes('GET') && !route.methods.includes('HEAD') ? [...route.methods, 'HEAD'] : route.methods;
}

export interface RouteTable {
  readonly routes: readonly AnyRoute[];
  /** The route the Functions host would pick for this method and path. */
  find(method: string, path: string): RouteMatch | undefined;
  /** Methods of the non-catch-all routes whose template matches `path` (for 405 `Allow`). */
  allowedMethods(path: string): string[];
}

/** Checks the table once (unique names, unique method+template pairs, parsable templates). */
export function buildRouteTable(routes: readonly AnyRoute[]): RouteTable {
  const names = new Set<string>();
  const claimed = new Set<string>();
  const compiled: { route: AnyRoute; template: RouteTemplate }[] = [];
  for (const route of routes) {
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,127}$/.test(route.name)) throw new Error(`bad function name "${route.name}"`);
    if (names.has(route.name)) throw new Error(`two routes are named "${route.name}"`);
    names.add(route.name);
    const template = parseRouteTemplate(route.route);
    const shape = template.segments.map((s) => (s.kind === 'literal' ? s.value : `{${s.kind}}`)).join('/');
    for (const method of servedMethods(route)) {
      const key = `${method} ${shape}`;
      if (claimed.has(key)) throw new Error(`two routes serve ${method} ${route.route}`);
      claimed.add(key);
    }
    compiled.push({ route, template });
  }
  compiled.sort((a, b) => compareSpecificity(a.template, b.template));

  return {
    routes,
    find(method, path) {
      for (const { route, template } of compiled) {
        if (!servedMethods(route).includes(method as AnyRoute['methods'][number])) continue;
        const params = template.match(path);
        if (params) return { route, params };
      }
      return undefined;
    },
    allowedMethods(path) {
      const methods = new Set<string>();
      for (const { route, template } of compiled) {
        if (template.segments.some((s) => s.kind === 'catchAll')) continue;
        if (template.match(path)) servedMethods(route).forEach((m) => methods.add(m));
      }
      return [...methods].sort();
    },
  };
}
