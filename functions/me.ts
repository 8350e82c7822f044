import { Type } from '@sinclair/typebox';
import { readDevice } from '../shared/devices/devices.js';
import { HttpProblem } from '../shared/http/problem.js';
import { readLink } from '../shared/onedrive/links.js';
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
        onedrive: Type.Optional(
          Type.Object({
            status: Type.Union([Type.Literal('not-connected'), Type.Literal('connected'), Type.Literal('reconnect-required')]),
            connectedAt: Type.Optional(Type.String({ format: 'date-time' })),
          }),
        ),
        roles: Type.Array(Type.String()),
        scopes: Type.Array(Type.String()),
      }),
    },
  },
  handler: async (_input, { store }, context) => {
    const caller = callerOf(context);
    const [tenant, user, device, link] = await Promise.all([
      readTenant(store, caller.tenantId),
      caller.userId ? readUser(store, caller.tenantId, caller.userId) : undefined,
      caller.deviceId ? readDevice(store, caller.tenantId, caller.deviceId) : undefined,
      caller.userId ? readLink(store, caller.tenantId, caller.userId) : undefined,
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
        ...(user ? { onedrive: link ? { status: link.status, connectedAt: link.connectedAt } : { status: 'not-connected' } } : {}),
        ...(device ? { printer: { id: device.id, name: device.name, location: device.location, status: device.status } } : {}),
        roles: [...caller.roles],
        scopes: [...caller.scopes],
      },
    };
  },
});
