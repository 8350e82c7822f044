import { Type } from '@sinclair/typebox';
import { IdParams } from '../shared/http/id-params.js';
import { PageOf, PageQuery } from '../shared/http/paging.js';
import { HttpProblem } from '../shared/http/problem.js';
import { callerOf, defineRoute, type RequestContext } from '../shared/http/route.js';
import { readTenant } from '../shared/tenants/tenants.js';
import { addUser, editUser, eraseAccount, issueNewPin, listUsers, LoginSchema, setUserCredentials } from '../shared/users/admin.js';
import { keptLogins } from '../shared/users/login-records.js';
import { exportUser } from '../shared/users/data-rights.js';
import type { Services } from '../shared/services.js';
import {
  EmailSchema,
  PasswordSchema,
  PinSchema,
  publicUser,
  PublicUserSchema,
  readUser,
  RoleSchema,
  UsernameSchema,
} from '../shared/users/users.js';

const admins = { kinds: ['user'], anyRole: ['admin'] } as const;

/** A user of the caller's tenant; 404 for anyone not in this tenant (the read is in the caller's partition). */
async function tenantUser({ store }: Services, context: RequestContext, userId: string) {
  if (userId === callerOf(context, 'user').userId) return context.currentUser();
  const user = await readUser(store, callerOf(context, 'user').tenantId, userId);
  if (!user) throw new HttpProblem('not-found', 'no such user');
  return user;
}

/**
 * Admins for anyone of their tenant; users only for themselves (`what` names the act in the
 * 403). Either way the caller must still exist, and "admin" is the role stored now.
 */
async function adminOrSelf(context: RequestContext, userId: string, what = 'do this for'): Promise<void> {
  const caller = await context.currentUser();
  if (caller.id !== userId && caller.role !== 'admin') throw new HttpProblem('forbidden', `only admins may ${what} other users`);
}

