import { containerSpecs, type IndexingPolicy } from './containers.js';
import type { CosmosRequestCost } from './request-meter.js';

/**
 * What one Cosmos DB request costs, worked out from what went over the wire
 * (docs/data.md#what-a-call-costs): the bytes each way, the index terms a write touches under
 * the container's indexing policy (containers.ts), and an estimate of the request units Azure
 * would charge. The local server answers 1 RU for everything, so the estimate is what tells a
 * small write from a large one.
 *
 * Source of the RU figures: Microsoft Learn, "Understand request unit consumption in Azure
 * Cosmos DB" (https://learn.microsoft.com/azure/cosmos-db/understand-request-unit-consumption),
 * its table of RUs per document size for a point read and a write (session consistency); and
 * "Request units in Azure Cosmos DB" (https://learn.microsoft.com/azure/cosmos-db/request-units):
 * a point read of a 1 KB item is 1 RU. Between two sizes of the table the figure is interpolated;
 * under 1 KB it is the 1 KB one.
 */
const SIZES_KB = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048];
const READ_RU = [1.0, 1.04, 1.14, 1.33, 1.67, 2.19, 4.76, 9.95, 20.28, 40.95, 145.9, 291.8];
const WRITE_RU = [4.95, 6.29, 6.67, 7.04, 9.52, 11.23, 22.67, 48.19, 98.29, 184.57, 625.0, 1250.0];

function fromTable(column: readonly number[], bytes: number): number {
  const kb = Math.max(bytes, 0) / 1024;
  if (kb <= SIZES_KB[0]!) return column[0]!;
  for (let i = 1; i < SIZES_KB.length; i++) {
    if (kb <= SIZES_KB[i]!) {
      const [lo, hi] = [SIZES_KB[i - 1]!, SIZES_KB[i]!];
      return column[i - 1]! + ((kb - lo) / (hi - lo)) * (column[i]! - column[i - 1]!);
    }
  }
  return (column.at(-1)! * kb) / SIZES_KB.at(-1)!;
}

/** A point read (or a query page, at least: Microsoft says a query may cost more) of `bytes`. */
export const estimateReadRU = (bytes: number) => fromTable(READ_RU, bytes);
/** A create, replace, upsert or patch leaving an item of `bytes` (the table's figure: default indexing, so an upper bound under ours). */
export const estimateWriteRU = (bytes: number) => fromTable(WRITE_RU, bytes);

type Segments = readonly string[];

/** `/userIds/[]/?` → { segments: ['userIds', '[]'], wildcard: false }; `/a/*` → { ['a'], true }. */
function parsePolicyPath(path: string): { segments: Segments; wildcard: boolean } {
  const parts = path.split('/').filter(Boolean);
  const last = parts.at(-1);
  if (last === '*') return { segments: parts.slice(0, -1), wildcard: true };
  if (last === '?') return { segments: parts.slice(0, -1), wildcard: false };
  return { segments: parts, wildcard: true };
}

/** How precisely `pattern` names `leaf`: -1 when it does not; a scalar path beats a wildcard of the same depth. */
function matchDepth(pattern: { segments: Segments; wildcard: boolean }, leaf: Segments): number {
  const { segments, wildcard } = pattern;
  if (wildcard ? leaf.length < segments.length : leaf.length !== segments.length) return -1;
  for (let i = 0; i < segments.length; i++) if (segments[i] !== leaf[i]) return -1;
  return segments.length * 2 + (wildcard ? 0 : 1);
}

type ParsedPolicy = { readonly included: ReturnType<typeof parsePolicyPath>[]; readonly excluded: ReturnType<typeof parsePolicyPath>[] };

/**
 * Policies parsed once, and each leaf's answer remembered per policy: the meter runs on every
 * Cosmos request in Azure too, and the same few item shapes are written over and over.
 */
const parsedPolicies = new WeakMap<IndexingPolicy, { parsed: ParsedPolicy; answers: Map<string, boolean> }>();

