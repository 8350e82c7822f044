// Pieces the tenant admin screens (policy, scan profiles, audit, identity) share: the API's field
// errors keyed by field, a value typed in a number box as the API should judge it, and a copy
// button for a value shown once.
import { Button } from '@fluentui/react-components';
import { useState } from 'react';
import { ApiProblem } from '../api.js';
import type { Bilingual } from '../i18n.js';
import { useWords } from '../i18n.js';

/**
 * The problem's field errors by field path below `/body/` (`/body/policy/pinMinLength` →
 * `policy.pinMinLength`), the API's own words; a conflict's `field` (`policy.signInMethods`) too.
 */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiProblem) || !error.body) return {};
  const found: Record<string, string> = {};
  const errors = Array.isArray(error.body.errors) ? (error.body.errors as { pointer?: unknown; detail?: unknown }[]) : [];
  for (const { pointer, detail } of errors) {
    if (typeof pointer !== 'string' || !pointer.startsWith('/body/')) continue;
    // An array item's error (`/body/roles/0`) belongs to the array's field.
    const field = pointer
      .slice('/body/'.length)
      .split('/')
      .filter((part) => !/^\d+$/.test(part))
      .join('.');
    found[field] ??= typeof detail === 'string' ? detail : '';
  }
  const field = error.body.field;
  if (typeof field === 'string') found[field] ??= error.problem.detail ?? error.problem.title;
  return found;
}

/** What a number box holds, as the API should see it: a number when it reads as one, else the text (the API says why not). */
export const typedNumber = (text: string): number | string => (text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text);

const COPY: Bilingual<{ copy: string; copied: string; failed: string }> = {
  en: { copy: 'Copy', copied: 'Copied', failed: 'Copy failed: select the text and copy it' },
  fr: { copy: 'Copier', copied: 'Copié', failed: 'La copie a échoué : sélectionnez le texte et copiez-le' },
};

/** Copies `value` to the clipboard; says so on the button. `label` names what is copied for screen readers. */
export function CopyButton({ value, label }: { value: string; label: string }) {
  const words = useWords(COPY);
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = () =>
    navigator.clipboard.writeText(value).then(
      () => setState('copied'),
      () => setState('failed'),
    );
  return (
    <Button aria-label={`${words.copy}: ${label}`} onClick={() => void copy()}>
      {state === 'copied' ? words.copied : state === 'failed' ? words.failed : words.copy}
    </Button>
  );
}
