import { audit } from '../shared/audit/audit.js';
import { Type } from '@sinclair/typebox';
import { IdParams } from '../shared/http/id-params.js';
import { HttpProblem } from '../shared/http/problem.js';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { userProblem } from '../shared/tenants/onboarding.js';
import { readTenant } from '../shared/tenants/tenants.js';
import { checkCredentialPolicy, hashCredentials, PasswordSchema, PinSchema, readUser, updateUser } from '../shared/users/users.js';

export const usersCredentials = defineRoute({
  name: 'users-credentials',
  methods: ['PUT'],
  route: 'api/users/{id}/credentials',
  authLevel: 'anonymous',
  summary: "Set or reset a user's PIN and/or password (admin). Clears a lock and signs the user out everywhere.",
  tags: ['users'],
  auth: { kinds: ['user'], anyRole: ['admin'] },
  request: {
    params: IdParams,
    body: Type.Object(
      { pin: Type.Optional(PinSchema), password: Type.Optional(PasswordSchema) },
      { additionalProperties: false, minProperties: 1 },
    ),
  },
  responses: { 204: { description: 'Set' }, 404: { description: 'No such user in this tenant' } },
  handler: async ({ params, body }, { store, now }, context) => {
    const caller = callerOf(context);
    const tenant = await readTenant(store, caller.tenantId);
    if (!tenant) throw new HttpProblem('not-found', 'no such user');
    try {
      checkCredentialPolicy(tenant.policy, body);
    } catch (error) {
      throw userProblem(error);
    }
    // Hashed before the user is read: argon2's time between the read and the write would let
    // every sign-in or refresh of this user win the item first.
    const hashes = await hashCredentials(body);
    const user = await readUser(store, caller.tenantId, params.id);
    // New credentials end every existing sign-in: a reset after a suspected leak must lock the
    // thief out. Applied on top of whatever a racing sign-in or refresh wrote, never undone by it.
    const updated =
      user && (await updateUser(store, user, (current) => ({ ...current, ...hashes, lockout: { failures: 0, locks: 0 }, refreshFamilies: [] })));
    if (!updated) throw new HttpProblem('not-found', 'no such user');
    await audit(store, context.log, { tenantId: caller.tenantId, actorId: caller.userId!, action: 'user.credentials-set', targetId: user.id, details: { fields: Object.keys(body) }, at: now() });
    return { status: 204 };
  },
});
