// Settings (/app/settings): change my PIN (PUT /api/me/pin, proving the current PIN or password;
// the tenant's rules come back as the API's validation words, shown next to the field), the
// language (the header switch's setLanguage), what I printed in the last 30 days (GET
// /api/me/usage), my sign-ins (GET /api/me/logins) and my data as a JSON file
// (GET /api/users/{id}/export, the GDPR export; docs/web-app.md).
import {
  Button,
  Card,
  Field,
  Input,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Radio,
  RadioGroup,
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
import { useId, useState, type FormEvent, type ReactNode } from 'react';
import { ApiProblem, apiJson, problemWords } from '../api.js';
import { useApiRead } from '../api-read.js';
import { apiFetch } from '../auth.js';
import { setLanguage, useLanguage, useWords, type Bilingual, type Language } from '../i18n.js';
import { reloadMe, useMe, type PublicUser } from '../me.js';
import { problemOf, type ProblemWords } from '../problem.js';
import { DoneBar, Page, ProblemBar } from '../ui.js';
import { dayInWords, type MyUsage } from '../usage/usage-report.js';

/** How long the export's Blob URL lives after the click. */
const BLOB_URL_LIFETIME_MS = 60_000;

interface Login {
  at: string;
  clientId: string;
  method: string;
  success: boolean;
  ip?: string;
}

const WORDS: Bilingual<{
  title: string;
  pinTitle: string;
  pinBody: string;
  firstPinBody: string;
  current: string;
  currentHint: string;
  currentMissing: string;
  newPin: string;
  newPinHint: string;
  newPinDigits: string;
  currentRefused: string;
  pinRefused: string;
  change: string;
  changing: string;
  changed: string;
  changedBody: string;
  changeFailed: string;
  languageTitle: string;
  languageLabel: string;
  loginsTitle: string;
  loginsBody: string;
  loadingLogins: string;
  loginsFailed: string;
  noLogins: string;
  when: string;
  client: string;
  method: string;
  result: string;
  address: string;
  success: string;
  failure: string;
  clients: Record<string, string>;
  methods: Record<string, string>;
  exportTitle: string;
  exportBody: string;
  download: string;
  downloading: string;
  downloaded: string;
  exportFailed: string;
  loadingMe: string;
}> = {
  en: {
    title: 'Settings',
    pinTitle: 'My PIN',
    pinBody: 'The PIN signs you in at a printer’s panel. To change it, give your current PIN or your password.',
    firstPinBody: 'You have no PIN yet. Choose one to sign in at a printer’s panel.',
    current: 'Current PIN or password',
    currentHint: 'The one you use today.',
    currentMissing: 'Give your current PIN or password.',
    newPin: 'New PIN',
    newPinHint: 'Digits only. Your organization sets the least number of digits.',
    newPinDigits: 'A PIN is 4 to 12 digits, nothing else.',
    currentRefused: 'The current PIN or password is wrong, or the account is locked for now.',
    pinRefused: 'Not accepted: this PIN is too short or too easy to guess for your organisation’s rules.',
    change: 'Change my PIN',
    changing: 'Changing your PIN…',
    changed: 'Your PIN is changed',
    changedBody: 'Use the new one at the printers from now on.',
    changeFailed: 'Your PIN was not changed',
    languageTitle: 'Language',
    languageLabel: 'Language of the app',
    loginsTitle: 'My sign-ins',
    loginsBody: 'Every time someone signed in as you, or tried to, newest first.',
    loadingLogins: 'Loading your sign-ins…',
    loginsFailed: 'Your sign-ins could not be loaded',
    noLogins: 'No sign-in is recorded yet.',
    when: 'When',
    client: 'Where',
    method: 'How',
    result: 'Result',
    address: 'Address',
    success: 'Signed in',
    failure: 'Failed',
    clients: {
      'roger-web': 'Web app',
      'roger-mobile': 'Mobile app',
      'roger-emb': 'Printer',
      'roger-desktop': 'Roger for desktop',
    },
    methods: { password: 'Password', pin: 'PIN', microsoft: 'Microsoft account' },
    exportTitle: 'My data',
    exportBody:
      'Everything Roger stores about you, as one JSON file: your account, jobs, sign-ins, OneDrive link and the audit records that name you. No passwords or tokens.',
    download: 'Download my data',
    downloading: 'Preparing your file…',
    downloaded: 'Your file is downloaded.',
    exportFailed: 'Your data could not be downloaded',
    loadingMe: 'Loading your account…',
  },
  fr: {
    title: 'Paramètres',
    pinTitle: 'Mon code PIN',
    pinBody:
      'Le code PIN vous identifie sur l’écran d’une imprimante. Pour le changer, indiquez votre code PIN actuel ou votre mot de passe.',
    firstPinBody: 'Vous n’avez pas encore de code PIN. Choisissez-en un pour vous identifier sur l’écran d’une imprimante.',
    current: 'Code PIN actuel ou mot de passe',
    currentHint: 'Celui que vous utilisez aujourd’hui.',
    currentMissing: 'Indiquez votre code PIN actuel ou votre mot de passe.',
    newPin: 'Nouveau code PIN',
    newPinHint: 'Chiffres uniquement. Votre organisation fixe le nombre minimal de chiffres.',
    newPinDigits: 'Un code PIN compte de 4 à 12 chiffres, rien d’autre.',
    currentRefused: 'Le code PIN actuel ou le mot de passe est faux, ou le compte est bloqué pour l’instant.',
    pinRefused: 'Valeur refusée\u00a0: ce code PIN est trop court ou trop facile à deviner pour les règles de votre organisation.',
    change: 'Changer mon code PIN',
    changing: 'Changement du code PIN…',
    changed: 'Votre code PIN est changé',
    changedBody: 'Utilisez désormais le nouveau sur les imprimantes.',
    changeFailed: 'Votre code PIN n’a pas été changé',
    languageTitle: 'Langue',
    languageLabel: 'Langue de l’application',
    loginsTitle: 'Mes connexions',
    loginsBody: 'Chaque connexion à votre nom, réussie ou non, de la plus récente à la plus ancienne.',
    loadingLogins: 'Chargement de vos connexions…',
    loginsFailed: 'Vos connexions n’ont pas pu être chargées',
    noLogins: 'Aucune connexion n’est encore enregistrée.',
    when: 'Date',
    client: 'Depuis',
    method: 'Moyen',
    result: 'Résultat',
    address: 'Adresse',
    success: 'Réussie',
    failure: 'Échouée',
    clients: {
      'roger-web': 'Application web',
      'roger-mobile': 'Application mobile',
      'roger-emb': 'Imprimante',
      'roger-desktop': 'Roger pour ordinateur',
    },
    methods: { password: 'Mot de passe', pin: 'Code PIN', microsoft: 'Compte Microsoft' },
    exportTitle: 'Mes données',
    exportBody:
      'Tout ce que Roger conserve à votre sujet, en un fichier JSON : votre compte, vos impressions, vos connexions, votre lien OneDrive et les entrées du journal d’audit qui vous nomment. Ni mot de passe ni jeton.',
    download: 'Télécharger mes données',
    downloading: 'Préparation de votre fichier…',
    downloaded: 'Votre fichier est téléchargé.',
    exportFailed: 'Vos données n’ont pas pu être téléchargées',
    loadingMe: 'Chargement de votre compte…',
  },
};

const useStyles = makeStyles({
  heading: { margin: 0 },
  card: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, maxWidth: '720px' },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM, maxWidth: '420px' },
  // At phone width the sign-in method and address give way: when, where and the result matter most.
  wide: { '@media (max-width: 600px)': { display: 'none' } },
  figures: { display: 'grid', gridTemplateColumns: 'repeat(auto-fill, minmax(120px, 1fr))', gap: tokens.spacingVerticalS, margin: 0 },
  figure: { margin: 0 },
  term: { color: tokens.colorNeutralForeground2 },
  value: { margin: 0, fontSize: tokens.fontSizeBase500, fontWeight: tokens.fontWeightSemibold },
});

