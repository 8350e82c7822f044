// "Approve at a printer" (/app/approve?code=…): where the printer's QR code lands
// (verification_uri_complete, docs/flows.md). It reads what is asking for the code
// (GET /api/device-codes/{code}) and says it in plain words: a session at a printer, with the
// person's queued jobs it will get; a new printer to enroll (admins name it); or Roger for desktop.
// Approve or Deny answers the code (POST /api/device-codes/approve | deny). Without a code, or
// after one failed, a field takes a typed one.
import {
  Button,
  Card,
  Field,
  Input,
  Link,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Text,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { ApiProblem, apiJson, problemWords } from '../api.js';
import { useLanguage, useWords, type Bilingual } from '../i18n.js';
import type { ProblemWords } from '../problem.js';
import { followLink, navigate, useLocation } from '../router.js';
import { Page, ProblemBar } from '../ui.js';

interface Request {
  clientId: string;
  scope: string;
  expiresAt: string;
  printer: { id: string; name: string; location: string } | null;
}
interface Job {
  id: string;
  fileName: string;
  state: string;
}
interface Release {
  released: number;
  queued: number;
  dispatched: boolean;
}

type What = 'session' | 'enrollment' | 'desktop' | 'other';
const whatIs = (request: Request): What =>
  request.scope === 'session'
    ? 'session'
    : request.scope === 'device'
      ? 'enrollment'
      : request.clientId === 'roger-desktop'
        ? 'desktop'
        : 'other';

type State =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'failed'; status: number; problem: ProblemWords }
  | { kind: 'asking'; request: Request; queued: Job[] | undefined }
  | { kind: 'approved'; request: Request; release?: Release; deviceId?: string; name?: string }
  | { kind: 'denied'; request: Request };

