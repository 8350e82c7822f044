// Pieces the tenant admin screens (policy, scan profiles, audit, identity) share: the API's field
// errors keyed by field, a value typed in a number box as the API should judge it, and a copy
// button for a value shown once.
import { Button, FieldContextProvider, useFieldControlProps_unstable } from '@fluentui/react-components';
import { useState, type ReactNode } from 'react';
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
  // The button keeps its words (its accessible name starts with them); the outcome is announced beside it.
  return (
    <span>
      <Button aria-label={`${words.copy}: ${label}`} onClick={() => void copy()}>
        {words.copy}
      </Button>{' '}
      <span role="status">{state === 'copied' ? words.copied : state === 'failed' ? words.failed : ''}</span>
    </span>
  );
}

/**
 * Checkboxes that answer one question, inside a Field: the group takes the Field's label, hint and
 * validation message (read out on entering the group), and each checkbox keeps its own id and label
 * (inside a Field, every Fluent checkbox would otherwise take the Field's one id).
 */
export function CheckboxGroup({ children }: { children: ReactNode }) {
  const control = useFieldControlProps_unstable<{ id?: string; 'aria-labelledby'?: string; 'aria-describedby'?: string }>(
    {},
    { supportsLabelFor: false },
  );
  return (
    <div role="group" id={control.id} aria-labelledby={control['aria-labelledby']} aria-describedby={control['aria-describedby']}>
      <FieldContextProvider value={undefined}>{children}</FieldContextProvider>
    </div>
  );
}
