import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { containerSpecs, type ContainerName, type ContainerSpec } from '../../shared/store/containers.js';

/**
 * The indexing policies in shared/store/containers.ts (docs/data.md#indexing) against the queries
 * the code runs. Cosmos DB answers a filter on a path it does not index by reading every item of
 * the partition, and refuses an ORDER BY on one; the local server indexes nothing and ignores
 * policies, so only this test notices a query on a path left out.
 *
 * A query is a string literal in shared/ or functions/ naming `c.<field>`; its container is one
 * of those the same file names (`container('jobs')`, or a container name passed as an argument).
 */
const SOURCE_DIRS = ['shared', 'functions'];
const names = Object.keys(containerSpecs) as ContainerName[];

function sourceFiles(): string[] {
  return SOURCE_DIRS.flatMap((dir) =>
    (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f)),
  );
}

/** The file without comments, so prose naming `c.x` or holding an apostrophe does not count. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

interface QueryFile {
  readonly file: string;
  readonly containers: ContainerName[];
  /** Top-level fields the file's query strings name (`c.tenantId` → `tenantId`). */
  readonly fields: Set<string>;
}

function queryFiles(): QueryFile[] {
  const out: QueryFile[] = [];
  for (const file of sourceFiles()) {
    const text = code(readFileSync(file, 'utf8'));
    if (!/\.query<|\bqueryPage\b|\bqueryAll\b/.test(text)) continue;
    const literals = text.match(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g) ?? [];
    // A projection (`SELECT c.a, c.b FROM`) reads fields from the items found and needs no index.
    const filters = literals.map((literal) => literal.replace(/\bSELECT\b[\s\S]*?\bFROM\b/i, ''));
    const fields = new Set(filters.flatMap((literal) => [...literal.matchAll(/\bc\.([A-Za-z_]\w*)/g)].map((m) => m[1]!)));
    if (fields.size === 0) continue;
    const containers = names.filter((name) => literals.some((literal) => literal === `'${name}'`));
    out.push({ file, containers, fields });
  }
  return out;
}

/** `id` and `_ts` are indexed whatever the policy says. */
const ALWAYS_INDEXED = new Set(['id', '_ts']);
const indexedFields = (spec: ContainerSpec) => new Set((spec.indexingPolicy?.includedPaths ?? []).map(({ path }) => path.split('/')[1]!));

describe('Cosmos DB indexing policies (shared/store/containers.ts)', () => {
  it('every container has a consistent policy that indexes only the paths it lists', () => {
    for (const spec of Object.values(containerSpecs) as ContainerSpec[]) {
      expect(spec.indexingPolicy, spec.id).toBeDefined();
      expect(spec.indexingPolicy!.indexingMode, spec.id).toBe('consistent');
      expect(spec.indexingPolicy!.excludedPaths, spec.id).toEqual([{ path: '/*' }]);
      for (const { path } of spec.indexingPolicy!.includedPaths) expect(path, spec.id).toMatch(/^(\/[A-Za-z_]\w*)+(\/\[\])?\/\?$/);
    }
  });

  it('finds the queries: each file that queries names its container', () => {
    const files = queryFiles();
    expect(files.map((f) => f.file).sort()).toEqual(
      expect.arrayContaining(['shared/audit/audit.ts', 'shared/jobs/jobs.ts', 'shared/users/admin.ts', 'shared/users/data-rights.ts']),
    );
    for (const file of files) expect(file.containers, `${file.file} queries, but names no container`).not.toEqual([]);
  });

  it('every path a query filters or sorts on is indexed in the container it queries', () => {
    const problems = queryFiles().flatMap(({ file, containers, fields }) =>
      [...fields]
        .filter((field) => !ALWAYS_INDEXED.has(field))
        .filter((field) => !containers.some((name) => indexedFields(containerSpecs[name]).has(field)))
        .map((field) => `${file}: c.${field} is not indexed in ${containers.join(' or ')}`),
    );
    expect(problems).toEqual([]);
  });

  it('every indexed path is one a query uses: the others would cost every write for nothing', () => {
    const files = queryFiles();
    const problems = names.flatMap((name) =>
      [...indexedFields(containerSpecs[name])]
        .filter((field) => !files.some((file) => file.containers.includes(name) && file.fields.has(field)))
        .map((field) => `${name}: /${field} is indexed but no query names c.${field}`),
    );
    expect(problems).toEqual([]);
  });

  it('an ORDER BY on two paths has the composite index that serves it, in the order it names', () => {
    // Cosmos DB refuses such a query without one (the local server does too, given the policy).
    // A sort on several paths is written with each direction spelled out (`c.a ASC, c.b DESC`).
    const orders = sourceFiles().flatMap((file) =>
      [...code(readFileSync(file, 'utf8')).matchAll(/((?:c\.\w+ (?:ASC|DESC), )+c\.\w+ (?:ASC|DESC))/g)].map((m) => ({
        file,
        order: m[1]!,
      })),
    );
    expect(orders.map((o) => o.file)).toContain('shared/audit/audit.ts');
    for (const { file, order } of orders) {
      const wanted = order.split(', ').map((part) => {
        const [field, direction] = part.split(' ');
        return { path: `/${field!.slice(2)}`, order: direction === 'DESC' ? 'descending' : 'ascending' };
      });
      const served = (Object.values(containerSpecs) as ContainerSpec[]).some((spec) =>
        (spec.indexingPolicy?.compositeIndexes ?? []).some((index) => JSON.stringify(index) === JSON.stringify(wanted)),
      );
      expect(served, `${file}: ORDER BY ${order}`).toBe(true);
    }
  });
});