const WORDS: Bilingual<{
  title: string;
  codeLabel: string;
  codeHint: string;
  codeInvalid: string;
  look: string;
  looking: string;
  unknownTitle: string;
  unknownBody: string;
  tooManyTitle: string;
  failedTitle: string;
  sessionAsks: (printer: string) => string;
  sessionGets: string;
  nothingQueued: string;
  queuedCount: (count: number) => string;
  jobsFailed: string;
  enrollmentAsks: string;
  enrollmentBody: string;
  name: string;
  nameHint: string;
  nameMissing: string;
  location: string;
  locationHint: string;
  desktopAsks: string;
  desktopBody: string;
  otherAsks: (client: string) => string;
  expires: (time: string) => string;
  approve: string;
  deny: string;
  answering: string;
  answerFailed: string;
  sessionStarted: (printer: string) => string;
  released: (released: number, queued: number) => string;
  dispatched: string;
  notDispatched: string;
  enrolled: (name: string) => string;
  enrolledBody: (deviceId: string) => string;
  desktopDone: string;
  denied: string;
  deniedBody: (what: string) => string;
  deniedPrinter: string;
  deniedNewPrinter: string;
  deniedDesktop: string;
  myJobs: string;
  another: string;
}> = {
  en: {
    title: 'Approve at a printer',
    codeLabel: 'Code',
    codeHint: 'The 8 letters the printer or the app shows, e.g. BCDF-GHJK. Upper or lower case, with or without the dash.',
    codeInvalid: 'A code is 8 letters, e.g. BCDF-GHJK.',
    look: 'Continue',
    looking: 'Looking up the code…',
    unknownTitle: 'This code does not work',
    unknownBody:
      'It may be mistyped, expired (a printer’s code lasts 2 minutes), already answered, or meant for an administrator. Ask for a new code and try again.',
    tooManyTitle: 'Too many wrong codes',
    failedTitle: 'The code could not be looked up',
    sessionAsks: (printer) => `The printer ${printer} asks to start a session as you`,
    sessionGets: 'If you approve, it prints your queued jobs:',
    nothingQueued: 'You have nothing queued: the printer gets no job now. You can still sign in there to scan or copy.',
    queuedCount: (count) => (count === 1 ? '1 queued job' : `${count} queued jobs`),
    jobsFailed: 'Your queued jobs could not be listed; approving still releases them.',
    enrollmentAsks: 'A new printer asks to join your organization',
    enrollmentBody:
      'Name it so that people recognize it on its panel and in the app. Only approve a code you see on a printer in front of you.',
    name: 'Name',
    nameHint: 'For example “MFP 3rd floor”.',
    nameMissing: 'Give the printer a name.',
    location: 'Location',
    locationHint: 'Optional: building, floor, room.',
    desktopAsks: 'Roger for desktop asks to sign in as you',
    desktopBody: 'It can then send print jobs and read your jobs. Only approve if you just started it yourself.',
    otherAsks: (client) => `${client} asks to sign in as you`,
    expires: (time) => `The code is valid until ${time}.`,
    approve: 'Approve',
    deny: 'Deny',
    answering: 'Sending your answer…',
    answerFailed: 'Your answer was not taken',
    sessionStarted: (printer) => `Your session at ${printer} has started`,
    released: (released, queued) =>
      `${released === 1 ? '1 job was' : `${released} jobs were`} sent to the printer; ${queued === 0 ? 'none is' : queued === 1 ? '1 is' : `${queued} are`} still queued.`,
    dispatched: 'The printer has been told and prints now.',
    notDispatched: 'The printer could not be told yet: it picks the jobs up when it next connects.',
    enrolled: (name) => `The printer ${name} is enrolled`,
    enrolledBody: (deviceId) => `It is now connected to your organization (printer ${deviceId}).`,
    desktopDone: 'Roger for desktop is signed in as you. Go back to it.',
    denied: 'Denied',
    deniedBody: (what) => `${what} gets no access. Nothing else changed.`,
    deniedPrinter: 'The printer',
    deniedNewPrinter: 'The new printer',
    deniedDesktop: 'Roger for desktop',
    myJobs: 'Go to my jobs',
    another: 'Enter another code',
  },
  fr: {
    title: 'Valider à une imprimante',
    codeLabel: 'Code',
    codeHint:
      'Les 8 lettres affichées par l’imprimante ou l’application, par exemple BCDF-GHJK. Majuscules ou minuscules, avec ou sans tiret.',
    codeInvalid: 'Un code compte 8 lettres, par exemple BCDF-GHJK.',
    look: 'Continuer',
    looking: 'Recherche du code…',
    unknownTitle: 'Ce code ne fonctionne pas',
    unknownBody:
      'Il est peut-être mal saisi, expiré (le code d’une imprimante dure 2 minutes), déjà utilisé ou réservé à un administrateur. Demandez un nouveau code et réessayez.',
    tooManyTitle: 'Trop de codes erronés',
    failedTitle: 'Le code n’a pas pu être vérifié',
    sessionAsks: (printer) => `L’imprimante ${printer} demande à ouvrir une session à votre nom`,
    sessionGets: 'Si vous acceptez, elle imprime vos documents en attente :',
    nothingQueued:
      'Vous n’avez aucun document en attente : l’imprimante ne reçoit rien pour l’instant. Vous pouvez tout de même vous y connecter pour numériser ou copier.',
    queuedCount: (count) => (count === 1 ? '1 document en attente' : `${count} documents en attente`),
    jobsFailed: 'Vos documents en attente n’ont pas pu être listés ; les accepter les libère quand même.',
    enrollmentAsks: 'Une nouvelle imprimante demande à rejoindre votre organisation',
    enrollmentBody:
      'Nommez-la pour qu’on la reconnaisse sur son écran et dans l’application. N’acceptez qu’un code affiché par une imprimante devant vous.',
    name: 'Nom',
    nameHint: 'Par exemple « MFP 3e étage ».',
    nameMissing: 'Donnez un nom à l’imprimante.',
    location: 'Emplacement',
    locationHint: 'Facultatif : bâtiment, étage, salle.',
    desktopAsks: 'Roger pour ordinateur demande à se connecter à votre nom',
    desktopBody: 'Il pourra alors envoyer des impressions et lire vos documents. N’acceptez que si vous venez de le lancer vous-même.',
    otherAsks: (client) => `${client} demande à se connecter à votre nom`,
    expires: (time) => `Le code est valable jusqu’à ${time}.`,
    approve: 'Accepter',
    deny: 'Refuser',
    answering: 'Envoi de votre réponse…',
    answerFailed: 'Votre réponse n’a pas été prise en compte',
    sessionStarted: (printer) => `Votre session sur ${printer} a commencé`,
    released: (released, queued) =>
      `${released <= 1 ? `${released} document envoyé` : `${released} documents envoyés`} à l’imprimante\u202f; ${queued <= 1 ? `${queued} reste` : `${queued} restent`} en attente.`,
    dispatched: 'L’imprimante a été prévenue et imprime maintenant.',
    notDispatched: 'L’imprimante n’a pas encore pu être prévenue : elle récupère les documents à sa prochaine connexion.',
    enrolled: (name) => `L’imprimante ${name} est enregistrée`,
    enrolledBody: (deviceId) => `Elle est maintenant reliée à votre organisation (imprimante ${deviceId}).`,
    desktopDone: 'Roger pour ordinateur est connecté à votre nom. Vous pouvez y retourner.',
    denied: 'Refusé',
    deniedBody: (what) => `${what} n’obtient aucun accès. Rien d’autre n’a changé.`,
    deniedPrinter: 'L’imprimante',
    deniedNewPrinter: 'La nouvelle imprimante',
    deniedDesktop: 'Roger pour ordinateur',
    myJobs: 'Aller à mes impressions',
    another: 'Saisir un autre code',
  },
};

