import { Type } from '@sinclair/typebox';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { StringEnum } from '../shared/string-enum.js';
import { usageCsv, usageCsvFileName } from '../shared/usage/csv.js';
import { DaySchema, TotalsSchema } from '../shared/usage/schemas.js';
import { dayRange, MAX_REPORT_DAYS, USAGE_GROUPS, usageReport } from '../shared/usage/reports.js';

const UsageReportSchema = Type.Object({
  from: Type.String(),
  to: Type.String(),
  groupBy: StringEnum(USAGE_GROUPS),
  totals: TotalsSchema,
  rows: Type.Array(
    Type.Object({
      key: Type.String({ description: 'The user id, printer id or day.' }),
      name: Type.String({ description: 'The username or printer name last seen in the range, or the day.' }),
      ...TotalsSchema.properties,
    }),
  ),
});

export const reportsUsage = defineRoute({
  name: 'reports-usage',
  methods: ['GET'],
  route: 'api/reports/usage',
  summary: `What the tenant printed between two UTC days (both included, at most ${MAX_REPORT_DAYS}), grouped by user, printer or day (admins): jobs, pages, sheets, colour pages and colour share, as JSON or CSV (\`format=csv\`). Rows: days ascending, users and printers by pages descending. One Cosmos query per 100 days.`,
  tags: ['reports'],
  auth: { kinds: ['user'], anyRole: ['admin'] },
  request: {
    query: Type.Object(
      {
        from: DaySchema('First day, UTC (`YYYY-MM-DD`).'),
        to: DaySchema('Last day, UTC, included.'),
        groupBy: StringEnum(USAGE_GROUPS, { description: 'One row per user, printer or day.' }),
        format: Type.Optional(StringEnum(['json', 'csv'], { description: 'Default `json`.' })),
      },
      { additionalProperties: false },
    ),
  },
  responses: {
    200: { description: 'The report (JSON, or `text/csv` with `format=csv`)', schema: UsageReportSchema },
    400: { description: 'A day that is not `YYYY-MM-DD`, `from` after `to`, or more than 366 days' },
  },
  handler: async ({ query }, { store, now }, context) => {
    const range = dayRange(query, now());
    const report = await usageReport(store, callerOf(context, 'user').tenantId, range, query.groupBy);
    if (query.format === 'csv') {
      return {
        status: 200,
        body: usageCsv(report),
        contentType: 'text/csv; charset=utf-8',
        headers: { 'Content-Disposition': `attachment; filename="${usageCsvFileName(report)}"` },
      };
    }
    return { status: 200, body: report };
  },
});
