// The API's answers about fields, keyed by field name, for `<Field validationMessage>`: a 400's
// `errors[]` (JSON pointers such as `/body/email`) and a 409's `field` (a name already taken).
import { ApiProblem } from '../api.js';

export type FieldProblems = Partial<Record<string, 'invalid' | 'taken'>>;

/** The fields the API found fault with, and how; empty for any other failure. */
export function fieldProblems(error: unknown): FieldProblems {
  if (!(error instanceof ApiProblem) || !error.body) return {};
  const found: FieldProblems = {};
  if (error.status === 400 && Array.isArray(error.body.errors)) {
    for (const entry of error.body.errors as { pointer?: unknown }[]) {
      const match = typeof entry.pointer === 'string' ? /^\/body\/([^/]+)/.exec(entry.pointer) : null;
      if (match) found[match[1]!] = 'invalid';
    }
  }
  if (error.status === 409 && typeof error.body.field === 'string') found[error.body.field] = 'taken';
  return found;
}

/** The `fields` of a 409 `managed-by-directory`: what the identity provider owns of this user. */
export function directoryFields(error: unknown): string[] | undefined {
  if (!(error instanceof ApiProblem) || error.status !== 409 || !error.body) return undefined;
  const type = String(error.body.type ?? '');
  if (!type.endsWith('managed-by-directory') || !Array.isArray(error.body.fields)) return undefined;
  return error.body.fields.filter((field): field is string => typeof field === 'string');
}
