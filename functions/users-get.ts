import { IdParams } from '../shared/http/id-params.js';
import { defineRoute } from '../shared/http/route.js';
import { publicUser, PublicUserSchema } from '../shared/users/users.js';
import { adminOrSelf, tenantUser } from './users-admin.js';

export const usersGet = defineRoute({
  name: 'users-get',
  methods: ['GET'],
  route: 'api/users/{id}',
  authLevel: 'anonymous',
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
