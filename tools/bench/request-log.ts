/**
 * What one API call cost the store, read from the host's request log line
 * (shared/http/http-handler.ts: `request ... cosmosRequests=2 cosmosRU=2 cosmosBytesRead=...`).
 * The byte, index and estimate fields are optional: a host without them leaves them undefined,
 * and the table shows '-'.
 */
export interface CallCost {
  /** Cosmos requests per call (mean). */
  readonly requests: number;
  /** The fewest and most requests one call made, when they differ (a cold cache, a retry after a 412). */
  readonly requestsRange?: readonly [number, number];
  /** Request units as the store reported them (`x-ms-request-charge`; the local server says 1 per request). */
  readonly ru: number;
  readonly bytesRead?: number;
  readonly bytesWritten?: number;
  /** Index entries the call's writes touched, under each container's indexing policy (docs/data.md#indexing). */
  readonly indexedPaths?: number;
  /** Request units estimated from Microsoft's published point read and write costs (docs/data.md). */
  readonly ruEstimate?: number;
}

type LoggedField = Exclude<keyof CallCost, 'requestsRange'>;

const FIELDS = {
  requests: 'cosmosRequests',
  ru: 'cosmosRU',
  bytesRead: 'cosmosBytesRead',
  bytesWritten: 'cosmosBytesWritten',
  indexedPaths: 'cosmosIndexedPaths',
  ruEstimate: 'cosmosRUEstimate',
} as const satisfies Record<LoggedField, string>;

function field(line: string, name: string): number | undefined {
  const match = new RegExp(` ${name}=([\\d.]+)(?: |$)`).exec(line);
  return match ? Number(match[1]) : undefined;
}

const mean = (values: readonly number[]) => Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 100) / 100;

/** Mean cost per call of `route` over the request log lines of a row; undefined when none were logged. */
export function callCost(lines: readonly string[], route: string): CallCost | undefined {
  const calls = lines.filter((line) => / request /.test(line) && line.includes(` route=${route} `));
  if (calls.length === 0) return undefined;
  const cost: Partial<Record<LoggedField, number>> = {};
  for (const [key, name] of Object.entries(FIELDS) as [LoggedField, string][]) {
    const values = calls.map((line) => field(line, name)).filter((v): v is number => v !== undefined && Number.isFinite(v));
    // A field only when every call logged it: a mean over some calls would understate the cost.
    if (values.length === calls.length) cost[key] = mean(values);
  }
  if (cost.requests === undefined) return undefined;
  const counts = calls.map((line) => field(line, FIELDS.requests) ?? 0);
  const range = [Math.min(...counts), Math.max(...counts)] as const;
  return { ru: 0, ...cost, requests: cost.requests, ...(range[0] !== range[1] ? { requestsRange: range } : {}) };
}