export function SettingsPage() {
  const words = useWords(WORDS);
  const me = useMe();
  return (
    <Page title={words.title}>
      {me.kind === 'loading' && <Spinner label={words.loadingMe} />}
      {me.kind === 'failed' && <ProblemBar problem={problemWords(me.error, words.loadingMe)} />}
      {me.kind === 'loaded' && me.me.user && <PinSection user={me.me.user} />}
      <LanguageSection />
      <MyUsageSection />
      <LoginsSection />
      {me.kind === 'loaded' && me.me.user && <ExportSection user={me.me.user} />}
    </Page>
  );
}

/** A settings block: a card named by its h3. */
function Section({ title, children }: { title: string; children: ReactNode }) {
  const styles = useStyles();
  const id = useId();
  return (
    <Card className={styles.card} role="region" aria-labelledby={id}>
      <Text as="h3" size={500} weight="semibold" className={styles.heading} id={id}>
        {title}
      </Text>
      {children}
    </Card>
  );
}

/** Which field an API 400 is about: `current` when the problem names it, else the new PIN. */
function fieldOf(error: ApiProblem): 'current' | 'pin' {
  const body = error.body ?? {};
  const pointers = Array.isArray(body.errors) ? (body.errors as { pointer?: string }[]).map((e) => e.pointer ?? '') : [];
  if (body.field === 'current' || pointers.some((pointer) => pointer.endsWith('/current'))) return 'current';
  return 'pin';
}

