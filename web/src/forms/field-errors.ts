// The API's answers about fields, keyed by field path, for `<Field validationMessage>`: a 400's
// `errors[]` (JSON pointers such as `/body/policy/pinMinLength` or `/query/from`) and a 409's
// `field` (a name already taken). The screen shows its own words for each field, in the
// person's language: the validator's words are English, so they show only as a last resort.
import { ApiProblem } from '../api.js';
import { useLanguage, useWords, type Bilingual } from '../i18n.js';

/** `invalid`: the value itself (a 400); `conflict`: the value against what exists (a 409: a name taken, a rule about the tenant). */
export type FieldFault = 'invalid' | 'conflict';
export interface FieldProblem {
  fault: FieldFault;
  /** The API's own words (English). */
  detail?: string;
}
export type FieldProblems = Partial<Record<string, FieldProblem>>;

/**
 * The fields the API found fault with, by path below `under` (`/body/policy/pinMinLength` →
 * `policy.pinMinLength`); an array item's error (`/body/roles/0`) belongs to the array's field.
 * Empty for any other failure.
 */
export function fieldProblems(error: unknown, under = '/body/'): FieldProblems {
  if (!(error instanceof ApiProblem) || !error.body) return {};
  const found: FieldProblems = {};
  const errors = Array.isArray(error.body.errors) ? (error.body.errors as { pointer?: unknown; detail?: unknown }[]) : [];
  for (const { pointer, detail } of errors) {
    if (typeof pointer !== 'string' || !pointer.startsWith(under)) continue;
    const field = pointer
      .slice(under.length)
      .split('/')
      .filter((part) => !/^\d+$/.test(part))
      .join('.');
    if (field) found[field] ??= { fault: 'invalid', ...(typeof detail === 'string' ? { detail } : {}) };
  }
  // A problem about one field that no schema could see (a name taken, a rule across fields) names it in `field`.
  const field = error.body.field;
  if (typeof field === 'string' && (error.status === 400 || error.status === 409))
    found[field] ??= {
      fault: error.status === 409 ? 'conflict' : 'invalid',
      ...(error.problem.detail ? { detail: error.problem.detail } : {}),
    };
  return found;
}

/** The `fields` of a 409 `managed-by-directory`: what the identity provider owns of this user. */
export function directoryFields(error: unknown): string[] | undefined {
  if (!(error instanceof ApiProblem) || error.status !== 409 || !error.body) return undefined;
  const type = String(error.body.type ?? '');
  if (!type.endsWith('managed-by-directory') || !Array.isArray(error.body.fields)) return undefined;
  return error.body.fields.filter((field): field is string => typeof field === 'string');
}

const WORDS: Bilingual<{ refused: string; because: (why: string) => string }> = {
  en: { refused: 'Not accepted', because: (why) => `Not accepted: ${why}` },
  fr: { refused: 'Valeur refusée', because: (why) => `Valeur refusée\u00a0: ${why}` },
};

export interface FieldErrors {
  /** How many fields the API named; 0 means the failure belongs in an error bar. */
  count: number;
  /**
   * The words under a field: "Not accepted" and why, in the screen's own words (`why`: the field's
   * range or form). Without them, an English reader gets the API's (English) detail.
   */
  message(field: string, why?: string): string | undefined;
  state(field: string): 'error' | 'none';
}

/** The API's field errors as the screen's own words, for `<Field validationMessage validationState>`. */
export function useFieldErrors(error: unknown, under = '/body/'): FieldErrors {
  const words = useWords(WORDS);
  const [language] = useLanguage();
  const problems = fieldProblems(error, under);
  return {
    count: Object.keys(problems).length,
    message(field, why) {
      const problem = problems[field];
      if (!problem) return undefined;
      const reason = why ?? (language === 'en' ? problem.detail : undefined);
      return reason ? words.because(reason) : words.refused;
    },
    state: (field) => (problems[field] ? 'error' : 'none'),
  };
}
