import type { PatchOperation } from '@azure/cosmos';
import { readDevice } from '../devices/devices.js';
import type { JobDoc, PrintedCounts } from '../jobs/jobs.js';
import { isConflict, isNotFound } from '../store/cosmos-errors.js';
import type { Store } from '../store/store.js';

/**
 * Usage aggregates (docs/data.md#usage-aggregates): what was printed, counted per tenant and UTC
 * day, by user and by printer, so a report over a month reads a few items instead of every job
 * (docs/flows.md#usage-reports).
 *
 * One item per tenant and day, `day:<YYYY-MM-DD>` in the tenant's partition of `usage`:
 *
 *   { id, tenantId, type: 'usage-day', day, ttl,
 *     counts: { "user:<id>:jobs": 3, "user:<id>:pages": 12, …, "printer:<id>:colorPages": 4 },
 *     names:  { "user:<id>": "<username>", "printer:<id>": "<printer name>" } }
 *
 * Flat counters in one object, never an object per user: Cosmos patch `incr` creates a missing
 * leaf but not a missing parent, and the item exists before the person's first job of the day.
 * Every printed job has one printer, so the day's totals are the sum of its printers' counters:
 * a job is then one patch of 10 operations (4 counters each for user and printer, 2 names), which
 * is the most one patch may carry, and user and printer counters can never disagree.
 */

/** Kept longer than the longest report (MAX_REPORT_DAYS): an item expires this long after its last write. */
export const USAGE_RETENTION_DAYS = 400;

export const FIGURES = ['jobs', 'pages', 'sheets', 'colorPages'] as const;
export type Figure = (typeof FIGURES)[number];
export type Figures = Record<Figure, number>;

export interface UsageDayDoc {
  readonly id: string;
  readonly tenantId: string;
  readonly type: 'usage-day';
  /** `YYYY-MM-DD`, UTC. */
  readonly day: string;
  /** `<kind>:<id>:<figure>` → count; kind `user` or `printer`. */
  readonly counts: Readonly<Record<string, number>>;
  /** `<kind>:<id>` → the latest username or printer name seen that day (the report's `name`). */
  readonly names: Readonly<Record<string, string>>;
  readonly ttl: number;
}

export type CounterKind = 'user' | 'printer';

/** A printed job whose printer nobody recorded (never expected: printed jobs were released somewhere). */
const UNKNOWN_PRINTER = 'unknown';

export const utcDay = (at: Date) => at.toISOString().slice(0, 10);
export const dayItemId = (day: string) => `day:${day}`;
export const nameKey = (kind: CounterKind, id: string) => `${kind}:${id}`;
export const counterKey = (kind: CounterKind, id: string, figure: Figure) => `${nameKey(kind, id)}:${figure}`;

/**
 * `<kind>:<id>:<figure>` read back; undefined for anything else. The id sits between the first
 * and the last colon, so an id holding colons still parses.
 */
export function parseCounterKey(key: string): { kind: CounterKind; id: string; figure: Figure } | undefined {
  const first = key.indexOf(':');
  const last = key.lastIndexOf(':');
  if (first < 0 || last <= first) return undefined;
  const kind = key.slice(0, first);
  const figure = key.slice(last + 1);
  if ((kind !== 'user' && kind !== 'printer') || !(FIGURES as readonly string[]).includes(figure)) return undefined;
  return { kind, id: key.slice(first + 1, last), figure: figure as Figure };
}

/** RFC 6901: a key is one segment of a patch path only with `~` and `/` escaped (ids are ours, names of others may not be). */
export const pointerSegment = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** A job printed without figures (an older printer agent) still counts as a job, with 0 pages. */
export function figuresOf(printed: PrintedCounts | undefined): Figures {
  return { jobs: 1, pages: printed?.pages ?? 0, sheets: printed?.sheets ?? 0, colorPages: printed?.colorPages ?? 0 };
}

function countersOf(kind: CounterKind, id: string, figures: Figures): Record<string, number> {
  return Object.fromEntries(FIGURES.map((figure) => [counterKey(kind, id, figure), figures[figure]]));
}

/*
 * Printer names, per store and instance, for a minute: a printer prints many jobs a day and its
 * name changes rarely, so most jobs need no read of it. A rename shows in the aggregates within a
 * minute. Bounded: a region has a few thousand printers on an instance at most.
 */
const NAME_CACHE_MS = 60_000;
const NAME_CACHE_MAX = 5_000;
const printerNames = new WeakMap<Store, Map<string, { name: string | undefined; until: number }>>();

async function printerName(store: Store, tenantId: string, printerId: string): Promise<string | undefined> {
  let cache = printerNames.get(store);
  if (!cache) printerNames.set(store, (cache = new Map()));
  const key = `${tenantId}/${printerId}`;
  const hit = cache.get(key);
  if (hit && hit.until > Date.now()) return hit.name;
  const name = (await readDevice(store, tenantId, printerId))?.name;
  if (cache.size >= NAME_CACHE_MAX) cache.clear();
  cache.set(key, { name, until: Date.now() + NAME_CACHE_MS });
  return name;
}

/**
 * Adds one printed job's figures to its tenant's item for the UTC day of `at`: one patch of
 * `incr` operations, which Cosmos DB applies atomically, so reports racing on any number of
 * instances never lose a count and need no ETag. The day's first job creates the item with its
 * figures in it; a create that loses to a racing one (409) patches instead. Not idempotent: the
 * caller marks the job (`usagePending`) and clears the mark once this returned
 * (shared/jobs/after-print.ts).
 */
export async function recordUsage(store: Store, job: JobDoc & { readonly printed?: PrintedCounts }, at: Date): Promise<void> {
  const day = utcDay(at);
  const printerId = job.releasedTo ?? UNKNOWN_PRINTER;
  const printer = job.releasedTo ? await printerName(store, job.tenantId, job.releasedTo) : undefined;
  const figures = figuresOf(job.printed);
  const counts = { ...countersOf('user', job.userId, figures), ...countersOf('printer', printerId, figures) };
  const names: Record<string, string> = {
    [nameKey('user', job.userId)]: job.username,
    ...(printer !== undefined ? { [nameKey('printer', printerId)]: printer } : {}),
  };
  const operations: PatchOperation[] = [
    ...Object.entries(counts).map(([key, value]): PatchOperation => ({ op: 'incr', path: `/counts/${pointerSegment(key)}`, value })),
    ...Object.entries(names).map(([key, value]): PatchOperation => ({ op: 'set', path: `/names/${pointerSegment(key)}`, value })),
  ];
  const container = store.container('usage');
  const item = container.item(dayItemId(day), job.tenantId);
  try {
    await item.patch(operations);
    return;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const created: UsageDayDoc = {
    id: dayItemId(day),
    tenantId: job.tenantId,
    type: 'usage-day',
    day,
    counts,
    names,
    ttl: USAGE_RETENTION_DAYS * 86_400,
  };
  try {
    await container.items.create(created);
  } catch (error) {
    if (!isConflict(error)) throw error;
    await item.patch(operations); // another job of the day created it first
  }
}
