import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import type { FieldError } from '../errors.js';
import { HttpProblem } from './problem.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * The one validator (ajv, JSON Schema draft 2020-12 subset that TypeBox emits).
 * Bodies are validated as sent; route parameters and query values arrive as strings, so that
 * instance coerces them to the schema's number/boolean types.
 */
const ajvFor = {
  body: addFormats(new Ajv({ allErrors: true, strict: true, coerceTypes: false })),
  strings: addFormats(new Ajv({ allErrors: true, strict: true, coerceTypes: 'array' })),
};

const compiled = {
  body: new WeakMap<TSchema, ValidateFunction>(),
  strings: new WeakMap<TSchema, ValidateFunction>(),
};

function compile(kind: keyof typeof ajvFor, schema: TSchema): ValidateFunction {
  let validate = compiled[kind].get(schema);
  if (!validate) {
    validate = ajvFor[kind].compile(schema);
    compiled[kind].set(schema, validate);
  }
  return validate;
}

const MAX_REPORTED_ERRORS = 10;

function toFieldErrors(location: string, errors: readonly ErrorObject[]): FieldError[] {
  return errors.slice(0, MAX_REPORTED_ERRORS).map((error) => {
    let pointer = `/${location}${error.instancePath}`;
    let detail = error.message ?? 'is invalid';
    if (error.keyword === 'required') {
      pointer += `/${(error.params as { missingProperty: string }).missingProperty}`;
      detail = 'is required';
    } else if (error.keyword === 'additionalProperties') {
      pointer += `/${(error.params as { additionalProperty: string }).additionalProperty}`;
      detail = 'is not allowed here';
    }
    return { pointer, detail };
  });
}

/**
 * Validates `value` (mutating it only to coerce strings) and returns it typed, or throws a 400
 * problem naming each failing field as a JSON pointer: `/body/name`, `/query/limit`, `/params/id`.
 */
export function validateInput<T>(location: 'body' | 'form' | 'query' | 'params', schema: TSchema, value: unknown): T {
  const validate = compile(location === 'query' || location === 'params' ? 'strings' : 'body', schema);
  if (validate(value)) return value as T;
  const errors = toFieldErrors(location, validate.errors ?? []);
  const first = errors[0];
  const summary = first ? `${first.pointer} ${first.detail}` : `${location} is invalid`;
  throw new HttpProblem('validation-failed', summary, { errors });
}