const useStyles = makeStyles({
  heading: { margin: 0 },
  card: { maxWidth: '640px', display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  form: { maxWidth: '640px', display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  row: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM, alignItems: 'flex-end' },
  codeInput: { minWidth: '12em' },
  list: { margin: 0, paddingInlineStart: tokens.spacingHorizontalXL, overflowWrap: 'anywhere' },
});

/** The code as the API's alphabet writes it: letters only, upper case, a dash after four; undefined if it cannot be one. */
function normalizeCode(typed: string): string | undefined {
  const letters = typed.replace(/[\s-]/g, '').toUpperCase();
  if (!/^[A-Z]{8}$/.test(letters)) return undefined;
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}

const printerWords = (printer: Request['printer']) =>
  printer ? (printer.location ? `${printer.name} (${printer.location})` : printer.name) : '';

export function ApprovePage() {
  const words = useWords(WORDS);
  const [language] = useLanguage();
  const { search } = useLocation();
  const code = normalizeCode(search.get('code') ?? '');
  const [state, setState] = useState<State>({ kind: code ? 'loading' : 'idle' });
  // Typing the same code again after a failure looks it up again: the address does not change.
  const [attempt, setAttempt] = useState(0);
  const lookUp = (typed: string) => (typed === code ? setAttempt((n) => n + 1) : navigate(`/app/approve?code=${typed}`));

  useEffect(() => {
    if (!code) return setState({ kind: 'idle' });
    const controller = new AbortController();
    setState({ kind: 'loading' });
    (async () => {
      const request = await apiJson<Request>(`/api/device-codes/${encodeURIComponent(code)}`, { signal: controller.signal });
      let queued: Job[] | undefined;
      if (request.scope === 'session') {
        queued = await apiJson<{ items: Job[] }>('/api/jobs?limit=50', { signal: controller.signal }).then(
          (body) => body.items.filter((job) => job.state === 'queued'),
          () => undefined,
        );
      }
      if (!controller.signal.aborted) setState({ kind: 'asking', request, queued });
    })().catch((error: unknown) => {
      if (controller.signal.aborted) return;
      const status = error instanceof ApiProblem ? error.status : 0;
      setState({ kind: 'failed', status, problem: problemWords(error, '') });
    });
    return () => controller.abort();
  }, [code, attempt]);

  return (
    <Page title={words.title}>
      {state.kind === 'loading' && <Spinner label={words.looking} />}
      {state.kind === 'failed' && <CodeProblem status={state.status} problem={state.problem} />}
      {(state.kind === 'idle' || state.kind === 'failed') && <CodeForm initial={search.get('code') ?? ''} onCode={lookUp} />}
      {state.kind === 'asking' && code && (
        <Asking
          code={code}
          request={state.request}
          queued={state.queued}
          time={new Intl.DateTimeFormat(language, { timeStyle: 'short' }).format(new Date(state.request.expiresAt))}
          onAnswered={setState}
        />
      )}
      {state.kind === 'approved' && <Approved state={state} />}
      {state.kind === 'denied' && (
        <MessageBar intent="info" role="status">
          <MessageBarBody>
            <MessageBarTitle>{words.denied}</MessageBarTitle>
            {words.deniedBody(
              whatIs(state.request) === 'session'
                ? `${words.deniedPrinter} ${printerWords(state.request.printer)}`
                : whatIs(state.request) === 'enrollment'
                  ? words.deniedNewPrinter
                  : whatIs(state.request) === 'desktop'
                    ? words.deniedDesktop
                    : state.request.clientId,
            )}
          </MessageBarBody>
        </MessageBar>
      )}
      {(state.kind === 'approved' || state.kind === 'denied') && (
        <Text>
          <Link href="/app/approve" onClick={(event) => followLink(event, '/app/approve')}>
            {words.another}
          </Link>
        </Text>
      )}
    </Page>
  );
}

/** Why the code was not found, in plain words: 404 says the usual reasons, 429 the API's wait. */
function CodeProblem({ status, problem }: { status: number; problem: ProblemWords }) {
  const words = useWords(WORDS);
  if (status === 404) return <ProblemBar problem={{ title: words.unknownTitle, detail: words.unknownBody }} />;
  if (status === 429) return <ProblemBar problem={{ title: words.tooManyTitle, ...(problem.detail ? { detail: problem.detail } : {}) }} />;
  return <ProblemBar problem={{ title: problem.title || words.failedTitle, ...(problem.detail ? { detail: problem.detail } : {}) }} />;
}

/** A typed code: checked for shape here, then opened as /app/approve?code=… (the QR code's address). */
function CodeForm({ initial, onCode }: { initial: string; onCode: (code: string) => void }) {
  const styles = useStyles();
  const words = useWords(WORDS);
  const [typed, setTyped] = useState(initial);
  const [invalid, setInvalid] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const code = normalizeCode(typed);
    setInvalid(!code);
    if (code) onCode(code);
  };
  return (
    <form className={styles.form} onSubmit={submit} noValidate>
      <div className={styles.row}>
        <Field
          label={words.codeLabel}
          hint={words.codeHint}
          required
          validationMessage={invalid ? words.codeInvalid : undefined}
          validationState={invalid ? 'error' : 'none'}
        >
          <Input
            className={styles.codeInput}
            value={typed}
            onChange={(_, data) => setTyped(data.value)}
            autoComplete="off"
            autoCapitalize="characters"
            spellCheck={false}
          />
        </Field>
      </div>
      <div>
        <Button type="submit" appearance="primary">
          {words.look}
        </Button>
      </div>
    </form>
  );
}

