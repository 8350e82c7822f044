// Audit log (/app/admin/audit): the tenant's record of admin actions, newest first (GET /api/audit),
// a page at a time, filtered by action and by a time window on the server: from a time (included)
// to before another (excluded), as the API takes them. Records hold ids and
// field names, never what a person typed, so everything the API returns can be shown.
import {
  Button,
  Field,
  Input,
  Select,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { apiJson, problemWords } from '../api.js';
import { useApiRead } from '../api-read.js';
import { useFieldErrors } from '../forms/field-errors.js';
import { useLanguage, useWords, type Bilingual } from '../i18n.js';
import { useMe } from '../me.js';
import { Page, ProblemBar } from '../ui.js';

interface AuditRecord {
  id: string;
  at: string;
  actorId: string;
  action: string;
  targetId?: string;
  details?: Record<string, unknown>;
}

// The same list as AUDIT_ACTIONS in shared/audit/audit.ts, written again on purpose: the web app
// is built on its own and imports no server code. A new action goes into both lists.
const ACTIONS = [
  'tenant.policy-changed',
  'tenant.entra-bound',
  'tenant.scim-token-created',
  'tenant.scim-token-revoked',
  'scim.user-created',
  'scim.user-changed',
  'scim.user-deactivated',
  'scim.user-reactivated',
  'scim.group-created',
  'scim.group-changed',
  'scim.group-deleted',
  'user.created',
  'user.changed',
  'user.credentials-set',
  'user.pin-reset',
  'user.badge-added',
  'user.badge-removed',
  'user.erased',
  'device.enrolled',
  'device.changed',
  'device.disconnected',
  'scan-profile.created',
  'scan-profile.changed',
  'scan-profile.deleted',
] as const;
type Action = (typeof ACTIONS)[number];

const WORDS: Bilingual<{
  title: string;
  intro: string;
  loading: string;
  loadFailed: string;
  empty: string;
  emptyFiltered: string;
  filters: string;
  action: string;
  allActions: string;
  from: string;
  to: string;
  timeHint: string;
  apply: string;
  clear: string;
  more: string;
  moreFailed: string;
  takes: Record<'action' | 'from' | 'to', string>;
  when: string;
  who: string;
  what: string;
  onWhat: string;
  details: string;
  you: string;
  scimToken: (id: string) => string;
  erased: string;
  actions: Record<Action, string>;
  detailNames: Record<string, string>;
}> = {
  en: {
    title: 'Audit log',
    intro: 'What administrators and your identity provider changed, newest first. Records are kept for a year.',
    loading: 'Loading the audit log…',
    loadFailed: 'The audit log could not be loaded',
    empty: 'Nothing has been recorded yet.',
    emptyFiltered: 'No record matches these filters.',
    filters: 'Filter the audit log',
    action: 'Action',
    allActions: 'All actions',
    from: 'From',
    to: 'Before',
    timeHint: 'Your local time.',
    apply: 'Apply filters',
    clear: 'Clear filters',
    more: 'Show older records',
    moreFailed: 'The older records could not be loaded',
    takes: {
      action: 'one of the actions in the list.',
      from: 'a date and time earlier than the one in Before.',
      to: 'a date and time.',
    },
    when: 'When',
    who: 'Who',
    what: 'Action',
    onWhat: 'On what',
    details: 'Details',
    you: 'You',
    scimToken: (id) => `SCIM token ${id}`,
    erased: 'An erased person',
    actions: {
      'tenant.policy-changed': 'Policy changed',
      'tenant.entra-bound': 'Entra ID connected',
      'tenant.scim-token-created': 'SCIM token created',
      'tenant.scim-token-revoked': 'SCIM token revoked',
      'scim.user-created': 'Person provisioned (SCIM)',
      'scim.user-changed': 'Person changed (SCIM)',
      'scim.user-deactivated': 'Person deactivated (SCIM)',
      'scim.user-reactivated': 'Person reactivated (SCIM)',
      'scim.group-created': 'Group provisioned (SCIM)',
      'scim.group-changed': 'Group changed (SCIM)',
      'scim.group-deleted': 'Group deleted (SCIM)',
      'user.created': 'User created',
      'user.changed': 'User changed',
      'user.credentials-set': 'Sign-in details set',
      'user.pin-reset': 'PIN reset',
      'user.badge-added': 'Badge registered',
      'user.badge-removed': 'Badge removed',
      'user.erased': 'User erased',
      'device.enrolled': 'Printer enrolled',
      'device.changed': 'Printer changed',
      'device.disconnected': 'Printer disconnected',
      'scan-profile.created': 'Scan profile created',
      'scan-profile.changed': 'Scan profile changed',
      'scan-profile.deleted': 'Scan profile deleted',
    },
    detailNames: { fields: 'Fields' },
  },
  fr: {
    title: 'Journal d’audit',
    intro:
      'Ce que les administrateurs et votre fournisseur d’identité ont modifié, du plus récent au plus ancien. Les entrées sont conservées un an.',
    loading: 'Chargement du journal d’audit…',
    loadFailed: 'Le journal d’audit n’a pas pu être chargé',
    empty: 'Rien n’a encore été enregistré.',
    emptyFiltered: 'Aucune entrée ne correspond à ces filtres.',
    filters: 'Filtrer le journal d’audit',
    action: 'Action',
    allActions: 'Toutes les actions',
    from: 'À partir du',
    to: 'Avant le',
    timeHint: 'Votre heure locale.',
    apply: 'Appliquer les filtres',
    clear: 'Effacer les filtres',
    more: 'Afficher les entrées plus anciennes',
    moreFailed: 'Les entrées plus anciennes n’ont pas pu être chargées',
    takes: {
      action: 'l’une des actions de la liste.',
      from: 'une date et une heure antérieures à celles de «\u00a0Avant le\u00a0».',
      to: 'une date et une heure.',
    },
    when: 'Date',
    who: 'Qui',
    what: 'Action',
    onWhat: 'Sur quoi',
    details: 'Détails',
    you: 'Vous',
    scimToken: (id) => `Jeton SCIM ${id}`,
    erased: 'Une personne effacée',
    actions: {
      'tenant.policy-changed': 'Règles modifiées',
      'tenant.entra-bound': 'Entra ID connecté',
      'tenant.scim-token-created': 'Jeton SCIM créé',
      'tenant.scim-token-revoked': 'Jeton SCIM révoqué',
      'scim.user-created': 'Personne provisionnée (SCIM)',
      'scim.user-changed': 'Personne modifiée (SCIM)',
      'scim.user-deactivated': 'Personne désactivée (SCIM)',
      'scim.user-reactivated': 'Personne réactivée (SCIM)',
      'scim.group-created': 'Groupe provisionné (SCIM)',
      'scim.group-changed': 'Groupe modifié (SCIM)',
      'scim.group-deleted': 'Groupe supprimé (SCIM)',
      'user.created': 'Utilisateur créé',
      'user.changed': 'Utilisateur modifié',
      'user.credentials-set': 'Identifiants définis',
      'user.pin-reset': 'Code PIN réinitialisé',
      'user.badge-added': 'Badge enregistré',
      'user.badge-removed': 'Badge retiré',
      'user.erased': 'Utilisateur effacé',
      'device.enrolled': 'Imprimante enregistrée',
      'device.changed': 'Imprimante modifiée',
      'device.disconnected': 'Imprimante déconnectée',
      'scan-profile.created': 'Profil de numérisation créé',
      'scan-profile.changed': 'Profil de numérisation modifié',
      'scan-profile.deleted': 'Profil de numérisation supprimé',
    },
    detailNames: { fields: 'Champs' },
  },
};

const useStyles = makeStyles({
  filters: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM, alignItems: 'flex-start', maxWidth: '1000px' },
  filter: { flex: '1 1 240px', minWidth: 0 },
  input: { width: '100%' },
  buttons: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalS, flexBasis: '100%' },
  id: { overflowWrap: 'anywhere', fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200 },
  detail: { overflowWrap: 'anywhere' },
  wide: { '@media (max-width: 600px)': { display: 'none' } },
});

