import { Type } from '@sinclair/typebox';
import { audit } from '../shared/audit/audit.js';
import { HttpProblem } from '../shared/http/problem.js';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { defaultTenantPolicy, TenantPolicySchema } from '../shared/tenants/policy.js';
import { readTenantFresh, updateTenant } from '../shared/tenants/tenants.js';

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
  authLevel: 'anonymous',
  summary: 'The caller’s tenant and its policy (admins).',
  tags: ['tenant'],
  auth: admins,
  responses: { 200: { description: 'The tenant', schema: TenantSchema } },
  handler: async (_input, { store }, context) => {
    const tenant = await readTenantFresh(store, callerOf(context).tenantId);
    if (!tenant) throw new HttpProblem('not-found', 'the tenant no longer exists');
    return { status: 200, body: publicTenant(tenant) };
  },
});

export const tenantUpdate = defineRoute({
  name: 'tenant-update',
  methods: ['PATCH'],
  route: 'api/tenant',
  authLevel: 'anonymous',
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
  responses: { 200: { description: 'Changed', schema: TenantSchema }, },
  handler: async ({ body }, { store, now }, context) => {
    const caller = callerOf(context);
    const updated = await updateTenant(store, caller.tenantId, (tenant) => ({
      ...tenant,
      ...(body.name !== undefined ? { name: body.name } : {}),
      policy: { ...tenant.policy, ...body.policy },
    }));
    if (!updated) throw new HttpProblem('not-found', 'the tenant no longer exists');
    await audit(store, context.log, {
      tenantId: caller.tenantId,
      actorId: caller.userId!,
      action: 'tenant.policy-changed',
      details: { fields: [...(body.name !== undefined ? ['name'] : []), ...Object.keys(body.policy ?? {}).map((field) => `policy.${field}`)] },
      at: now(),
    });
    return { status: 200, body: publicTenant(updated) };
  },
});