function Asking({
  code,
  request,
  queued,
  time,
  onAnswered,
}: {
  code: string;
  request: Request;
  queued: Job[] | undefined;
  time: string;
  onAnswered: (state: State) => void;
}) {
  const styles = useStyles();
  const words = useWords(WORDS);
  const headingId = useId();
  const what = whatIs(request);
  const [name, setName] = useState('');
  const [location, setLocation] = useState('');
  const [nameMissing, setNameMissing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ProblemWords | undefined>();

  const answer = async (decision: 'approve' | 'deny') => {
    if (decision === 'approve' && what === 'enrollment' && !name.trim()) {
      setNameMissing(true);
      return;
    }
    setNameMissing(false);
    setBusy(true);
    setProblem(undefined);
    try {
      if (decision === 'deny') {
        await apiJson<undefined>('/api/device-codes/deny', { method: 'POST', body: { user_code: code } });
        onAnswered({ kind: 'denied', request });
      } else {
        const body =
          what === 'enrollment'
            ? { user_code: code, name: name.trim(), ...(location.trim() ? { location: location.trim() } : {}) }
            : { user_code: code };
        const result = await apiJson<{ deviceId?: string; release?: Release }>('/api/device-codes/approve', { method: 'POST', body });
        onAnswered({
          kind: 'approved',
          request,
          ...(result.release ? { release: result.release } : {}),
          ...(result.deviceId ? { deviceId: result.deviceId, name: name.trim() } : {}),
        });
      }
    } catch (error) {
      setBusy(false);
      if (error instanceof ApiProblem && error.status === 404) setProblem({ title: words.unknownTitle, detail: words.unknownBody });
      else setProblem(problemWords(error, words.answerFailed));
    }
  };

  const heading =
    what === 'session'
      ? words.sessionAsks(printerWords(request.printer))
      : what === 'enrollment'
        ? words.enrollmentAsks
        : what === 'desktop'
          ? words.desktopAsks
          : words.otherAsks(request.clientId);

  return (
    <Card className={styles.card} aria-labelledby={headingId}>
      <Text as="h3" size={500} weight="semibold" className={styles.heading} id={headingId}>
        {heading}
      </Text>
      {what === 'session' && queued === undefined && <Text>{words.jobsFailed}</Text>}
      {what === 'session' && queued?.length === 0 && <Text>{words.nothingQueued}</Text>}
      {what === 'session' && queued && queued.length > 0 && (
        <>
          <Text>
            {words.sessionGets} <strong>{words.queuedCount(queued.length)}</strong>
          </Text>
          <ul className={styles.list} aria-label={words.queuedCount(queued.length)}>
            {queued.map((job) => (
              <li key={job.id}>{job.fileName}</li>
            ))}
          </ul>
        </>
      )}
      {what === 'enrollment' && (
        <>
          <Text>{words.enrollmentBody}</Text>
          <Field
            label={words.name}
            hint={words.nameHint}
            required
            validationMessage={nameMissing ? words.nameMissing : undefined}
            validationState={nameMissing ? 'error' : 'none'}
          >
            <Input value={name} maxLength={100} onChange={(_, data) => setName(data.value)} autoComplete="off" />
          </Field>
          <Field label={words.location} hint={words.locationHint}>
            <Input value={location} maxLength={200} onChange={(_, data) => setLocation(data.value)} autoComplete="off" />
          </Field>
        </>
      )}
      {what === 'desktop' && <Text>{words.desktopBody}</Text>}
      <Text size={200}>{words.expires(time)}</Text>
      {problem && <ProblemBar problem={problem} />}
      {busy ? (
        <Spinner size="small" label={words.answering} />
      ) : (
        <div className={styles.row}>
          <Button appearance="primary" onClick={() => void answer('approve')}>
            {words.approve}
          </Button>
          <Button onClick={() => void answer('deny')}>{words.deny}</Button>
        </div>
      )}
    </Card>
  );
}

function Approved({ state }: { state: Extract<State, { kind: 'approved' }> }) {
  const words = useWords(WORDS);
  const what = whatIs(state.request);
  if (what === 'session') {
    const release = state.release;
    return (
      <>
        <MessageBar intent="success" role="status">
          <MessageBarBody>
            <MessageBarTitle>{words.sessionStarted(printerWords(state.request.printer))}</MessageBarTitle>
            {release &&
              `${words.released(release.released, release.queued)} ${release.released > 0 ? (release.dispatched ? words.dispatched : words.notDispatched) : ''}`}
          </MessageBarBody>
        </MessageBar>
        <Text>
          <Link href="/app/" onClick={(event) => followLink(event, '/app/')}>
            {words.myJobs}
          </Link>
        </Text>
      </>
    );
  }
  return (
    <MessageBar intent="success" role="status">
      <MessageBarBody>
        {what === 'enrollment' ? (
          <>
            <MessageBarTitle>{words.enrolled(state.name ?? '')}</MessageBarTitle>
            {state.deviceId && words.enrolledBody(state.deviceId)}
          </>
        ) : (
          <MessageBarTitle>{words.desktopDone}</MessageBarTitle>
        )}
      </MessageBarBody>
    </MessageBar>
  );
}