/** The API's (English) words for a field: the matching `errors[].detail`, else the problem's detail or title. */
function fieldWords(error: ApiProblem, field: string): string | undefined {
  const errors = Array.isArray(error.body?.errors) ? (error.body.errors as { pointer?: string; detail?: string }[]) : [];
  const match = errors.find((e) => e.pointer?.endsWith(`/${field}`));
  return match?.detail ?? error.problem.detail ?? error.problem.title;
}

function PinSection({ user }: { user: PublicUser }) {
  const styles = useStyles();
  const words = useWords(WORDS);
  const needsCurrent = user.hasPin || user.hasPassword;
  const [current, setCurrent] = useState('');
  const [pin, setPin] = useState('');
  const [language] = useLanguage();
  const [errors, setErrors] = useState<{ current?: string; pin?: string }>({});
  // What the API refused, kept as the answer itself so that its words follow a language switch.
  const [refused, setRefused] = useState<{ field: 'current' | 'pin'; error: ApiProblem } | undefined>();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: true } | { ok: false; problem: ProblemWords } | undefined>();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setOutcome(undefined);
    setRefused(undefined);
    const found: { current?: string; pin?: string } = {};
    if (needsCurrent && !current) found.current = words.currentMissing;
    if (!/^[0-9]{4,12}$/.test(pin)) found.pin = words.newPinDigits;
    setErrors(found);
    if (found.current || found.pin) return;
    setBusy(true);
    try {
      await apiJson<undefined>('/api/me/pin', { method: 'PUT', body: { ...(needsCurrent ? { current } : {}), pin } });
      setCurrent('');
      setPin('');
      setOutcome({ ok: true });
      if (!user.hasPin) void reloadMe();
    } catch (error) {
      if (error instanceof ApiProblem && error.status === 400) setRefused({ field: fieldOf(error), error });
      else if (error instanceof ApiProblem && error.status === 403) setRefused({ field: 'current', error });
      else {
        setOutcome({ ok: false, problem: problemWords(error, words.changeFailed) });
      }
    } finally {
      setBusy(false);
    }
  };

  // The API's words are English: a French reader gets this screen's own.
  const refusal = (field: 'current' | 'pin') => {
    if (refused?.field !== field) return undefined;
    const own = field === 'current' ? words.currentRefused : words.pinRefused;
    return language === 'en' ? (fieldWords(refused.error, field) ?? own) : own;
  };
  const currentMessage = errors.current ?? refusal('current');
  const pinMessage = errors.pin ?? refusal('pin');

  return (
    <Section title={words.pinTitle}>
      <Text>{needsCurrent ? words.pinBody : words.firstPinBody}</Text>
      {outcome?.ok === true && (
        <MessageBar intent="success" role="status">
          <MessageBarBody>
            <MessageBarTitle>{words.changed}</MessageBarTitle>
            {words.changedBody}
          </MessageBarBody>
        </MessageBar>
      )}
      {outcome?.ok === false && <ProblemBar problem={outcome.problem} />}
      <form className={styles.form} onSubmit={(event) => void submit(event)} noValidate>
        {/* A hidden username lets password managers file the new PIN under the right account. */}
        <input type="text" name="username" autoComplete="username" value={user.username} readOnly hidden />
        {needsCurrent && (
          <Field
            label={words.current}
            hint={words.currentHint}
            required
            validationMessage={currentMessage}
            validationState={currentMessage ? 'error' : 'none'}
          >
            <Input type="password" autoComplete="current-password" value={current} onChange={(_, data) => setCurrent(data.value)} />
          </Field>
        )}
        <Field
          label={words.newPin}
          hint={words.newPinHint}
          required
          validationMessage={pinMessage}
          validationState={pinMessage ? 'error' : 'none'}
        >
          <Input type="password" inputMode="numeric" autoComplete="new-password" value={pin} onChange={(_, data) => setPin(data.value)} />
        </Field>
        <div>
          {busy ? (
            <Spinner size="small" label={words.changing} />
          ) : (
            <Button type="submit" appearance="primary">
              {words.change}
            </Button>
          )}
        </div>
      </form>
    </Section>
  );
}

