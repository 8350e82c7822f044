// Form controls several screens share: a copy button for a value shown once, and a group of
// checkboxes that answers one question inside a Fluent Field.
import { Button, FieldContextProvider, useFieldControlProps_unstable } from '@fluentui/react-components';
import { useState, type ReactNode } from 'react';
import { useWords, type Bilingual } from '../i18n.js';

const COPY: Bilingual<{ copy: string; copied: string; failed: string }> = {
  en: { copy: 'Copy', copied: 'Copied', failed: 'Copy failed: select the text and copy it' },
  fr: { copy: 'Copier', copied: 'Copié', failed: 'La copie a échoué : sélectionnez le texte et copiez-le' },
};

/** Copies `value` to the clipboard and says so in a live region beside it. `label` names what is copied for screen readers. */
export function CopyButton({ value, label }: { value: string; label: string }) {
  const words = useWords(COPY);
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = () => {
    setState('idle');
    // Without the Clipboard API (an insecure origin, an old browser) the copy fails the same way.
    (navigator.clipboard ? navigator.clipboard.writeText(value) : Promise.reject(new Error('no clipboard'))).then(
      () => setState('copied'),
      () => setState('failed'),
    );
  };
  // The button keeps its words (its accessible name starts with them); the outcome is announced beside it.
  return (
    <span>
      <Button aria-label={`${words.copy}: ${label}`} onClick={copy}>
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
