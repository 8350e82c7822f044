import { describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { HttpProblem } from '../../shared/http/problem.js';
import { validateInput } from '../../shared/http/validation.js';

const Body = Type.Object(
  { name: Type.String({ minLength: 1 }), copies: Type.Integer({ minimum: 1 }) },
  { additionalProperties: false },
);

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