function LanguageSection() {
  const words = useWords(WORDS);
  const [language] = useLanguage();
  return (
    <Section title={words.languageTitle}>
      <Field label={words.languageLabel}>
        <RadioGroup value={language} onChange={(_, data) => setLanguage(data.value as Language)}>
          <Radio value="en" label="English" lang="en" />
          <Radio value="fr" label="Français" lang="fr" />
        </RadioGroup>
      </Field>
    </Section>
  );
}

const USAGE_WORDS: Bilingual<{
  title: string;
  body: (from: string, to: string) => string;
  loading: string;
  failed: string;
  nothing: string;
  figures: Record<'jobs' | 'pages' | 'sheets' | 'colorPages', string>;
}> = {
  en: {
    title: 'My printing',
    body: (from, to) => `What you printed from ${from} to ${to} (the last 30 days).`,
    loading: 'Loading your figures…',
    failed: 'Your figures could not be loaded',
    nothing: 'Nothing printed in the last 30 days.',
    figures: { jobs: 'Jobs', pages: 'Pages', sheets: 'Sheets', colorPages: 'Colour pages' },
  },
  fr: {
    title: 'Mes impressions en chiffres',
    body: (from, to) => `Ce que vous avez imprimé du ${from} au ${to} (les 30 derniers jours).`,
    loading: 'Chargement de vos chiffres…',
    failed: 'Vos chiffres n’ont pas pu être chargés',
    nothing: 'Rien d’imprimé ces 30 derniers jours.',
    figures: { jobs: 'Impressions', pages: 'Pages', sheets: 'Feuilles', colorPages: 'Pages en couleur' },
  },
};

