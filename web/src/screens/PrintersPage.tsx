// Admin › Printers (docs/web-app.md#admin-users-and-printers): enroll a printer by the code its
// panel shows (GET /api/device-codes/{code} to check it is an enrollment, then approve with a name
// and location), the tenant's printers with status and last seen (GET /api/devices, paged), rename
// and move (PATCH), and disconnect after a confirmation that says what it does (DELETE).
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
  MessageBar,
  MessageBarBody,
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
  mergeClasses,
  tokens,
} from '@fluentui/react-components';
import { useState, type FormEvent } from 'react';
import { ApiProblem, apiJson, problemWords } from '../api.js';
import { useApiRead } from '../api-read.js';
import { fieldProblems, type FieldProblems } from '../forms/field-errors.js';
import { Pager, pageSize, usePaging } from '../paging.js';
import { PRINTER_WORDS, type PrinterWords } from '../printers/printer-words.js';
import { useLanguage, useWords } from '../i18n.js';
import type { ProblemWords } from '../problem.js';
import { useLocation } from '../router.js';
import { DoneBar, Page, ProblemBar } from '../ui.js';

/** Printers per page unless the address asks for another `?limit=`. */
const PAGE_SIZE = 25;

interface Printer {
  id: string;
  name: string;
  location: string;
  status: 'connected' | 'disconnected';
  createdAt: string;
  lastSeenAt: string;
}

const useStyles = makeStyles({
  // A section's h3 without the browser's margins: the stack's gap spaces it.
  heading: { margin: 0 },
  part: {
    display: 'flex',
    flexDirection: 'column',
    gap: tokens.spacingVerticalM,
    padding: tokens.spacingHorizontalL,
    borderRadius: tokens.borderRadiusMedium,
    border: `${tokens.strokeWidthThin} solid ${tokens.colorNeutralStroke2}`,
  },
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  row: { display: 'flex', gap: tokens.spacingHorizontalM, alignItems: 'flex-end', flexWrap: 'wrap' },
  grow: { flexGrow: 1, minWidth: '12rem' },
  name: { overflowWrap: 'anywhere' },
  sub: { display: 'block', color: tokens.colorNeutralForeground3, overflowWrap: 'anywhere' },
  actions: { display: 'flex', gap: tokens.spacingHorizontalS, flexWrap: 'wrap' },
  // At phone width location and last seen move under the name.
  wide: { '@media (max-width: 700px)': { display: 'none' } },
  narrow: { '@media (min-width: 701px)': { display: 'none' } },
});

