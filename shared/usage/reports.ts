import { Invalid } from '../errors.js';
import type { Store } from '../store/store.js';
import { FIGURES, counterKey, nameKey, parseCounterKey, type CounterKind, type Figures, type UsageDayDoc } from './usage.js';

/**
 * Usage reports over the day aggregates (docs/flows.md#usage-reports): the tenant's, grouped by
 * user, printer or day, for admins; and one person's own. Each is one query in the tenant's
 * partition over the days asked for, at most MAX_REPORT_DAYS of them: Cosmos DB returns up to
 * QUERY_PAGE_ITEMS items a page (and at most 4 MB), so a month is one request.
 */

export const MAX_REPORT_DAYS = 366;
/** Own totals without `from` and `to`: the last 30 days, today included. */
export const DEFAULT_OWN_DAYS = 30;
export const QUERY_PAGE_ITEMS = 100;

export type UsageGroupBy = 'user' | 'printer' | 'day';
export const USAGE_GROUPS: readonly UsageGroupBy[] = ['user', 'printer', 'day'];

export interface DayRange {
  /** `YYYY-MM-DD`, UTC, both included. */
  readonly from: string;
  readonly to: string;
}

export type FiguresWithShare = Figures & { readonly colorShare: number };
export interface UsageRow extends FiguresWithShare {
  /** The user's or printer's id, or the day. */
  readonly key: string;
  /** The username or printer name last seen in the range, or the day. */
  readonly name: string;
}
export interface UsageReport extends DayRange {
  readonly groupBy: UsageGroupBy;
  readonly totals: FiguresWithShare;
  readonly rows: readonly UsageRow[];
}
export interface OwnUsage extends DayRange {
  readonly totals: FiguresWithShare;
  readonly days: readonly (Figures & { readonly day: string })[];
}

const DAY_MS = 86_400_000;
const dayAt = (day: string) => Date.parse(`${day}T00:00:00Z`);
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * The days asked for, both included: `to` defaults to today (UTC) and `from` to `defaultDays`
 * days ending there. Refused: `from` after `to`, more than MAX_REPORT_DAYS days. The schema has
 * checked the format (`YYYY-MM-DD`, a real date).
 */
export function dayRange(asked: { readonly from?: string; readonly to?: string }, today: Date, defaultDays = DEFAULT_OWN_DAYS): DayRange {
  const to =
    asked.to ?? (asked.from ? dayOf(Math.min(dayAt(asked.from) + (defaultDays - 1) * DAY_MS, today.getTime())) : dayOf(today.getTime()));
  const from = asked.from ?? dayOf(dayAt(to) - (defaultDays - 1) * DAY_MS);
  if (dayAt(from) > dayAt(to)) {
    throw new Invalid('from must not be after to', { errors: [{ pointer: '/query/from', detail: 'must not be after to' }] });
  }
  if ((dayAt(to) - dayAt(from)) / DAY_MS + 1 > MAX_REPORT_DAYS) {
    throw new Invalid(`a report covers at most ${MAX_REPORT_DAYS} days`, {
      errors: [{ pointer: '/query/to', detail: `must be at most ${MAX_REPORT_DAYS - 1} days after from` }],
    });
  }
  return { from, to };
}

const rangeParameters = (tenantId: string, range: DayRange) => [
  { name: '@tenantId', value: tenantId },
  { name: '@from', value: range.from },
  { name: '@to', value: range.to },
];

/** One query in the tenant's partition; the partition field is in the WHERE too (the local server ignores the option). */
async function queryDays<T>(store: Store, tenantId: string, query: string, parameters: { name: string; value: string }[]): Promise<T[]> {
  const { resources } = await store
    .container('usage')
    .items.query<T>({ query, parameters }, { partitionKey: tenantId, maxItemCount: QUERY_PAGE_ITEMS })
    .fetchAll();
  return resources;
}

const zero = (): Figures => ({ jobs: 0, pages: 0, sheets: 0, colorPages: 0 });
const add = (sum: Figures, figures: Partial<Figures>) => {
  for (const figure of FIGURES) sum[figure] += figures[figure] ?? 0;
};
/** Colour pages over pages, to 3 places; 0 without pages. */
export const colorShareOf = (figures: Figures) => (figures.pages > 0 ? Math.round((figures.colorPages / figures.pages) * 1000) / 1000 : 0);
const withShare = (figures: Figures): FiguresWithShare => ({ ...figures, colorShare: colorShareOf(figures) });

