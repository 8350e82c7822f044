import { IdParams } from '../shared/http/id-params.js';
import { HttpProblem } from '../shared/http/problem.js';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { publicUser, PublicUserSchema, readUser } from '../shared/users/users.js';


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
  handler: async ({ params }, { store }, context) => {
    const caller = callerOf(context);
    if (caller.userId !== params.id && !caller.roles.includes('admin')) {
      throw new HttpProblem('forbidden', 'only admins may see other users');
    }
    // The read is in the caller's tenant partition: another tenant's user is simply not there.
    const user = await readUser(store, caller.tenantId, params.id);
    if (!user) throw new HttpProblem('not-found', 'no such user');
    return { status: 200, body: publicUser(user) };
  },
});
