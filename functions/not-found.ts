import { Type } from '@sinclair/typebox';
import { HttpProblem } from '../shared/http/problem.js';
import { defineRoute } from '../shared/http/route.js';

/**
 * The catch-all: the host routes here whatever no other function takes (least specific route),
 * so unknown paths get a 404 problem and known paths with the wrong method get 405 with `Allow`,
 * in Azure exactly as in the local host.
 */
export const notFound = defineRoute({
  name: 'not-found',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
  route: '{*path}',
  summary: 'Fallback for unknown routes and methods.',
  tags: [],
  internal: true,
  request: { params: Type.Object({ path: Type.String() }), query: Type.Object({}, { additionalProperties: true }) },
  responses: { 404: { description: 'Unknown route' }, 405: { description: 'Method not allowed' } },
  handler: async ({ path, method }, _services, { table }) => {
    const allowed = table.allowedMethods(path);
    if (allowed.length > 0) {
      throw new HttpProblem('method-not-allowed', `${method} is not allowed here`, {}, { Allow: allowed.join(', ') });
    }
    throw new HttpProblem('not-found', 'there is nothing at this path');
  },
});
