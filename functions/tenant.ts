import { Type } from '@sinclair/typebox';
import { HttpProblem } from '../shared/http/problem.js';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { defaultTenantPolicy, TenantPolicySchema } from '../shared/tenants/policy.js';
import { createTenantWithAdmin } from '../shared/tenants/onboarding.js';
import { changeTenant, readTenantFresh, TenantSlugSchema } from '../shared/tenants/tenants.js';
import { EmailSchema, PasswordSchema, PinSchema, UsernameSchema } from '../shared/users/users.js';
import { constantTimeEqual } from '../shared/tokens/secrets.js';

export const tenantsCreate = defineRoute({
  name: 'tenants-create',
  methods: ['POST'],
  route: 'api/tenants',
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

const admins = { kinds: ['user'], anyRole: ['admin'] } as const;

const TenantSchema = Type.Object({
  id: Type.String(),
  slug: Type.String(),
  name: Type.String(),
  region: Type.String(),
  policy: TenantPolicySchema,
});

const publicTenant = (tenant: { id: string; slug: string; name: string; region: string; policy: object }) => ({
  id: tenant.id,
  slug: tenant.slug,
  name: tenant.name,
  region: tenant.region,
  // Tenants created before a policy field existed get its default.
  policy: { ...defaultTenantPolicy, ...tenant.policy },
});

export const tenantGet = defineRoute({
  name: 'tenant-get',
  methods: ['GET'],
  route: 'api/tenant',
  summary: 'The caller’s tenant and its policy (admins).',
  tags: ['tenant'],
  auth: admins,
  responses: { 200: { description: 'The tenant', schema: TenantSchema } },
  handler: async (_input, { store }, context) => {
    const tenant = await readTenantFresh(store, callerOf(context, 'user').tenantId);
    if (!tenant) throw new HttpProblem('not-found', 'the tenant no longer exists');
    return { status: 200, body: publicTenant(tenant) };
  },
});

export const tenantUpdate = defineRoute({
  name: 'tenant-update',
  methods: ['PATCH'],
  route: 'api/tenant',
  summary: 'Change the tenant’s name or policy (admins); only the fields sent change. Audited. Other instances apply it within a minute.',
  tags: ['tenant'],
  auth: admins,
  request: {
    body: Type.Object(
      {
        name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        policy: Type.Optional(Type.Partial(TenantPolicySchema, { additionalProperties: false, minProperties: 1 })),
      },
      { additionalProperties: false, minProperties: 1 },
    ),
  },
  responses: { 200: { description: 'Changed', schema: TenantSchema } },
  handler: async ({ body }, services, context) => ({
    status: 200,
    body: publicTenant(await changeTenant(services, callerOf(context, 'user'), body, context.log)),
  }),
});