/**
 * The tenant's usage over `range`, grouped. Totals are the printers' counters (every printed job
 * has one printer; an erased user's jobs stay in them). Rows: days ascending, users and printers
 * by pages descending (then by key, so equal pages keep one order); only days, users and
 * printers with jobs in the range.
 */
export async function usageReport(store: Store, tenantId: string, range: DayRange, groupBy: UsageGroupBy): Promise<UsageReport> {
  const days = await queryDays<Pick<UsageDayDoc, 'day' | 'counts' | 'names'>>(
    store,
    tenantId,
    'SELECT c.day, c.counts, c.names FROM c WHERE c.tenantId = @tenantId AND c.day >= @from AND c.day <= @to',
    rangeParameters(tenantId, range),
  );
  days.sort((a, b) => a.day.localeCompare(b.day));
  const totals = zero();
  const groups = new Map<string, { name: string; figures: Figures }>();
  const kind: CounterKind = groupBy === 'user' ? 'user' : 'printer';
  for (const { day, counts, names } of days) {
    for (const [key, value] of Object.entries(counts)) {
      const counter = parseCounterKey(key);
      if (!counter) continue;
      if (counter.kind === 'printer') totals[counter.figure] += value;
      if (counter.kind !== kind) continue;
      const groupKey = groupBy === 'day' ? day : counter.id;
      let group = groups.get(groupKey);
      if (!group) groups.set(groupKey, (group = { name: groupKey, figures: zero() }));
      group.figures[counter.figure] += value;
      // Days are in order: the last name seen wins.
      if (groupBy !== 'day') group.name = names[nameKey(kind, counter.id)] ?? group.name;
    }
  }
  const rows = [...groups].map(([key, { name, figures }]): UsageRow => ({ key, name, ...withShare(figures) }));
  rows.sort(groupBy === 'day' ? (a, b) => a.key.localeCompare(b.key) : (a, b) => b.pages - a.pages || a.key.localeCompare(b.key));
  return { ...range, groupBy, totals: withShare(totals), rows };
}

/**
 * One user's own figures over `range`, by day: the query projects only their four counters from
 * each day's item (the parameters name the keys), so nobody else's figures leave the store.
 */
export async function ownUsage(store: Store, tenantId: string, userId: string, range: DayRange): Promise<OwnUsage> {
  const found = await userDays(store, tenantId, userId, range);
  const totals = zero();
  for (const day of found) add(totals, day);
  return { ...range, totals: withShare(totals), days: found };
}

export type UserDayRow = Partial<Figures> & { readonly day: string; readonly id: string; readonly name?: string };

/** The parameters naming a user's counters and name in a day item (`c.counts[@jobs]`, …). */
const userKeyParameters = (userId: string) => [
  ...FIGURES.map((figure) => ({ name: `@${figure}`, value: counterKey('user', userId, figure) })),
  { name: '@name', value: nameKey('user', userId) },
];
/** Every day the tenant keeps (export, erasure): a range no day falls outside of. */
const EVERY_DAY: DayRange = { from: '0000-01-01', to: '9999-12-31' };

/** The user's figures and name per day (days ascending), over `range` or every day the tenant keeps. */
export async function userDayRows(store: Store, tenantId: string, userId: string, range: DayRange = EVERY_DAY): Promise<UserDayRow[]> {
  const rows = await queryDays<UserDayRow>(
    store,
    tenantId,
    'SELECT c.id, c.day, c.counts[@jobs] AS jobs, c.counts[@pages] AS pages, c.counts[@sheets] AS sheets, c.counts[@colorPages] AS colorPages, c.names[@name] AS name FROM c WHERE c.tenantId = @tenantId AND c.day >= @from AND c.day <= @to',
    [...rangeParameters(tenantId, range), ...userKeyParameters(userId)],
  );
  return rows.sort((a, b) => a.day.localeCompare(b.day));
}

/** The days on which the user has figures, with them. */
export async function userDays(store: Store, tenantId: string, userId: string, range?: DayRange): Promise<(Figures & { day: string })[]> {
  const rows = await userDayRows(store, tenantId, userId, range);
  return rows
    .filter((row) => row.jobs !== undefined)
    .map((row) => ({ day: row.day, jobs: row.jobs ?? 0, pages: row.pages ?? 0, sheets: row.sheets ?? 0, colorPages: row.colorPages ?? 0 }));
}
