import { audit } from '../shared/audit/audit.js';
import { Type } from '@sinclair/typebox';
import { HttpProblem } from '../shared/http/problem.js';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { userProblem } from '../shared/tenants/onboarding.js';
import { readTenant } from '../shared/tenants/tenants.js';
import {
  createUser,
  EmailSchema,
  PasswordSchema,
  PinSchema,
  publicUser,
  PublicUserSchema,
  RoleSchema,
  UsernameSchema,
} from '../shared/users/users.js';

export const usersCreate = defineRoute({
  name: 'users-create',
  methods: ['POST'],
  route: 'api/users',
  authLevel: 'anonymous',
  summary: "Create a user in the admin's tenant, with a password and/or a PIN.",
  tags: ['users'],
  auth: { kinds: ['user'], anyRole: ['admin'] },
  request: {
    body: Type.Object(
      {
        email: EmailSchema,
        username: UsernameSchema,
        fullName: Type.String({ minLength: 1, maxLength: 200 }),
        role: Type.Optional(RoleSchema),
        password: Type.Optional(PasswordSchema),
        pin: Type.Optional(PinSchema),
      },
      { additionalProperties: false },
    ),
  },
  responses: { 201: { description: 'Created', schema: PublicUserSchema }, 409: { description: 'Username or email taken' } },
  handler: async ({ body }, services, context) => {
    const caller = callerOf(context);
    const tenant = await readTenant(services.store, caller.tenantId);
    if (!tenant) throw new HttpProblem('forbidden', 'the tenant no longer exists');
    try {
      const user = await createUser(services, tenant.id, tenant.policy, { ...body, role: body.role ?? 'user' });
      await audit(services.store, context.log, { tenantId: tenant.id, actorId: caller.userId!, action: 'user.created', targetId: user.id, details: { role: user.role }, at: services.now() });
      return { status: 201, body: publicUser(user), headers: { Location: `/api/users/${user.id}` } };
    } catch (error) {
      throw userProblem(error);
    }
  },
});
