import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { HttpProblem } from '../../shared/http/problem.js';
import { validateInput } from '../../shared/http/validation.js';
import { routeTable } from '../../functions/routes.js';

const Body = Type.Object({ name: Type.String({ minLength: 1 }), copies: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });

function problemOf(run: () => unknown): HttpProblem {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpProblem);
    return error as HttpProblem;
  }
  throw new Error('expected a problem');
}

describe('validateInput', () => {
  it('returns valid input unchanged', () => {
    expect(validateInput('body', Body, { name: 'a', copies: 2 })).toEqual({ name: 'a', copies: 2 });
  });

  it('names each failing field with a JSON pointer', () => {
    const problem = problemOf(() => validateInput('body', Body, { copies: 0, extra: true }));
    expect(problem.status).toBe(400);
    expect(problem.kind).toBe('validation-failed');
    expect(problem.extensions.errors).toEqual(
      expect.arrayContaining([
        { pointer: '/body/name', detail: 'is required' },
        { pointer: '/body/copies', detail: 'must be >= 1' },
        { pointer: '/body/extra', detail: 'is not allowed here' },
      ]),
    );
    expect(problem.detail).toMatch(/^\/body\//);
  });

  it('does not coerce body types', () => {
    const problem = problemOf(() => validateInput('body', Body, { name: 'a', copies: '2' }));
    expect(problem.extensions.errors).toEqual([{ pointer: '/body/copies', detail: 'must be integer' }]);
  });

  it('coerces query strings to the schema type', () => {
    const Query = Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100 }) });
    expect(validateInput('query', Query, { limit: '20' })).toEqual({ limit: 20 });
    expect(problemOf(() => validateInput('query', Query, { limit: 'many' })).detail).toBe('/query/limit must be integer');
  });
});

describe('request schemas of every route', () => {
  /** Every array schema with uniqueItems, anywhere in a request schema, with where it is. */
  function uniqueArrays(schema: unknown, at: string, found: { at: string; items: Record<string, unknown> }[] = []) {
    if (!schema || typeof schema !== 'object') return found;
    const node = schema as Record<string, unknown>;
    if (node.uniqueItems === true) found.push({ at, items: (node.items ?? {}) as Record<string, unknown> });
    for (const [key, value] of Object.entries(node)) {
      if (key === 'properties' && value && typeof value === 'object') {
        for (const [name, child] of Object.entries(value)) uniqueArrays(child, `${at}/${name}`, found);
      } else if (typeof value === 'object') {
        uniqueArrays(value, at, found);
      }
    }
    return found;
  }

  it('give uniqueItems arrays typed scalar items, which ajv checks in linear time', () => {
    const arrays = routeTable.routes.flatMap((route) =>
      Object.entries((route.request ?? {}) as Record<string, unknown>).flatMap(([part, schema]) =>
        uniqueArrays(schema, `${route.name} ${part}`),
      ),
    );
    expect(arrays.length).toBeGreaterThan(0);
    for (const { at, items } of arrays) expect(['string', 'number', 'integer', 'boolean'], at).toContain(items.type);
  });
});