export const usersList = defineRoute({
  name: 'users-list',
  methods: ['GET'],
  route: 'api/users',
  summary: 'The tenant’s users by username, paged; `q` matches username, email or full name (admins).',
  tags: ['users'],
  auth: admins,
  request: {
    query: Type.Object(
      { ...PageQuery(25).properties, q: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
      { additionalProperties: false },
    ),
  },
  responses: {
    200: { description: 'A page of users', schema: PageOf(PublicUserSchema) },
  },
  handler: async ({ query }, { store }, context) => {
    const page = await listUsers(store, callerOf(context, 'user').tenantId, {
      limit: query.limit ?? 25,
      ...(query.continuationToken ? { continuationToken: query.continuationToken } : {}),
      ...(query.q ? { text: query.q } : {}),
    });
    return { status: 200, body: { items: page.items.map(publicUser), continuationToken: page.continuationToken } };
  },
});

export const usersUpdate = defineRoute({
  name: 'users-update',
  methods: ['PATCH'],
  route: 'api/users/{id}',
  summary:
    'Change a user’s email, username, full name or role (admins). The last admin cannot be demoted; what the identity provider owns of a user provisioned over SCIM is refused. Audited.',
  tags: ['users'],
  auth: admins,
  request: {
    params: IdParams,
    body: Type.Object(
      {
        email: Type.Optional(EmailSchema),
        username: Type.Optional(UsernameSchema),
        fullName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        role: Type.Optional(RoleSchema),
      },
      { additionalProperties: false, minProperties: 1 },
    ),
  },
  responses: {
    200: { description: 'Changed', schema: PublicUserSchema },
    404: { description: 'No such user in this tenant' },
    409: {
      description:
        'Name taken, or the last admin; or `managed-by-directory`: the user is provisioned over SCIM and the identity provider owns the fields named in `fields`',
    },
  },
  handler: async ({ params, body }, services, context) => {
    const updated = await editUser(services, callerOf(context, 'user'), await tenantUser(services, context, params.id), body, context.log);
    return { status: 200, body: publicUser(updated) };
  },
});

export const usersPinReset = defineRoute({
  name: 'users-pin-reset',
  methods: ['POST'],
  route: 'api/users/{id}/pin-reset',
  summary: 'Give a user a new random PIN, shown once in this answer (admins). Clears a lock and ends the user’s sign-ins. Audited.',
  tags: ['users'],
  auth: admins,
  request: { params: IdParams },
  responses: {
    200: { description: 'The new PIN (not stored anywhere in plain text)', schema: Type.Object({ pin: Type.String() }) },
    404: { description: 'No such user in this tenant' },
  },
  handler: async ({ params }, services, context) => ({
    status: 200,
    body: { pin: await issueNewPin(services, callerOf(context, 'user'), params.id, context.log) },
  }),
});

export const usersLogins = defineRoute({
  name: 'users-logins',
  methods: ['GET'],
  route: 'api/users/{id}/logins',
  summary: 'A user’s sign-ins, newest first, as long as the tenant policy keeps them (admins).',
  tags: ['users'],
  auth: admins,
  request: { params: IdParams },
  responses: { 200: { description: 'Sign-ins', schema: Type.Object({ items: Type.Array(LoginSchema), continuationToken: Type.Null() }) } },
  handler: async ({ params }, services, context) => {
    const [tenant, user] = await Promise.all([
      readTenant(services.store, callerOf(context, 'user').tenantId),
      tenantUser(services, context, params.id),
    ]);
    if (!tenant) throw new HttpProblem('not-found', 'the tenant no longer exists');
    return { status: 200, body: { items: await keptLogins(services.store, user, tenant.policy, services.now()), continuationToken: null } };
  },
});

export const usersExport = defineRoute({
  name: 'users-export',
  methods: ['GET'],
  route: 'api/users/{id}/export',
  summary: 'Everything stored about a user, as one JSON document (admins, or the user for themself). No hashes, no tokens.',
  tags: ['users'],
  auth: { kinds: ['user'] },
  request: { params: IdParams },
  responses: { 200: { description: 'The export' }, 404: { description: 'No such user in this tenant' } },
  handler: async ({ params }, services, context) => {
    await adminOrSelf(context, params.id);
    const user = await tenantUser(services, context, params.id);
    return {
      status: 200,
      body: await exportUser(services.store, user),
      headers: { 'Content-Disposition': `attachment; filename="roger-export-${user.id}.json"` },
    };
  },
});

export const usersErase = defineRoute({
  name: 'users-erase',
  methods: ['DELETE'],
  route: 'api/users/{id}',
  summary:
    'Erase a user and every item that names them: jobs, sign-in history, tokens, OneDrive link, device codes (admins). Idempotent; leaves an audit record with counts only.',
  tags: ['users'],
  auth: admins,
  request: { params: IdParams },
  responses: { 204: { description: 'Erased (or there was no such user)' }, 409: { description: 'The tenant’s last admin' } },
  handler: async ({ params }, services, context) => {
    await eraseAccount(services, callerOf(context, 'user'), params.id, context.log);
    return { status: 204 };
  },
});

export const usersCreate = defineRoute({
  name: 'users-create',
  methods: ['POST'],
  route: 'api/users',
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
    const user = await addUser(services, callerOf(context, 'user'), body, context.log);
    return { status: 201, body: publicUser(user), headers: { Location: `/api/users/${user.id}` } };
  },
});

export const usersGet = defineRoute({
  name: 'users-get',
  methods: ['GET'],
  route: 'api/users/{id}',
  summary: 'One user of the caller’s tenant (admins: anyone; users: themselves).',
  tags: ['users'],
  auth: { kinds: ['user'] },
  request: { params: IdParams },
  responses: { 200: { description: 'The user', schema: PublicUserSchema }, 404: { description: 'No such user in this tenant' } },
  handler: async ({ params }, services, context) => {
    await adminOrSelf(context, params.id, 'see');
    return { status: 200, body: publicUser(await tenantUser(services, context, params.id)) };
  },
});

export const usersCredentials = defineRoute({
  name: 'users-credentials',
  methods: ['PUT'],
  route: 'api/users/{id}/credentials',
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
  handler: async ({ params, body }, services, context) => {
    await setUserCredentials(services, callerOf(context, 'user'), params.id, body, context.log);
    return { status: 204 };
  },
});