function compiled(policy: IndexingPolicy) {
  let entry = parsedPolicies.get(policy);
  if (!entry) {
    const parsed = {
      included: policy.includedPaths.map(({ path }) => parsePolicyPath(path)),
      excluded: policy.excludedPaths.map(({ path }) => parsePolicyPath(path)),
    };
    parsedPolicies.set(policy, (entry = { parsed, answers: new Map() }));
  }
  return entry;
}

/** Bounded: item shapes are few, but a map of arbitrary keys (a user-chosen field name) must not grow without end. */
const ANSWERS_KEPT = 4096;

/** Whether a leaf path is indexed: the most precise of the included and excluded paths decides (no policy: everything is). */
export function isIndexed(policy: IndexingPolicy | undefined, leaf: Segments): boolean {
  if (!policy) return true;
  const { parsed, answers } = compiled(policy);
  const key = leaf.join('/');
  const known = answers.get(key);
  if (known !== undefined) return known;
  const best = (patterns: ParsedPolicy['included']) => patterns.reduce((most, pattern) => Math.max(most, matchDepth(pattern, leaf)), -1);
  const included = best(parsed.included);
  const answer = included >= 0 && included > best(parsed.excluded);
  if (answers.size < ANSWERS_KEPT) answers.set(key, answer);
  return answer;
}

/** Leaf paths of a JSON value; array elements are `[]`, as an indexing policy names them. */
function leafPaths(value: unknown, prefix: Segments, out: Segments[]): Segments[] {
  if (Array.isArray(value)) for (const element of value) leafPaths(element, [...prefix, '[]'], out);
  else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) leafPaths(child, [...prefix, key], out);
  } else if (prefix.length > 0) out.push(prefix);
  return out;
}

/** `id` and `_ts`: indexed whatever the policy says, counted once per written item. */
const ALWAYS = new Set(['id', '_ts']);

/** Index terms of a whole item written under `policy`: its indexed leaf paths, plus `id` and `_ts`. */
export function indexedPathsOfItem(policy: IndexingPolicy | undefined, item: unknown): number {
  const leaves = leafPaths(item, [], []).filter((leaf) => !(leaf.length === 1 && ALWAYS.has(leaf[0]!)));
  return leaves.filter((leaf) => isIndexed(policy, leaf)).length + ALWAYS.size;
}

interface PatchOperation {
  readonly op?: string;
  readonly path?: string;
  readonly value?: unknown;
}

/** Index terms a patch touches: its operations' paths (and what a value put there holds) that are indexed, plus `_ts`. */
export function indexedPathsOfPatch(policy: IndexingPolicy | undefined, operations: readonly PatchOperation[]): number {
  let touched = 0;
  for (const { path, value } of operations) {
    if (typeof path !== 'string') continue;
    // `/a/0` names an array element: a policy says `[]` for any element.
    const base = path
      .split('/')
      .filter(Boolean)
      .map((s) => (/^(\d+|-)$/.test(s) ? '[]' : s));
    const leaves = value !== null && typeof value === 'object' ? leafPaths(value, base, []) : [base];
    touched += leaves.filter((leaf) => isIndexed(policy, leaf)).length;
  }
  return touched + 1;
}

const policiesById = new Map<string, IndexingPolicy | undefined>(
  Object.values(containerSpecs).map((spec) => [spec.id, (spec as { indexingPolicy?: IndexingPolicy }).indexingPolicy]),
);

