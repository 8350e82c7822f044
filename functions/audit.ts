import { Type } from '@sinclair/typebox';
import { AUDIT_ACTIONS, AuditRecordSchema, listAudit, publicAuditRecord } from '../shared/audit/audit.js';
import { PageOf, PageQuery } from '../shared/http/paging.js';
import { HttpProblem } from '../shared/http/problem.js';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { StringEnum } from '../shared/string-enum.js';

const AuditQuery = Type.Object(
  {
    ...PageQuery(50).properties,
    action: Type.Optional(StringEnum(AUDIT_ACTIONS, { description: 'Only records of this action.' })),
    from: Type.Optional(
      Type.String({ format: 'date-time', description: 'Only records at or after this time (RFC 3339, e.g. `2026-12-01T00:00:00Z`).' }),
    ),
    to: Type.Optional(Type.String({ format: 'date-time', description: 'Only records before this time (RFC 3339).' })),
  },
  { additionalProperties: false },
);

export const auditList = defineRoute({
  name: 'audit-list',
  methods: ['GET'],
  route: 'api/audit',
  summary:
    'The tenant’s audit log of admin actions, newest first (admins): who (id), what, when, on what (id); optionally only one `action` and/or a time window [`from`, `to`). A `continuationToken` goes with the same filters.',
  tags: ['tenant'],
  auth: { kinds: ['user'], anyRole: ['admin'] },
  request: {
    query: AuditQuery,
  },
  responses: {
    200: { description: 'A page of records', schema: PageOf(AuditRecordSchema) },
    400: { description: 'An unknown `action`, a time that is not RFC 3339, or `from` not before `to`' },
  },
  handler: async ({ query }, { store }, context) => {
    const from = query.from ? timeOf(query.from, '/query/from') : undefined;
    const to = query.to ? timeOf(query.to, '/query/to') : undefined;
    if (from && to && from.getTime() >= to.getTime()) {
      throw new HttpProblem('validation-failed', '/query/from must be before /query/to', {
        errors: [{ pointer: '/query/from', detail: 'must be before to' }],
      });
    }
    const page = await listAudit(
      store,
      callerOf(context, 'user').tenantId,
      { limit: query.limit ?? 50, ...(query.continuationToken ? { continuationToken: query.continuationToken } : {}) },
      { ...(query.action ? { action: query.action } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}) },
    );
    return { status: 200, body: { items: page.items.map(publicAuditRecord), continuationToken: page.continuationToken } };
  },
});

/**
 * RFC 3339 admits a leap second (`23:59:60`) and the schema's `date-time` format lets it through,
 * but JavaScript's Date cannot hold one: refuse it as a field error rather than fail on it later.
 */
function timeOf(value: string, pointer: string): Date {
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) {
    throw new HttpProblem('validation-failed', `${pointer} is not a time this service can use`, {
      errors: [{ pointer, detail: 'must be a date-time without a leap second' }],
    });
  }
  return time;
}
