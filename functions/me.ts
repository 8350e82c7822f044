import { Type } from '@sinclair/typebox';
import { readDevice } from '../shared/devices/devices.js';
import { HttpProblem } from '../shared/http/problem.js';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { readTenant } from '../shared/tenants/tenants.js';
import { publicUser, PublicUserSchema, readUser } from '../shared/users/users.js';

const PrinterSchema = Type.Object({ id: Type.String(), name: Type.String(), location: Type.String(), status: Type.String() });

export const me = defineRoute({
  name: 'me',
  methods: ['GET'],
  route: 'api/me',
  authLevel: 'anonymous',
  summary: 'Who am I: user (or printer), tenant, roles, scopes; for a session token also the printer.',
  tags: ['users'],
  auth: { kinds: ['user', 'session', 'device'] },
  responses: {
    200: {
      description: 'The caller',
      schema: Type.Object({
        kind: Type.String(),
        tenant: Type.Object({ id: Type.String(), slug: Type.String(), name: Type.String() }),
        user: Type.Optional(PublicUserSchema),
        printer: Type.Optional(PrinterSchema),
        roles: Type.Array(Type.String()),
        scopes: Type.Array(Type.String()),
      }),
    },
  },
  handler: async (_input, { store }, context) => {
    const caller = callerOf(context);
    const [tenant, user, device] = await Promise.all([
      readTenant(store, caller.tenantId),
      caller.userId ? readUser(store, caller.tenantId, caller.userId) : undefined,
      caller.deviceId ? readDevice(store, caller.tenantId, caller.deviceId) : undefined,
    ]);
    if (!tenant || (caller.userId && !user) || (caller.deviceId && !device)) {
      throw new HttpProblem('not-found', 'this account no longer exists');
    }
    return {
      status: 200,
      body: {
        kind: caller.kind,
        tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
        ...(user ? { user: publicUser(user) } : {}),
        ...(device ? { printer: { id: device.id, name: device.name, location: device.location, status: device.status } } : {}),
        roles: [...caller.roles],
        scopes: [...caller.scopes],
      },
    };
  },
});