export function PrintersPage() {
  const styles = useStyles();
  const words = useWords(PRINTER_WORDS);
  const [language] = useLanguage();
  const { search } = useLocation();
  const limit = pageSize(search, PAGE_SIZE);
  const paging = usePaging();
  const [editing, setEditing] = useState<Printer | undefined>();
  const [disconnecting, setDisconnecting] = useState<Printer | undefined>();
  // What the last action did, kept as facts so that its words follow a language switch.
  const [notice, setNotice] = useState<
    { done: 'enrolled' | 'saved' | 'disconnected'; name: string } | { problem: ProblemWords } | undefined
  >();
  const parameters = new URLSearchParams({ limit: String(limit) });
  if (paging.token) parameters.set('continuationToken', paging.token);
  const read = useApiRead<{ items: Printer[]; continuationToken: string | null }>(`/api/devices?${parameters}`, { keep: true });
  const load = read.state;
  const refresh = read.reload;

  const time = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' });

  const disconnect = async (printer: Printer) => {
    setDisconnecting(undefined);
    try {
      await apiJson(`/api/devices/${encodeURIComponent(printer.id)}`, { method: 'DELETE' }, words.disconnectFailed);
      setNotice({ done: 'disconnected', name: printer.name });
    } catch (error) {
      setNotice({ problem: problemWords(error, words.disconnectFailed) });
    }
    refresh();
  };

  return (
    <Page title={words.title}>
      <Enroll
        words={words}
        onEnrolled={(name) => {
          setNotice({ done: 'enrolled', name });
          paging.reset();
          refresh();
        }}
      />
      <section className={styles.stack} aria-labelledby="printers-list">
        <Title3 as="h3" id="printers-list" className={styles.heading}>
          {words.listTitle}
        </Title3>
        {notice && 'problem' in notice && <ProblemBar problem={notice.problem} />}
        {notice && 'done' in notice && <DoneBar>{words[notice.done](notice.name)}</DoneBar>}
        {load.kind === 'loading' && <Spinner label={words.loading} />}
        {load.kind === 'failed' && <ProblemBar problem={problemWords(load.error, words.loadFailed)} />}
        {load.kind === 'loaded' && load.value.items.length === 0 && <Text>{words.empty}</Text>}
        {load.kind === 'loaded' && load.value.items.length > 0 && (
          <Table aria-labelledby="printers-list">
            <TableHeader>
              <TableRow>
                <TableHeaderCell>{words.name}</TableHeaderCell>
                <TableHeaderCell className={styles.wide}>{words.location}</TableHeaderCell>
                <TableHeaderCell>{words.status}</TableHeaderCell>
                <TableHeaderCell className={styles.wide}>{words.lastSeen}</TableHeaderCell>
                <TableHeaderCell>{words.actions}</TableHeaderCell>
              </TableRow>
            </TableHeader>
            <TableBody>
              {load.value.items.map((printer) => (
                <TableRow key={printer.id}>
                  <TableCell className={styles.name}>
                    {printer.name}
                    <Text size={200} className={mergeClasses(styles.sub, styles.narrow)}>
                      {[printer.location, time.format(new Date(printer.lastSeenAt))].filter(Boolean).join(' · ')}
                    </Text>
                  </TableCell>
                  <TableCell className={mergeClasses(styles.name, styles.wide)}>{printer.location || '—'}</TableCell>
                  <TableCell>
                    <Badge appearance="tint" color={printer.status === 'connected' ? 'success' : 'subtle'}>
                      {printer.status === 'connected' ? words.connected : words.disconnectedStatus}
                    </Badge>
                  </TableCell>
                  <TableCell className={styles.wide}>{time.format(new Date(printer.lastSeenAt))}</TableCell>
                  <TableCell>
                    <div className={styles.actions}>
                      <Button size="small" aria-label={words.labelFor(words.edit, printer.name)} onClick={() => setEditing(printer)}>
                        {words.edit}
                      </Button>
                      {printer.status === 'connected' && (
                        <Button
                          size="small"
                          aria-label={words.labelFor(words.disconnect, printer.name)}
                          onClick={() => setDisconnecting(printer)}
                        >
                          {words.disconnect}
                        </Button>
                      )}
                    </div>
                  </TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
        {load.kind === 'loaded' && <Pager paging={paging} nextToken={load.value.continuationToken} />}
      </section>
      {editing && (
        <EditPrinter
          printer={editing}
          words={words}
          onClose={(saved) => {
            setEditing(undefined);
            if (saved) {
              setNotice({ done: 'saved', name: saved.name });
              refresh();
            }
          }}
        />
      )}
      <Dialog open={disconnecting !== undefined} onOpenChange={(_, data) => !data.open && setDisconnecting(undefined)}>
        <DialogSurface>
          <DialogBody>
            <DialogTitle>{words.disconnectTitle(disconnecting?.name ?? '')}</DialogTitle>
            <DialogContent>{words.disconnectBody}</DialogContent>
            <DialogActions>
              <Button appearance="primary" onClick={() => disconnecting && void disconnect(disconnecting)}>
                {words.disconnectConfirm}
              </Button>
              <Button onClick={() => setDisconnecting(undefined)}>{words.cancel}</Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </Page>
  );
}

/** The code as the panel shows it, e.g. `BCDF-GHJK`; the API accepts any case, with or without the dash. */
const normalCode = (typed: string) => typed.trim().toUpperCase();

function Enroll({ words, onEnrolled }: { words: PrinterWords; onEnrolled: (name: string) => void }) {
  const styles = useStyles();
  const [code, setCode] = useState('');
  const [checked, setChecked] = useState<string | undefined>();
  const [codeMessage, setCodeMessage] = useState<string | undefined>();
  const [values, setValues] = useState({ name: '', location: '' });
  const [problems, setProblems] = useState<FieldProblems>({});
  const [failure, setFailure] = useState<ProblemWords | undefined>();
  const [busy, setBusy] = useState(false);

  const codeWords = (error: unknown): string | undefined => {
    if (!(error instanceof ApiProblem)) return undefined;
    if (error.status === 404) return words.codeUnknown;
    if (error.status === 429) return words.codeTooMany;
    if (error.status === 400) return words.codeFormat;
    return undefined;
  };

  const check = async (event: FormEvent) => {
    event.preventDefault();
    setCodeMessage(undefined);
    setFailure(undefined);
    const typed = normalCode(code);
    if (!typed) return setCodeMessage(words.codeFormat);
    setBusy(true);
    try {
      const asking = await apiJson<{ scope: string }>(`/api/device-codes/${encodeURIComponent(typed)}`, {}, words.checkFailed);
      if (asking.scope.split(' ').includes('device')) setChecked(typed);
      else setCodeMessage(words.notEnrollment);
    } catch (error) {
      const message = codeWords(error);
      if (message) setCodeMessage(message);
      else setFailure(problemWords(error, words.checkFailed));
    } finally {
      setBusy(false);
    }
  };

  const enroll = async (event: FormEvent) => {
    event.preventDefault();
    if (!checked) return;
    setProblems({});
    setFailure(undefined);
    if (!values.name.trim()) return setProblems({ name: { fault: 'invalid' } });
    setBusy(true);
    try {
      await apiJson(
        '/api/device-codes/approve',
        { method: 'POST', body: { user_code: checked, name: values.name.trim(), location: values.location.trim() } },
        words.enrollFailed,
      );
      onEnrolled(values.name.trim());
      setChecked(undefined);
      setCode('');
      setValues({ name: '', location: '' });
    } catch (error) {
      const found = fieldProblems(error);
      setProblems(found);
      const message = codeWords(error);
      if (message) {
        setChecked(undefined);
        setCodeMessage(message);
      } else if (Object.keys(found).length === 0) setFailure(problemWords(error, words.enrollFailed));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className={styles.part} aria-labelledby="printers-enroll">
      <Title3 as="h3" id="printers-enroll" className={styles.heading}>
        {words.enrollTitle}
      </Title3>
      <Text>{words.enrollIntro}</Text>
      {failure && <ProblemBar problem={failure} />}
      {!checked ? (
        <form className={styles.row} onSubmit={(event) => void check(event)} noValidate>
          <Field
            className={styles.grow}
            label={words.code}
            hint={codeMessage ? undefined : words.codeHint}
            validationMessage={codeMessage}
            validationState={codeMessage ? 'error' : 'none'}
          >
            <Input
              value={code}
              onChange={(_, data) => setCode(data.value)}
              autoComplete="off"
              spellCheck={false}
              autoCapitalize="characters"
            />
          </Field>
          <Button appearance="primary" type="submit" disabled={busy}>
            {words.check}
          </Button>
        </form>
      ) : (
        <form className={styles.stack} onSubmit={(event) => void enroll(event)} noValidate>
          <MessageBar intent="success">
            <MessageBarBody>{words.codeOk(checked)}</MessageBarBody>
          </MessageBar>
          <Field
            label={words.name}
            required
            hint={words.nameHint}
            validationMessage={problems.name ? words.nameInvalid : undefined}
            validationState={problems.name ? 'error' : 'none'}
          >
            <Input value={values.name} onChange={(_, data) => setValues((v) => ({ ...v, name: data.value }))} autoComplete="off" />
          </Field>
          <Field
            label={words.locationOptional}
            hint={words.locationHint}
            validationMessage={problems.location ? words.locationInvalid : undefined}
            validationState={problems.location ? 'error' : 'none'}
          >
            <Input value={values.location} onChange={(_, data) => setValues((v) => ({ ...v, location: data.value }))} autoComplete="off" />
          </Field>
          <div className={styles.actions}>
            <Button appearance="primary" type="submit" disabled={busy}>
              {words.enroll}
            </Button>
            <Button
              onClick={() => {
                setChecked(undefined);
                setProblems({});
              }}
            >
              {words.cancel}
            </Button>
          </div>
        </form>
      )}
    </section>
  );
}

function EditPrinter({ printer, words, onClose }: { printer: Printer; words: PrinterWords; onClose: (saved?: Printer) => void }) {
  const styles = useStyles();
  const [values, setValues] = useState({ name: printer.name, location: printer.location });
  const [problems, setProblems] = useState<FieldProblems>({});
  const [failure, setFailure] = useState<ProblemWords | undefined>();
  const [busy, setBusy] = useState(false);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setProblems({});
    setFailure(undefined);
    const changes: Record<string, string> = {};
    if (values.name.trim() !== printer.name) changes.name = values.name.trim();
    if (values.location.trim() !== printer.location) changes.location = values.location.trim();
    if (Object.keys(changes).length === 0) return onClose();
    setBusy(true);
    try {
      onClose(
        await apiJson<Printer>(`/api/devices/${encodeURIComponent(printer.id)}`, { method: 'PATCH', body: changes }, words.saveFailed),
      );
    } catch (error) {
      const found = fieldProblems(error);
      setProblems(found);
      if (Object.keys(found).length === 0) setFailure(problemWords(error, words.saveFailed));
      setBusy(false);
    }
  };

  return (
    <Dialog open onOpenChange={(_, data) => !data.open && onClose()}>
      <DialogSurface>
        <form onSubmit={(event) => void save(event)} noValidate>
          <DialogBody>
            <DialogTitle>{words.editTitle(printer.name)}</DialogTitle>
            <DialogContent className={styles.stack}>
              {failure && <ProblemBar problem={failure} />}
              <Field
                label={words.name}
                required
                validationMessage={problems.name ? words.nameInvalid : undefined}
                validationState={problems.name ? 'error' : 'none'}
              >
                <Input value={values.name} onChange={(_, data) => setValues((v) => ({ ...v, name: data.value }))} autoComplete="off" />
              </Field>
              <Field
                label={words.location}
                validationMessage={problems.location ? words.locationInvalid : undefined}
                validationState={problems.location ? 'error' : 'none'}
              >
                <Input
                  value={values.location}
                  onChange={(_, data) => setValues((v) => ({ ...v, location: data.value }))}
                  autoComplete="off"
                />
              </Field>
            </DialogContent>
            <DialogActions>
              <Button appearance="primary" type="submit" disabled={busy}>
                {words.save}
              </Button>
              <Button onClick={() => onClose()}>{words.cancel}</Button>
            </DialogActions>
          </DialogBody>
        </form>
      </DialogSurface>
    </Dialog>
  );
}
