import { AuditRecordSchema, listAudit, publicAuditRecord } from '../shared/audit/audit.js';
import { PageOf, PageQuery } from '../shared/http/paging.js';
import { callerOf, defineRoute } from '../shared/http/route.js';

export const auditList = defineRoute({
  name: 'audit-list',
  methods: ['GET'],
  route: 'api/audit',
  summary: 'The tenant’s audit log of admin actions, newest first (admins): who (id), what, when, on what (id).',
  tags: ['tenant'],
  auth: { kinds: ['user'], anyRole: ['admin'] },
  request: {
    query: PageQuery(50),
  },
  responses: {
    200: { description: 'A page of records', schema: PageOf(AuditRecordSchema) },
  },
  handler: async ({ query }, { store }, context) => {
    const page = await listAudit(store, callerOf(context, 'user').tenantId, {
      limit: query.limit ?? 50,
      ...(query.continuationToken ? { continuationToken: query.continuationToken } : {}),
    });
    return { status: 200, body: { items: page.items.map(publicAuditRecord), continuationToken: page.continuationToken } };
  },
});
