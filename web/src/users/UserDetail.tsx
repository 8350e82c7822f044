// One user, for an admin (screens/UsersPage.tsx at `?user=<id>`): edit names and role (PATCH),
// with what the company directory owns read-only and the reason shown; a PIN reset whose PIN is
// shown once; a password or PIN set by hand; the user's sign-ins; and erasure behind a typed
// confirmation. The one-time PIN lives only in this component's state: closing its dialog drops it.
import {
  Badge,
  Button,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  Field,
  Input,
  Link,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Select,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Title3,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useEffect, useState, type FormEvent, type ReactElement } from 'react';
import { ApiProblem, apiJson, problemWords } from '../api.js';
import { useApiRead } from '../api-read.js';
import { useLanguage, useWords } from '../i18n.js';
import type { ProblemWords } from '../problem.js';
import { navigate } from '../router.js';
import { DoneBar, Page, ProblemBar } from '../ui.js';
import { CopyButton } from '../forms/controls.js';
import { directoryFields, fieldProblems, type FieldProblems } from '../forms/field-errors.js';
import { USER_WORDS, fieldMessage, type User, type UserWords } from './user-words.js';
import { UserPrintRights } from './UserPrintRights.js';

const useStyles = makeStyles({
  // A section's h3 without the browser's margins: the stack's gap spaces it.
  heading: { margin: 0 },
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  part: {
    display: 'flex',
    flexDirection: 'column',
    gap: tokens.spacingVerticalM,
    paddingTop: tokens.spacingVerticalL,
    borderTop: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke2}`,
  },
  form: {
    display: 'grid',
    gap: tokens.spacingVerticalM,
    gridTemplateColumns: '1fr',
    '@media (min-width: 701px)': { gridTemplateColumns: '1fr 1fr' },
  },
  actions: { display: 'flex', gap: tokens.spacingHorizontalM, flexWrap: 'wrap', alignItems: 'center' },
  badges: { display: 'flex', gap: tokens.spacingHorizontalXS, flexWrap: 'wrap' },
  pin: { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeHero700, letterSpacing: '0.2em' },
  wide: { '@media (max-width: 700px)': { display: 'none' } },
});

type Load = { kind: 'loading' } | { kind: 'failed'; problem: ProblemWords; gone: boolean } | { kind: 'loaded'; user: User };

/** A user's active/deactivated state, and whether the company directory provisions them. */
export function UserStatus({ user, words }: { user: User; words: UserWords }) {
  const styles = useStyles();
  return (
    <span className={styles.badges}>
      <Badge appearance="tint" color={user.active ? 'success' : 'danger'}>
        {user.active ? words.active : words.deactivated}
      </Badge>
      {user.provisioned && (
        <Badge appearance="outline" color="informative">
          {words.provisioned}
        </Badge>
      )}
    </span>
  );
}

/** Who was just erased, for the list to say so once (kept in memory only, never stored). */
let lastErased: string | undefined;
export function takeLastErased(): string | undefined {
  const name = lastErased;
  lastErased = undefined;
  return name;
}

export function UserDetail({ id }: { id: string }) {
  const styles = useStyles();
  const words = useWords(USER_WORDS);
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [roleOwned, setRoleOwned] = useState(false);

  useEffect(() => {
    const controller = new AbortController();
    apiJson<User>(`/api/users/${encodeURIComponent(id)}`, { signal: controller.signal })
      .then(async (user) => {
        setLoad({ kind: 'loaded', user });
        // The directory also owns the role when the policy names an admin group (docs/provisioning.md).
        if (user.provisioned) {
          const tenant = await apiJson<{ policy?: { entraAdminGroupId?: string | null } }>('/api/tenant', { signal: controller.signal });
          setRoleOwned(Boolean(tenant.policy?.entraAdminGroupId));
        }
      })
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setLoad({
          kind: 'failed',
          problem: problemWords(error, words.notFound),
          gone: error instanceof ApiProblem && error.status === 404,
        });
      });
    return () => controller.abort();
  }, [id, words.notFound]);

  const back = (
    <Link
      href="/app/admin/users"
      onClick={(event) => {
        event.preventDefault();
        navigate('/app/admin/users');
      }}
    >
      ← {words.back}
    </Link>
  );

  if (load.kind === 'loading')
    return (
      <Page title={words.title}>
        {back}
        <Spinner label={words.loading} />
      </Page>
    );
  if (load.kind === 'failed')
    return (
      <Page title={words.title}>
        {back}
        {load.gone ? <Text>{words.notFound}</Text> : <ProblemBar problem={load.problem} />}
      </Page>
    );

  const user = load.user;
  return (
    <Page title={user.fullName}>
      {back}
      <UserStatus user={user} words={words} />
      {user.provisioned && (
        <MessageBar intent="info">
          <MessageBarBody>
            <MessageBarTitle>{words.managedTitle}</MessageBarTitle>
            {words.managedBody}
          </MessageBarBody>
        </MessageBar>
      )}
      {!user.active && (
        <MessageBar intent="warning">
          <MessageBarBody>{words.isDeactivated}</MessageBarBody>
        </MessageBar>
      )}
      <EditUser user={user} roleOwned={roleOwned} words={words} onSaved={(saved) => setLoad({ kind: 'loaded', user: saved })} />
      <section className={styles.part} aria-labelledby="user-pin">
        <Title3 as="h3" id="user-pin" className={styles.heading}>
          {words.pinTitle}
        </Title3>
        <PinReset user={user} words={words} />
        <Credentials user={user} words={words} />
      </section>
      <UserPrintRights user={user} />
      <SignIns user={user} words={words} />
      <section className={styles.part} aria-labelledby="user-erase">
        <Title3 as="h3" id="user-erase" className={styles.heading}>
          {words.eraseTitle}
        </Title3>
        <Text>{words.eraseIntro}</Text>
        <Erase user={user} words={words} />
      </section>
    </Page>
  );
}

const DIRECTORY_OWNED = ['fullName', 'username', 'email'] as const;

function EditUser({
  user,
  roleOwned,
  words,
  onSaved,
}: {
  user: User;
  roleOwned: boolean;
  words: UserWords;
  onSaved: (user: User) => void;
}) {
  const styles = useStyles();
  const [values, setValues] = useState({ fullName: user.fullName, username: user.username, email: user.email, role: user.role as string });
  const [problems, setProblems] = useState<FieldProblems>({});
  const [outcome, setOutcome] = useState<{ saved: true } | { saved: false; problem: ProblemWords } | undefined>();
  const [busy, setBusy] = useState(false);
  // What the directory owns: the names for any provisioned user, the role when the policy says so,
  // and whatever a 409 managed-by-directory named.
  const [owned, setOwned] = useState<ReadonlySet<string>>(new Set());
  useEffect(() => {
    setOwned(new Set(user.provisioned ? [...DIRECTORY_OWNED, ...(roleOwned ? ['role'] : [])] : []));
  }, [user.provisioned, roleOwned]);

  const set = (field: keyof typeof values) => (_: unknown, data: { value: string }) => setValues((v) => ({ ...v, [field]: data.value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const changes = Object.fromEntries(
      Object.entries(values).filter(([field, value]) => !owned.has(field) && value.trim() !== String(user[field as keyof User])),
    );
    setProblems({});
    if (Object.keys(changes).length === 0) return setOutcome({ saved: false, problem: { title: words.nothingChanged } });
    setBusy(true);
    try {
      const saved = await apiJson<User>(`/api/users/${encodeURIComponent(user.id)}`, { method: 'PATCH', body: changes }, words.saveFailed);
      setOutcome({ saved: true });
      onSaved(saved);
    } catch (error) {
      const managed = directoryFields(error);
      if (managed) setOwned((current) => new Set([...current, ...managed]));
      const found = fieldProblems(error);
      setProblems(found);
      setOutcome(Object.keys(found).length ? undefined : { saved: false, problem: problemWords(error, words.saveFailed) });
    } finally {
      setBusy(false);
    }
  };

  const field = (name: keyof typeof values, label: string, input: (readOnly: boolean) => ReactElement) => {
    const readOnly = owned.has(name);
    const message = fieldMessage(words, problems, name);
    return (
      <Field
        label={label}
        hint={readOnly ? words.managed : undefined}
        validationMessage={message}
        validationState={message ? 'error' : 'none'}
      >
        {input(readOnly)}
      </Field>
    );
  };

  return (
    <section className={styles.part} aria-labelledby="user-details">
      <Title3 as="h3" id="user-details" className={styles.heading}>
        {words.details}
      </Title3>
      {outcome?.saved === true && <DoneBar>{words.saved}</DoneBar>}
      {outcome?.saved === false && <ProblemBar problem={outcome.problem} />}
      <form onSubmit={(event) => void submit(event)} noValidate className={styles.stack}>
        <div className={styles.form}>
          {field('fullName', words.name, (readOnly) => (
            <Input value={values.fullName} onChange={set('fullName')} readOnly={readOnly} autoComplete="off" />
          ))}
          {field('username', words.username, (readOnly) => (
            <Input value={values.username} onChange={set('username')} readOnly={readOnly} autoComplete="off" spellCheck={false} />
          ))}
          {field('email', words.email, (readOnly) => (
            <Input type="email" value={values.email} onChange={set('email')} readOnly={readOnly} autoComplete="off" />
          ))}
          {field('role', words.role, (readOnly) =>
            readOnly ? (
              <Input value={words.roles[values.role] ?? values.role} readOnly />
            ) : (
              <Select value={values.role} onChange={set('role')}>
                <option value="user">{words.roles.user}</option>
                <option value="admin">{words.roles.admin}</option>
              </Select>
            ),
          )}
        </div>
        <div className={styles.actions}>
          <Button appearance="primary" type="submit" disabled={busy || owned.size === 4}>
            {busy ? words.saving : words.save}
          </Button>
        </div>
      </form>
    </section>
  );
}

function PinReset({ user, words }: { user: User; words: UserWords }) {
  const styles = useStyles();
  const [phase, setPhase] = useState<'closed' | 'confirm' | 'busy'>('closed');
  const [pin, setPin] = useState<string | undefined>();
  const [problem, setProblem] = useState<ProblemWords | undefined>();

  const reset = async () => {
    setPhase('busy');
    setProblem(undefined);
    try {
      const answer = await apiJson<{ pin: string }>(
        `/api/users/${encodeURIComponent(user.id)}/pin-reset`,
        { method: 'POST' },
        words.pinResetFailed,
      );
      setPin(answer.pin);
    } catch (error) {
      setProblem(problemWords(error, words.pinResetFailed));
    }
    setPhase('closed');
  };
  const close = () => {
    setPin(undefined);
  };

  return (
    <>
      {problem && <ProblemBar problem={problem} />}
      <div className={styles.actions}>
        <Button onClick={() => setPhase('confirm')}>{words.pinReset}</Button>
      </div>
      <Dialog open={phase !== 'closed'} onOpenChange={(_, data) => !data.open && setPhase('closed')}>
        <DialogSurface>
          <DialogBody>
            <DialogTitle>{words.pinResetTitle}</DialogTitle>
            <DialogContent>{words.pinResetBody(user.fullName)}</DialogContent>
            <DialogActions>
              <Button appearance="primary" disabled={phase === 'busy'} onClick={() => void reset()}>
                {words.pinResetConfirm}
              </Button>
              <Button onClick={() => setPhase('closed')}>{words.cancel}</Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
      <Dialog open={pin !== undefined} onOpenChange={(_, data) => !data.open && close()}>
        <DialogSurface>
          <DialogBody>
            <DialogTitle>{words.pinShownTitle}</DialogTitle>
            <DialogContent className={styles.stack}>
              <Text>{words.pinShownBody}</Text>
              <Text className={styles.pin} aria-label={words.pinLabel} data-testid="one-time-pin">
                {pin}
              </Text>
            </DialogContent>
            <DialogActions>
              {pin && <CopyButton value={pin} label={words.pinLabel} />}
              <Button onClick={close}>{words.close}</Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </>
  );
}

function Credentials({ user, words }: { user: User; words: UserWords }) {
  const styles = useStyles();
  const [values, setValues] = useState({ password: '', pin: '' });
  const [problems, setProblems] = useState<FieldProblems>({});
  const [outcome, setOutcome] = useState<{ done: true } | { done: false; problem: ProblemWords } | undefined>();
  const [busy, setBusy] = useState(false);
  const set = (field: keyof typeof values) => (_: unknown, data: { value: string }) => setValues((v) => ({ ...v, [field]: data.value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const body = Object.fromEntries(Object.entries(values).filter(([, value]) => value !== ''));
    setProblems({});
    setOutcome(undefined);
    if (Object.keys(body).length === 0) return setOutcome({ done: false, problem: { title: words.credentialsHint } });
    setBusy(true);
    try {
      await apiJson(`/api/users/${encodeURIComponent(user.id)}/credentials`, { method: 'PUT', body }, words.credentialsFailed);
      setValues({ password: '', pin: '' });
      setOutcome({ done: true });
    } catch (error) {
      const found = fieldProblems(error);
      setProblems(found);
      setOutcome(Object.keys(found).length ? undefined : { done: false, problem: problemWords(error, words.credentialsFailed) });
    } finally {
      setBusy(false);
    }
  };

  const message = (field: string) => fieldMessage(words, problems, field);
  return (
    <form onSubmit={(event) => void submit(event)} noValidate className={styles.stack} aria-label={words.credentialsTitle}>
      <Text weight="semibold">{words.credentialsTitle}</Text>
      {outcome?.done === true && <DoneBar>{words.credentialsSet}</DoneBar>}
      {outcome?.done === false && <ProblemBar problem={outcome.problem} />}
      <div className={styles.form}>
        <Field label={words.newPassword} validationMessage={message('password')} validationState={message('password') ? 'error' : 'none'}>
          <Input type="password" value={values.password} onChange={set('password')} autoComplete="new-password" />
        </Field>
        <Field label={words.newPin} validationMessage={message('pin')} validationState={message('pin') ? 'error' : 'none'}>
          <Input type="password" inputMode="numeric" value={values.pin} onChange={set('pin')} autoComplete="new-password" />
        </Field>
      </div>
      <div className={styles.actions}>
        <Button type="submit" disabled={busy}>
          {words.setCredentials}
        </Button>
      </div>
    </form>
  );
}

interface Login {
  at: string;
  clientId: string;
  method: string;
  success: boolean;
  ip?: string;
}

function SignIns({ user, words }: { user: User; words: UserWords }) {
  const styles = useStyles();
  const [language] = useLanguage();
  const load = useApiRead<{ items: Login[] }>(`/api/users/${encodeURIComponent(user.id)}/logins`).state;
  const time = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' });

  return (
    <section className={styles.part} aria-labelledby="user-sign-ins">
      <Title3 as="h3" id="user-sign-ins" className={styles.heading}>
        {words.signIns}
      </Title3>
      {load.kind === 'loading' && <Spinner size="small" label={words.loading} />}
      {load.kind === 'failed' && <ProblemBar problem={problemWords(load.error, words.signInsFailed)} />}
      {load.kind === 'loaded' && load.value.items.length === 0 && <Text>{words.signInsEmpty}</Text>}
      {load.kind === 'loaded' && load.value.items.length > 0 && (
        <Table aria-labelledby="user-sign-ins" size="small">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>{words.when}</TableHeaderCell>
              <TableHeaderCell>{words.method}</TableHeaderCell>
              <TableHeaderCell className={styles.wide}>{words.client}</TableHeaderCell>
              <TableHeaderCell>{words.result}</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {load.value.items.slice(0, 20).map((login) => (
              <TableRow key={`${login.at}-${login.clientId}`}>
                <TableCell>{time.format(new Date(login.at))}</TableCell>
                <TableCell>{words.methods[login.method] ?? login.method}</TableCell>
                <TableCell className={styles.wide}>{login.clientId}</TableCell>
                <TableCell>{login.success ? words.succeeded : words.failed}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </section>
  );
}

function Erase({ user, words }: { user: User; words: UserWords }) {
  const styles = useStyles();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<ProblemWords | undefined>();
  const matches = typed === user.username;

  const erase = async (event: FormEvent) => {
    event.preventDefault();
    if (!matches) return;
    setBusy(true);
    setProblem(undefined);
    try {
      await apiJson(`/api/users/${encodeURIComponent(user.id)}`, { method: 'DELETE' }, words.eraseFailed);
      setOpen(false);
      lastErased = user.fullName;
      navigate('/app/admin/users', { replace: true });
    } catch (error) {
      setProblem(problemWords(error, words.eraseFailed));
      setBusy(false);
    }
  };

  return (
    <>
      <div className={styles.actions}>
        <Button
          onClick={() => {
            setTyped('');
            setOpen(true);
          }}
        >
          {words.erase}
        </Button>
      </div>
      <Dialog open={open} onOpenChange={(_, data) => setOpen(data.open)}>
        <DialogSurface>
          <form onSubmit={(event) => void erase(event)} noValidate>
            <DialogBody>
              <DialogTitle>{words.eraseDialogTitle(user.fullName)}</DialogTitle>
              <DialogContent className={styles.stack}>
                {problem && <ProblemBar problem={problem} />}
                <Text>{words.eraseDialogBody}</Text>
                <Field label={words.eraseType(user.username)}>
                  <Input value={typed} onChange={(_, data) => setTyped(data.value)} autoComplete="off" spellCheck={false} />
                </Field>
              </DialogContent>
              <DialogActions>
                <Button appearance="primary" type="submit" disabled={!matches || busy}>
                  {words.eraseConfirm}
                </Button>
                <Button onClick={() => setOpen(false)}>{words.cancel}</Button>
              </DialogActions>
            </DialogBody>
          </form>
        </DialogSurface>
      </Dialog>
    </>
  );
}
