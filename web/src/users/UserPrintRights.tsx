// One person's own print rights, on their page (docs/web-app.md#admin-usage-and-printing): colour,
// both sides and most copies, each either as their role has it (Policy) or set for them alone, and
// then winning over the role's (docs/flows.md#print-rights). They live in the tenant policy
// (`printRights.users`), which PATCH /api/tenant replaces as a whole: Save reads the policy again
// first, so rights changed meanwhile for other people or roles are kept.
import { Button, Field, Input, Select, Text, Title3, makeStyles, tokens } from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { apiJson, problemWords } from '../api.js';
import { useApiRead } from '../api-read.js';
import { useFieldErrors } from '../forms/field-errors.js';
import { typedNumber } from '../forms/values.js';
import { useWords, type Bilingual } from '../i18n.js';
import { DoneBar, ProblemBar } from '../ui.js';
import type { User } from './user-words.js';

interface PrintRights {
  color?: boolean;
  duplexForced?: boolean;
  maxCopies?: number;
}
interface PrintRightsPolicy {
  onViolation: 'downgrade' | 'hold';
  roles?: Partial<Record<string, PrintRights>>;
  users?: Record<string, PrintRights>;
}
type TenantRights = { policy: { printRights?: PrintRightsPolicy } };

/** A right as the form holds it: as the role has it, or set for this person. */
type Choice = 'role' | 'yes' | 'no';
interface Draft {
  color: Choice;
  duplexForced: Choice;
  maxCopies: string;
}

const choiceOf = (value: boolean | undefined): Choice => (value === undefined ? 'role' : value ? 'yes' : 'no');
const draftOf = (rights: PrintRights | undefined): Draft => ({
  color: choiceOf(rights?.color),
  duplexForced: choiceOf(rights?.duplexForced),
  maxCopies: rights?.maxCopies === undefined ? '' : String(rights.maxCopies),
});
function rightsOf(draft: Draft): PrintRights {
  return {
    ...(draft.color === 'role' ? {} : { color: draft.color === 'yes' }),
    ...(draft.duplexForced === 'role' ? {} : { duplexForced: draft.duplexForced === 'yes' }),
    ...(draft.maxCopies.trim() === '' ? {} : { maxCopies: typedNumber(draft.maxCopies) as number }),
  };
}

const WORDS: Bilingual<{
  title: string;
  intro: string;
  color: string;
  duplexForced: string;
  maxCopies: string;
  asRole: (what: string) => string;
  colorValues: Record<'yes' | 'no', string>;
  duplexValues: Record<'yes' | 'no', string>;
  copiesHint: (role: string) => string;
  noLimit: string;
  takes: string;
  save: string;
  saved: string;
  failed: string;
  loadFailed: string;
}> = {
  en: {
    title: 'Print rights',
    intro:
      'What this person may print, each right either as their role has it (Policy) or set for them alone. Checked when their jobs are released at a printer.',
    color: 'Colour',
    duplexForced: 'Both sides',
    maxCopies: 'Most copies of one job',
    asRole: (what) => `As their role (${what})`,
    colorValues: { yes: 'Allowed', no: 'Not allowed' },
    duplexValues: { yes: 'Always', no: 'Not forced' },
    copiesHint: (role) => `1 to 999. Empty: as their role (${role}).`,
    noLimit: 'no limit',
    takes: 'a whole number from 1 to 999, or nothing.',
    save: 'Save print rights',
    saved: 'The print rights are saved.',
    failed: 'The print rights were not saved',
    loadFailed: 'The print rights could not be loaded',
  },
  fr: {
    title: 'Droits d’impression',
    intro:
      'Ce que cette personne peut imprimer, chaque droit soit comme son rôle (Règles), soit fixé pour elle seule. Vérifiés quand ses impressions sont libérées à une imprimante.',
    color: 'Couleur',
    duplexForced: 'Recto verso',
    maxCopies: 'Exemplaires au plus par impression',
    asRole: (what) => `Comme son rôle (${what})`,
    colorValues: { yes: 'Permise', no: 'Non permise' },
    duplexValues: { yes: 'Toujours', no: 'Non imposé' },
    copiesHint: (role) => `De 1 à 999. Vide\u00a0: comme son rôle (${role}).`,
    noLimit: 'sans limite',
    takes: 'un nombre entier de 1 à 999, ou rien.',
    save: 'Enregistrer les droits',
    saved: 'Les droits d’impression sont enregistrés.',
    failed: 'Les droits d’impression n’ont pas été enregistrés',
    loadFailed: 'Les droits d’impression n’ont pas pu être chargés',
  },
};

