import { Type } from '@sinclair/typebox';
import { HttpProblem } from '../shared/http/problem.js';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { defaultTenantPolicy, TenantPolicySchema } from '../shared/tenants/policy.js';
import { createTenantWithAdmin } from '../shared/tenants/onboarding.js';
import { signInMethodsOf } from '../shared/tenants/sign-in-methods.js';
import { changeTenant, EmailDomainSchema, readTenantFresh, TenantSlugSchema, type Tenant } from '../shared/tenants/tenants.js';
import { StringEnum } from '../shared/string-enum.js';
import { EmailSchema, PasswordSchema, PinSchema, UsernameSchema } from '../shared/users/users.js';
import { constantTimeEqual } from '../shared/tokens/secrets.js';

export const tenantsCreate = defineRoute({
  name: 'tenants-create',
  methods: ['POST'],
  route: 'api/tenants',
  summary:
    'Create a tenant in this region with its first admin, or waiting for its first Microsoft admin (operator only, `x-operator-key`).',
  tags: ['tenants'],
  request: {
    body: Type.Object(
      {
        slug: TenantSlugSchema,
        name: Type.String({ minLength: 1, maxLength: 200 }),
        admin: Type.Optional(
          Type.Object(
            {
              email: EmailSchema,
              username: UsernameSchema,
              fullName: Type.String({ minLength: 1, maxLength: 200 }),
              password: PasswordSchema,
              pin: Type.Optional(PinSchema),
            },
            {
              additionalProperties: false,
              description:
                'The first admin, with a Roger password. Leave out for a Microsoft-first tenant (`bindEntraOnFirstAdminSignIn`).',
            },
          ),
        ),
        policy: Type.Optional(Type.Partial(TenantPolicySchema, { additionalProperties: false })),
        emailDomains: Type.Optional(
          Type.Array(EmailDomainSchema, {
            uniqueItems: true,
            maxItems: 20,
            description:
              'Email domains the operator verified belong to this organisation: an address at one of them finds this tenant on the sign-in page. Each domain belongs to one tenant in all regions.',
          }),
        ),
        bindEntraOnFirstAdminSignIn: Type.Optional(
          Type.Boolean({
            description:
              'Microsoft-first start: the first person to sign in with Microsoft holding the `Roger.Admin` app role connects their Microsoft Entra tenant and becomes an admin. Works once.',
          }),
        ),
      },
      { additionalProperties: false },
    ),
  },
  responses: {
    201: {
      description: 'Created',
      schema: Type.Object({
        id: Type.String(),
        slug: Type.String(),
        region: Type.String(),
        adminId: Type.Optional(Type.String({ description: 'Absent for a tenant waiting for its first Microsoft admin.' })),
      }),
    },
    400: {
      description: 'No admin and no wait for a first Microsoft admin, or a sign-in policy nobody could sign in with',
    },
    403: { description: 'Wrong or missing operator key, or tenant creation disabled' },
    409: {
      description: 'The slug or an email domain is taken (in any region), or a seeded `pinOnly` with PINs too short (`policy.pinOnly`)',
    },
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
      body: { id: tenant.id, slug: tenant.slug, region: tenant.region, ...(admin ? { adminId: admin.id } : {}) },
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
  signInMethods: Type.Array(StringEnum(['microsoft', 'password']), {
    description: 'How people sign in to the apps now: `policy.signInMethods`, or its default when unset.',
  }),
  entraTenantIds: Type.Array(Type.String(), { description: 'The Microsoft Entra tenants (`tid`) connected to this tenant.' }),
  bindEntraOnFirstAdminSignIn: Type.Boolean({
    description: 'Waiting for its first Microsoft admin: the first `Roger.Admin` to sign in with Microsoft connects their Entra tenant.',
  }),
  emailDomains: Type.Array(Type.String(), {
    description: 'Email domains that find this tenant on the sign-in page (set by the operator).',
  }),
});

const publicTenant = (tenant: Tenant) => {
  // Tenants created before a policy field existed get its default.
  const policy = { ...defaultTenantPolicy, ...tenant.policy };
  return {
    id: tenant.id,
    slug: tenant.slug,
    name: tenant.name,
    region: tenant.region,
    policy,
    signInMethods: [...signInMethodsOf({ ...tenant, policy })],
    entraTenantIds: [...(tenant.entraTenantIds ?? [])],
    bindEntraOnFirstAdminSignIn: tenant.bindEntraOnFirstAdminSignIn === true,
    emailDomains: [...(tenant.emailDomains ?? [])],
  };
};

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
  summary:
    'Change the tenant’s name or policy (admins); only the fields sent change. Audited. Other instances apply it within a minute. Password sign-in stays on until the tenant is connected to Microsoft Entra ID (409).',
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
  responses: {
    200: { description: 'Changed', schema: TenantSchema },
    409: {
      description:
        '`signInMethods` without `password` on a tenant not connected to Microsoft Entra ID (nobody could sign in), or one that leaves the acting admin no way to sign in (they would be locked out); or `pinOnly` with PINs too short for the tenant’s users (`policy.pinOnly`: the users, the share of the PIN space and the length needed are in the answer)',
    },
  },
  handler: async ({ body }, services, context) => ({
    status: 200,
    body: publicTenant(await changeTenant(services, callerOf(context, 'user'), body, context.log)),
  }),
});
