// Admin › Users (docs/web-app.md#admin-users-and-printers): the tenant's users, searched as you
// type and paged (GET /api/users), and a new user through a form whose fields show the API's
// validation answers. One user opens at `?user=<id>` (admin/UserDetail.tsx), so the browser's
// Back button returns to the list.
import {
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
  mergeClasses,
  tokens,
} from '@fluentui/react-components';
import { useEffect, useState, type FormEvent } from 'react';
import { apiJson, problemWords } from '../api.js';
import { useApiRead } from '../api-read.js';
import { fieldProblems, type FieldProblems } from '../forms/field-errors.js';
import { Pager, pageSize, usePaging } from '../paging.js';
import { UserDetail, UserStatus, takeLastErased } from '../users/UserDetail.js';
import { USER_WORDS, fieldMessage, type User, type UserWords } from '../users/user-words.js';
import { useWords } from '../i18n.js';
import { navigate, useLocation } from '../router.js';
import type { ProblemWords } from '../problem.js';
import { DoneBar, Page, ProblemBar } from '../ui.js';

/** Users per page unless the address asks for another `?limit=`. */
const PAGE_SIZE = 25;
/** How long typing rests before the search is sent. */
const SEARCH_DELAY_MS = 300;

const useStyles = makeStyles({
  toolbar: { display: 'flex', gap: tokens.spacingHorizontalM, alignItems: 'flex-end', flexWrap: 'wrap' },
  search: { flexGrow: 1, minWidth: '12rem' },
  name: { overflowWrap: 'anywhere' },
  sub: { display: 'block', color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
  // At phone width the username and email move under the name: name, role and status remain as columns.
  wide: { '@media (max-width: 700px)': { display: 'none' } },
  narrow: { '@media (min-width: 701px)': { display: 'none' } },
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
});

export function UsersPage() {
  const { search } = useLocation();
  const id = search.get('user');
  return id ? <UserDetail id={id} /> : <UserList limit={pageSize(search, PAGE_SIZE)} />;
}

function UserList({ limit }: { limit: number }) {
  const styles = useStyles();
  const words = useWords(USER_WORDS);
  const [typed, setTyped] = useState('');
  const [query, setQuery] = useState('');
  const paging = usePaging();
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<{ created?: string; erased?: string } | undefined>(() => {
    const erased = takeLastErased();
    return erased ? { erased } : undefined;
  });

  // The search is sent once typing rests, and starts again from the first page; only a search
  // that changed does (on opening, a page turned within the delay would be undone).
  useEffect(() => {
    const wanted = typed.trim();
    if (wanted === query) return;
    const timer = setTimeout(() => {
      setQuery(wanted);
      paging.reset();
    }, SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [typed, query, paging.reset]);

  const parameters = new URLSearchParams({ limit: String(limit) });
  if (query) parameters.set('q', query);
  if (paging.token) parameters.set('continuationToken', paging.token);
  // The rows shown stay while the next search's answer is on its way.
  const read = useApiRead<{ items: User[]; continuationToken: string | null }>(`/api/users?${parameters}`, { keep: true });
  const load = read.state;

  return (
    <Page title={words.title}>
      {notice && <DoneBar>{notice.erased ? words.erased(notice.erased) : words.created(notice.created ?? '')}</DoneBar>}
      <div className={styles.toolbar}>
        <Field label={words.search} hint={words.searchHint} className={styles.search}>
          <Input type="search" value={typed} onChange={(_, data) => setTyped(data.value)} />
        </Field>
        <Button appearance="primary" onClick={() => setCreating(true)}>
          {words.newUser}
        </Button>
      </div>
      {load.kind === 'loading' && <Spinner label={words.loading} />}
      {load.kind === 'failed' && <ProblemBar problem={problemWords(load.error, words.loadFailed)} />}
      {load.kind === 'loaded' && load.value.items.length === 0 && <Text>{query ? words.empty : words.none}</Text>}
      {load.kind === 'loaded' && load.value.items.length > 0 && (
        <Table aria-label={words.title}>
          <TableHeader>
            <TableRow>
              <TableHeaderCell>{words.name}</TableHeaderCell>
              <TableHeaderCell className={styles.wide}>{words.username}</TableHeaderCell>
              <TableHeaderCell className={styles.wide}>{words.email}</TableHeaderCell>
              <TableHeaderCell>{words.role}</TableHeaderCell>
              <TableHeaderCell>{words.status}</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {load.value.items.map((user) => (
              <TableRow key={user.id}>
                <TableCell className={styles.name}>
                  <Link
                    href={`/app/admin/users?user=${encodeURIComponent(user.id)}`}
                    onClick={(event) => {
                      event.preventDefault();
                      navigate(`/app/admin/users?user=${encodeURIComponent(user.id)}`);
                    }}
                  >
                    {user.fullName}
                  </Link>
                  <Text size={200} className={mergeClasses(styles.sub, styles.narrow)}>
                    {user.username}
                  </Text>
                </TableCell>
                <TableCell className={mergeClasses(styles.name, styles.wide)}>{user.username}</TableCell>
                <TableCell className={mergeClasses(styles.name, styles.wide)}>{user.email}</TableCell>
                <TableCell>{words.roles[user.role] ?? user.role}</TableCell>
                <TableCell>
                  <UserStatus user={user} words={words} />
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      {load.kind === 'loaded' && <Pager paging={paging} nextToken={load.value.continuationToken} />}
      {creating && (
        <CreateUser
          words={words}
          onClose={(created) => {
            setCreating(false);
            if (created) {
              setNotice({ created: created.fullName });
              read.reload();
            }
          }}
        />
      )}
    </Page>
  );
}

function CreateUser({ words, onClose }: { words: UserWords; onClose: (created?: User) => void }) {
  const styles = useStyles();
  const [values, setValues] = useState({ fullName: '', username: '', email: '', role: 'user', password: '', pin: '' });
  const [problems, setProblems] = useState<FieldProblems>({});
  const [failure, setFailure] = useState<ProblemWords | undefined>();
  const [busy, setBusy] = useState(false);

  const set = (field: keyof typeof values) => (_: unknown, data: { value: string }) => setValues((v) => ({ ...v, [field]: data.value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setFailure(undefined);
    const body: Record<string, string> = {
      fullName: values.fullName,
      username: values.username.trim(),
      email: values.email.trim(),
      role: values.role,
    };
    if (values.password) body.password = values.password;
    if (values.pin) body.pin = values.pin;
    try {
      const created = await apiJson<User>('/api/users', { method: 'POST', body }, words.createFailed);
      onClose(created);
    } catch (error) {
      const found = fieldProblems(error);
      setProblems(found);
      // What no field explains (the PIN length the policy asks, a server failure) goes above the form.
      if (Object.keys(found).length === 0) setFailure(problemWords(error, words.createFailed));
      setBusy(false);
    }
  };

  const message = (field: string) => fieldMessage(words, problems, field);
  const state = (field: string) => (problems[field] ? 'error' : 'none');

  return (
    <Dialog open modalType="modal" onOpenChange={(_, data) => !data.open && onClose()}>
      <DialogSurface>
        <form onSubmit={(event) => void submit(event)} noValidate>
          <DialogBody>
            <DialogTitle>{words.createTitle}</DialogTitle>
            <DialogContent className={styles.form}>
              {failure && <ProblemBar problem={failure} />}
              <Field label={words.name} required validationMessage={message('fullName')} validationState={state('fullName')}>
                <Input value={values.fullName} onChange={set('fullName')} autoComplete="off" />
              </Field>
              <Field label={words.username} required validationMessage={message('username')} validationState={state('username')}>
                <Input value={values.username} onChange={set('username')} autoComplete="off" spellCheck={false} />
              </Field>
              <Field label={words.email} required validationMessage={message('email')} validationState={state('email')}>
                <Input type="email" value={values.email} onChange={set('email')} autoComplete="off" />
              </Field>
              <Field label={words.role} validationMessage={message('role')} validationState={state('role')}>
                <Select value={values.role} onChange={set('role')}>
                  <option value="user">{words.roles.user}</option>
                  <option value="admin">{words.roles.admin}</option>
                </Select>
              </Field>
              <Field
                label={words.password}
                hint={problems.password ? undefined : words.passwordHint}
                validationMessage={message('password')}
                validationState={state('password')}
              >
                <Input type="password" value={values.password} onChange={set('password')} autoComplete="new-password" />
              </Field>
              <Field
                label={words.pin}
                hint={problems.pin ? undefined : words.pinHint}
                validationMessage={message('pin')}
                validationState={state('pin')}
              >
                <Input inputMode="numeric" value={values.pin} onChange={set('pin')} autoComplete="off" />
              </Field>
            </DialogContent>
            <DialogActions>
              <Button appearance="primary" type="submit" disabled={busy}>
                {busy ? words.creating : words.create}
              </Button>
              <Button onClick={() => onClose()}>{words.cancel}</Button>
            </DialogActions>
          </DialogBody>
        </form>
      </DialogSurface>
    </Dialog>
  );
}