/** My own totals over the last 30 days (GET /api/me/usage: the API's default period). */
function MyUsageSection() {
  const styles = useStyles();
  const words = useWords(USAGE_WORDS);
  const [language] = useLanguage();
  const usage = useApiRead<MyUsage>('/api/me/usage').state;
  const number = new Intl.NumberFormat(language);
  return (
    <Section title={words.title}>
      {usage.kind === 'loading' && <Spinner size="small" label={words.loading} />}
      {usage.kind === 'failed' && <ProblemBar problem={problemWords(usage.error, words.failed)} />}
      {usage.kind === 'loaded' && (
        <>
          <Text>{words.body(dayInWords(usage.value.from, language), dayInWords(usage.value.to, language))}</Text>
          {usage.value.totals.jobs === 0 ? (
            <Text>{words.nothing}</Text>
          ) : (
            <dl className={styles.figures}>
              {(['jobs', 'pages', 'sheets', 'colorPages'] as const).map((figure) => (
                <div key={figure} className={styles.figure}>
                  <dt className={styles.term}>{words.figures[figure]}</dt>
                  <dd className={styles.value}>{number.format(usage.value.totals[figure])}</dd>
                </div>
              ))}
            </dl>
          )}
        </>
      )}
    </Section>
  );
}

function LoginsSection() {
  const styles = useStyles();
  const words = useWords(WORDS);
  const [language] = useLanguage();
  const logins = useApiRead<{ items: Login[] }>('/api/me/logins').state;
  const tableId = useId();

  const time = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' });
  const showAddress = logins.kind === 'loaded' && logins.value.items.some((login) => login.ip);

  return (
    <Section title={words.loginsTitle}>
      <Text id={tableId}>{words.loginsBody}</Text>
      {logins.kind === 'loading' && <Spinner size="small" label={words.loadingLogins} />}
      {logins.kind === 'failed' && <ProblemBar problem={problemWords(logins.error, words.loginsFailed)} />}
      {logins.kind === 'loaded' && logins.value.items.length === 0 && <Text>{words.noLogins}</Text>}
      {logins.kind === 'loaded' && logins.value.items.length > 0 && (
        <Table aria-labelledby={tableId} size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>{words.when}</TableHeaderCell>
              <TableHeaderCell>{words.client}</TableHeaderCell>
              <TableHeaderCell className={styles.wide}>{words.method}</TableHeaderCell>
              {showAddress && <TableHeaderCell className={styles.wide}>{words.address}</TableHeaderCell>}
              <TableHeaderCell>{words.result}</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {logins.value.items.map((login, index) => (
              <TableRow key={`${login.at}-${index}`}>
                <TableCell>{time.format(new Date(login.at))}</TableCell>
                <TableCell>{words.clients[login.clientId] ?? login.clientId}</TableCell>
                <TableCell className={styles.wide}>{words.methods[login.method] ?? login.method}</TableCell>
                {showAddress && <TableCell className={styles.wide}>{login.ip ?? ''}</TableCell>}
                <TableCell>{login.success ? words.success : words.failure}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </Section>
  );
}

function ExportSection({ user }: { user: PublicUser }) {
  const words = useWords(WORDS);
  const [state, setState] = useState<{ kind: 'idle' | 'busy' | 'done' } | { kind: 'failed'; problem: ProblemWords }>({ kind: 'idle' });

  const download = async () => {
    setState({ kind: 'busy' });
    try {
      const response = await apiFetch(`/api/users/${encodeURIComponent(user.id)}/export`);
      if (!response.ok) return setState({ kind: 'failed', problem: await problemOf(response, words.exportFailed) });
      const blob = new Blob([await response.arrayBuffer()], { type: 'application/json' });
      // The file goes through a Blob URL, with a name. Some browsers start the download after the
      // click returns, so the URL is let go a minute later, not at once.
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = `roger-my-data-${new Date().toISOString().slice(0, 10)}.json`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), BLOB_URL_LIFETIME_MS);
      setState({ kind: 'done' });
    } catch (error) {
      setState({ kind: 'failed', problem: problemWords(error, words.exportFailed) });
    }
  };

  return (
    <Section title={words.exportTitle}>
      <Text>{words.exportBody}</Text>
      {state.kind === 'done' && <DoneBar>{words.downloaded}</DoneBar>}
      {state.kind === 'failed' && <ProblemBar problem={state.problem} />}
      <div>
        {state.kind === 'busy' ? (
          <Spinner size="small" label={words.downloading} />
        ) : (
          <Button onClick={() => void download()}>{words.download}</Button>
        )}
      </div>
    </Section>
  );
}
