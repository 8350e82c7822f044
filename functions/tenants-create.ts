import { Type } from '@sinclair/typebox';
import { HttpProblem } from '../shared/http/problem.js';
import { defineRoute } from '../shared/http/route.js';
import { TenantPolicySchema } from '../shared/tenants/policy.js';
import { createTenantWithAdmin } from '../shared/tenants/onboarding.js';
import { TenantSlugSchema } from '../shared/tenants/tenants.js';
import { EmailSchema, PasswordSchema, PinSchema, UsernameSchema } from '../shared/users/users.js';
import { constantTimeEqual } from '../shared/tokens/secrets.js';

export const tenantsCreate = defineRoute({
  name: 'tenants-create',
  methods: ['POST'],
  route: 'api/tenants',
  authLevel: 'anonymous',
  summary: 'Create a tenant in this region with its first admin (operator only, `x-operator-key`).',
  tags: ['tenants'],
  request: {
    body: Type.Object(
      {
        slug: TenantSlugSchema,
        name: Type.String({ minLength: 1, maxLength: 200 }),
        admin: Type.Object(
          {
            email: EmailSchema,
            username: UsernameSchema,
            fullName: Type.String({ minLength: 1, maxLength: 200 }),
            password: PasswordSchema,
            pin: Type.Optional(PinSchema),
          },
          { additionalProperties: false },
        ),
        policy: Type.Optional(Type.Partial(TenantPolicySchema, { additionalProperties: false })),
      },
      { additionalProperties: false },
    ),
  },
  responses: {
    201: {
      description: 'Created',
      schema: Type.Object({ id: Type.String(), slug: Type.String(), region: Type.String(), adminId: Type.String() }),
    },
    403: { description: 'Wrong or missing operator key, or tenant creation disabled' },
    409: { description: 'The slug is taken (in any region)' },
  },
  handler: async ({ body, headers }, services) => {
    const expected = services.config.operatorKey;
    if (!expected) throw new HttpProblem('forbidden', 'tenant creation is disabled in this deployment');
    if (!constantTimeEqual(headers.get('x-operator-key') ?? '', expected)) {
      throw new HttpProblem('forbidden', 'a valid x-operator-key is required');
    }
    const { tenant, admin } = await createTenantWithAdmin(services, body);
    return {
      status: 201,
      body: { id: tenant.id, slug: tenant.slug, region: tenant.region, adminId: admin.id },
      headers: { Location: '/api/tenant' },
    };
  },
});