const useStyles = makeStyles({
  part: {
    display: 'flex',
    flexDirection: 'column',
    gap: tokens.spacingVerticalM,
    paddingTop: tokens.spacingVerticalL,
    borderTop: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke2}`,
  },
  heading: { margin: 0 },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  fields: {
    display: 'grid',
    gap: tokens.spacingVerticalM,
    // Fields start at the top (only the last has a hint); minmax(0, …) lets a long option shrink with the page.
    alignItems: 'start',
    gridTemplateColumns: 'minmax(0, 1fr)',
    '@media (min-width: 701px)': { gridTemplateColumns: 'repeat(3, minmax(0, 1fr))' },
  },
  select: { minWidth: 0, maxWidth: '100%' },
});

export function UserPrintRights({ user }: { user: User }) {
  const styles = useStyles();
  const words = useWords(WORDS);
  const read = useApiRead<TenantRights>('/api/tenant');
  const [draft, setDraft] = useState<Draft | undefined>();
  const [outcome, setOutcome] = useState<{ saved: true } | { saved: false; error: unknown } | undefined>();
  const [busy, setBusy] = useState(false);
  const errors = useFieldErrors(outcome?.saved === false ? outcome.error : undefined);
  const field = `policy.printRights.users.${user.id}.maxCopies`;

  const stored = read.state.kind === 'loaded' ? read.state.value.policy.printRights : undefined;
  const form = draft ?? draftOf(stored?.users?.[user.id]);
  const role = stored?.roles?.[user.role] ?? {};

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setOutcome(undefined);
    try {
      // The whole printRights is replaced: built on the policy as it is now, not as first read.
      const fresh = (await apiJson<TenantRights>('/api/tenant')).policy.printRights;
      const { [user.id]: _mine, ...others } = fresh?.users ?? {};
      const mine = rightsOf(form);
      const users = Object.keys(mine).length ? { ...others, [user.id]: mine } : others;
      const printRights: PrintRightsPolicy = {
        onViolation: fresh?.onViolation ?? 'downgrade',
        ...(fresh?.roles ? { roles: fresh.roles } : {}),
        ...(Object.keys(users).length ? { users } : {}),
      };
      const saved = await apiJson<TenantRights>('/api/tenant', { method: 'PATCH', body: { policy: { printRights } } });
      read.set(saved);
      setDraft(undefined);
      setOutcome({ saved: true });
    } catch (error) {
      setOutcome({ saved: false, error });
    } finally {
      setBusy(false);
    }
  };

  const select = (right: 'color' | 'duplexForced', values: Record<'yes' | 'no', string>, roleValue: boolean) => (
    <Field label={words[right]}>
      <Select className={styles.select} value={form[right]} onChange={(_e, data) => setDraft({ ...form, [right]: data.value as Choice })}>
        <option value="role">{words.asRole(roleValue ? values.yes : values.no)}</option>
        <option value="yes">{values.yes}</option>
        <option value="no">{values.no}</option>
      </Select>
    </Field>
  );

  return (
    <section className={styles.part} aria-labelledby="user-print-rights">
      <Title3 as="h3" id="user-print-rights" className={styles.heading}>
        {words.title}
      </Title3>
      <Text>{words.intro}</Text>
      {read.state.kind === 'failed' && <ProblemBar problem={problemWords(read.state.error, words.loadFailed)} />}
      {read.state.kind === 'loaded' && (
        <form className={styles.form} onSubmit={(event) => void save(event)} noValidate aria-label={words.title}>
          {outcome?.saved === true && <DoneBar>{words.saved}</DoneBar>}
          {outcome?.saved === false && errors.count === 0 && <ProblemBar problem={problemWords(outcome.error, words.failed)} />}
          <div className={styles.fields}>
            {select('color', words.colorValues, role.color !== false)}
            {select('duplexForced', words.duplexValues, role.duplexForced === true)}
            <Field
              label={words.maxCopies}
              hint={words.copiesHint(role.maxCopies === undefined ? words.noLimit : String(role.maxCopies))}
              validationMessage={errors.message(field, words.takes)}
              validationState={errors.state(field)}
            >
              <Input inputMode="numeric" value={form.maxCopies} onChange={(_e, data) => setDraft({ ...form, maxCopies: data.value })} />
            </Field>
          </div>
          <div>
            <Button type="submit" disabled={busy}>
              {words.save}
            </Button>
          </div>
        </form>
      )}
    </section>
  );
}