interface Filter {
  action: string;
  /** As the datetime-local inputs hold them: local time, no zone. */
  from: string;
  to: string;
}
const NO_FILTER: Filter = { action: '', from: '', to: '' };

const isoOf = (local: string) => {
  const time = new Date(local);
  return Number.isNaN(time.getTime()) ? local : time.toISOString();
};
function queryOf(filter: Filter, continuationToken?: string) {
  const query = new URLSearchParams({ limit: '25' });
  if (filter.action) query.set('action', filter.action);
  if (filter.from) query.set('from', isoOf(filter.from));
  if (filter.to) query.set('to', isoOf(filter.to));
  if (continuationToken) query.set('continuationToken', continuationToken);
  return `/api/audit?${query}`;
}

type Page = { items: AuditRecord[]; continuationToken: string | null };
/** The pages after the first that "Show older records" added, and how the last request for one went. */
type Older = { records: AuditRecord[]; next: string | null; state?: 'reading' | { failed: unknown } };

export function AuditPage() {
  const styles = useStyles();
  const [language] = useLanguage();
  const words = useWords(WORDS);
  const me = useMe();
  const myId = me.kind === 'loaded' ? me.me.user?.id : undefined;
  const [draft, setDraft] = useState<Filter>(NO_FILTER);
  const [filter, setFilter] = useState<Filter>(NO_FILTER);
  // The first page follows the filter: a new filter aborts the read in flight, and an older answer never lands.
  const first = useApiRead<Page>(queryOf(filter));
  const load = first.state;
  const [older, setOlder] = useState<Older | undefined>();
  // A new first page (another filter) drops the older pages and aborts a read of one still on its way.
  const reading = useRef<AbortController | undefined>(undefined);
  useEffect(() => {
    setOlder(undefined);
    return () => reading.current?.abort();
  }, [load]);
  const records = load.kind === 'loaded' ? [...load.value.items, ...(older?.records ?? [])] : [];
  const next = older ? older.next : load.kind === 'loaded' ? load.value.continuationToken : null;

  const more = async () => {
    if (!next || older?.state === 'reading') return;
    const kept: Older = older ?? { records: [], next };
    setOlder({ ...kept, state: 'reading' });
    const controller = new AbortController();
    reading.current = controller;
    try {
      const page = await apiJson<Page>(queryOf(filter, next), { signal: controller.signal });
      if (controller.signal.aborted) return;
      setOlder((current) => current && { records: [...current.records, ...page.items], next: page.continuationToken });
    } catch (error) {
      if (controller.signal.aborted) return;
      // The records already shown stay; the failure is said beside the button, which can be tried again.
      setOlder((current) => current && { ...current, state: { failed: error } });
    }
  };

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilter({ ...draft });
  };

  const time = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'medium' });
  const actor = (id: string) =>
    id === myId ? words.you : id === 'erased-user' ? words.erased : id.startsWith('scim-token:') ? words.scimToken(id.slice(11)) : id;
  const details = (record: AuditRecord) =>
    Object.entries(record.details ?? {})
      .map(([name, value]) => `${words.detailNames[name] ?? name}: ${Array.isArray(value) ? value.join(', ') : String(value)}`)
      .join('; ');

  // A filter the API refused names /query/from, /query/to or /query/action: shown at that field.
  const queryErrors = useFieldErrors(load.kind === 'failed' ? load.error : undefined, '/query/');
  const filtered = filter.action !== '' || filter.from !== '' || filter.to !== '';

  return (
    <Page title={words.title}>
      <Text>{words.intro}</Text>
      <form className={styles.filters} onSubmit={apply} aria-label={words.filters} role="search">
        <Field
          className={styles.filter}
          label={words.action}
          validationMessage={queryErrors.message('action', words.takes.action)}
          validationState={queryErrors.state('action')}
        >
          <Select value={draft.action} onChange={(_e, data) => setDraft({ ...draft, action: data.value })}>
            <option value="">{words.allActions}</option>
            {ACTIONS.map((action) => (
              <option key={action} value={action}>
                {words.actions[action]}
              </option>
            ))}
          </Select>
        </Field>
        {(['from', 'to'] as const).map((edge) => (
          <Field
            key={edge}
            className={styles.filter}
            label={words[edge]}
            hint={words.timeHint}
            validationMessage={queryErrors.message(edge, words.takes[edge])}
            validationState={queryErrors.state(edge)}
          >
            <Input
              className={styles.input}
              type="datetime-local"
              step={1}
              value={draft[edge]}
              onChange={(_e, data) => setDraft({ ...draft, [edge]: data.value })}
            />
          </Field>
        ))}
        <div className={styles.buttons}>
          <Button appearance="primary" type="submit">
            {words.apply}
          </Button>
          <Button
            onClick={() => {
              setDraft(NO_FILTER);
              setFilter(NO_FILTER);
            }}
          >
            {words.clear}
          </Button>
        </div>
      </form>

      {load.kind === 'loading' && <Spinner label={words.loading} />}
      {load.kind === 'failed' && queryErrors.count === 0 && (
        <ProblemBar problem={{ ...problemWords(load.error, words.loadFailed), title: words.loadFailed }} />
      )}
      {load.kind === 'loaded' && records.length === 0 && <Text role="status">{filtered ? words.emptyFiltered : words.empty}</Text>}
      {load.kind === 'loaded' && records.length > 0 && (
        <>
          <Table aria-label={words.title}>
            <TableHeader>
              <TableRow>
                <TableHeaderCell>{words.when}</TableHeaderCell>
                <TableHeaderCell>{words.what}</TableHeaderCell>
                <TableHeaderCell className={styles.wide}>{words.who}</TableHeaderCell>
                <TableHeaderCell className={styles.wide}>{words.onWhat}</TableHeaderCell>
                <TableHeaderCell>{words.details}</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {records.map((record) => (
                <TableRow key={record.id}>
                  <TableCell>{time.format(new Date(record.at))}</TableCell>
                  <TableCell>{words.actions[record.action as Action] ?? record.action}</TableCell>
                  <TableCell className={`${styles.wide} ${styles.id}`}>{actor(record.actorId)}</TableCell>
                  <TableCell className={`${styles.wide} ${styles.id}`}>{record.targetId ? actor(record.targetId) : '—'}</TableCell>
                  <TableCell className={styles.detail}>{details(record)}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
          {typeof older?.state === 'object' && (
            <ProblemBar problem={{ ...problemWords(older.state.failed, words.moreFailed), title: words.moreFailed }} />
          )}
          {next && (
            <div>
              <Button onClick={() => void more()} disabled={older?.state === 'reading'}>
                {words.more}
              </Button>
            </div>
          )}
        </>
      )}
    </Page>
  );
}