/** The container a request is for (`/dbs/<db>/colls/<id>/docs...`), by the id containers.ts gives it. */
function policyOf(url: string): { policy: IndexingPolicy | undefined; docs: boolean; itemId?: string } {
  // On the URL as sent (the SDK's are absolute, no fragment): the path ends at `?`.
  const match = /\/dbs\/[^/?]+\/colls\/([^/?]+)(\/docs(?:\/([^/?]+))?)?/.exec(url);
  if (!match) return { policy: undefined, docs: false };
  return { policy: policiesById.get(decodeURIComponent(match[1]!)), docs: Boolean(match[2]), itemId: match[3] };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

interface BatchOperation {
  readonly operationType?: string;
  readonly resourceBody?: unknown;
}

/** One operation of a transactional batch: the write (or read) it stands for. */
function batchOperationCost(policy: IndexingPolicy | undefined, operation: BatchOperation): { ru: number; paths: number } {
  const type = (operation.operationType ?? '').toLowerCase();
  if (type === 'read') return { ru: estimateReadRU(0), paths: 0 };
  if (type === 'delete') return { ru: estimateWriteRU(0), paths: 0 };
  const body = operation.resourceBody;
  if (type === 'patch') {
    const operations = (body as { operations?: PatchOperation[] } | undefined)?.operations ?? [];
    return { ru: estimateWriteRU(byteLength(JSON.stringify(body ?? {}))), paths: indexedPathsOfPatch(policy, operations) };
  }
  return { ru: estimateWriteRU(byteLength(JSON.stringify(body ?? {}))), paths: indexedPathsOfItem(policy, body) };
}

export interface WireRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: { get(name: string): string | undefined };
  /** The request body as sent (the SDK sends JSON text). */
  readonly body: string | undefined;
}
export interface WireResponse {
  readonly status: number;
  readonly bodyAsText: string | undefined;
  readonly requestCharge: number;
}

/**
 * The cost of one request to Cosmos. A write that failed (409, 412, 404...) indexed nothing and
 * is estimated as a read of its answer; a delete as a write of an empty item. A successful write
 * is estimated on the item as stored: the larger of what was sent and what came back (Cosmos
 * returns the item; for a patch that is the whole item after it).
 */
export function costOfRequest(request: WireRequest, response: WireResponse): CosmosRequestCost {
  const bytesWritten = request.body ? byteLength(request.body) : 0;
  const bytesRead = response.bodyAsText ? byteLength(response.bodyAsText) : 0;
  const base = { requestCharge: response.requestCharge, bytesRead, bytesWritten };
  const read = { ...base, indexedPaths: 0, ruEstimate: estimateReadRU(bytesRead) };
  const { policy, docs, itemId } = policyOf(request.url);
  const ok = response.status >= 200 && response.status < 300;
  if (!docs || !ok) return read;
  const method = request.method.toUpperCase();
  const stored = Math.max(bytesWritten, bytesRead);
  if (method === 'DELETE') return { ...base, indexedPaths: 0, ruEstimate: estimateWriteRU(0) };
  if (method === 'PUT' && itemId)
    return { ...base, indexedPaths: indexedPathsOfItem(policy, parse(request.body ?? '')), ruEstimate: estimateWriteRU(stored) };
  if (method === 'PATCH' && itemId) {
    // The SDK sends the operations as a bare array, or as `{ operations, condition }`.
    const body = parse(request.body ?? '') as PatchOperation[] | { operations?: PatchOperation[] } | undefined;
    const operations = Array.isArray(body) ? body : (body?.operations ?? []);
    return { ...base, indexedPaths: indexedPathsOfPatch(policy, operations), ruEstimate: estimateWriteRU(stored) };
  }
  if (method === 'POST' && !itemId) {
    const flag = (name: string) => request.headers.get(name)?.toLowerCase() === 'true';
    if (flag('x-ms-documentdb-isquery') || flag('x-ms-cosmos-is-query-plan-request')) return read;
    if (flag('x-ms-cosmos-is-batch-request')) {
      const operations = (parse(request.body ?? '') as BatchOperation[] | undefined) ?? [];
      const costs = (Array.isArray(operations) ? operations : []).map((operation) => batchOperationCost(policy, operation));
      return {
        ...base,
        indexedPaths: costs.reduce((sum, c) => sum + c.paths, 0),
        ruEstimate: costs.reduce((sum, c) => sum + c.ru, 0),
      };
    }
    return { ...base, indexedPaths: indexedPathsOfItem(policy, parse(request.body ?? '')), ruEstimate: estimateWriteRU(stored) };
  }
  return read;
}
