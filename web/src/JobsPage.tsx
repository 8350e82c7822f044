// "My jobs": the signed-in person's jobs (GET /api/jobs), with loading, empty and error states,
// and cancel with confirmation (DELETE /api/jobs/{id}) for a job not yet released or one the
// printer could not print (failed, shown with its reason: docs/flows.md#release-to-printers). The list stays
// live: it is read again every few seconds while the tab is visible, so a job released at a
// printer turns to Printed without a reload. Under each state, what there is to know: the printer's
// figures, a hold or a change by print rights, a clean-up of the OneDrive file still to be done
// (docs/web-app.md#admin-usage-and-printing).
import {
  Badge,
  Button,
  Caption1,
  Dialog,
  DialogActions,
  DialogBody,
  DialogContent,
  DialogSurface,
  DialogTitle,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Spinner,
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  Text,
  Title2,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useCallback, useEffect, useRef, useState } from 'react';
import { apiFetch } from './auth.js';
import { useLanguage, type Words } from './i18n.js';
import { problemOf, type ProblemWords } from './problem.js';

interface JobOptions {
  copies: number;
  duplex: boolean;
  color: boolean;
}

interface Job {
  id: string;
  fileName: string;
  state: string;
  createdAt: string;
  options?: JobOptions;
  /** Set while the job is failed: why the printer could not print it. */
  failedReason?: string;
  /** What the printer reported printing (docs/flows.md#what-was-printed). */
  printed?: { pages: number; sheets: number; colorPages: number };
  /** The options the printer got, when print rights changed them. */
  releasedOptions?: JobOptions;
  /** Set while a queued job is held back by print rights. */
  heldReason?: string;
  /** The OneDrive file's clean-up after printing is still to be done (Graph was unavailable; it is tried again). */
  cleanup?: { action: string };
  cleanedUp?: string;
}

/** What print rights changed between the options asked for and those sent, in words. */
function changesOf(job: Job, words: Words): string[] {
  const asked = job.options;
  const sent = job.releasedOptions;
  if (!asked || !sent) return [];
  return [
    ...(asked.color && !sent.color ? [words.optionChanges.mono] : []),
    ...(!asked.duplex && sent.duplex ? [words.optionChanges.duplex] : []),
    ...(sent.copies < asked.copies ? [words.optionChanges.copies(sent.copies)] : []),
  ];
}

/** The lines under a job's state: the printer's figures or failure, a hold, a changed option, the file's clean-up. */
function jobNotes(job: Job, words: Words): string[] {
  const changes = changesOf(job, words);
  return [
    ...(job.state === 'failed'
      ? [`${(job.failedReason && words.failedReasons[job.failedReason]) ?? words.states.failed}. ${words.failedHint}`]
      : []),
    ...(job.state === 'printed' && job.printed
      ? [words.printedFigures(job.printed.pages, job.printed.sheets, job.printed.colorPages)]
      : []),
    ...(job.state === 'queued' && job.heldReason ? [`${words.heldReasons[job.heldReason] ?? job.heldReason}. ${words.heldHint}`] : []),
    ...(changes.length && (job.state === 'released' || job.state === 'printed') ? [words.changedOptions(changes)] : []),
    ...(job.cleanup ? [words.cleanupPending] : job.cleanedUp && words.cleanedUp[job.cleanedUp] ? [words.cleanedUp[job.cleanedUp]!] : []),
  ];
}

type Load = { kind: 'loading' } | { kind: 'failed'; problem: ProblemWords } | { kind: 'loaded'; jobs: Job[] };

const useStyles = makeStyles({
  stack: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalM },
  file: { overflowWrap: 'anywhere' },
  state: { display: 'flex', flexDirection: 'column', alignItems: 'flex-start', gap: tokens.spacingVerticalXXS },
  // At phone width the sent time is dropped: the name, state and action matter most.
  wide: { '@media (max-width: 600px)': { display: 'none' } },
});

const CANCELLABLE = new Set(['registered', 'queued', 'failed']);
const BADGE_COLOR: Record<string, 'success' | 'informative' | 'danger' | 'brand'> = {
  printed: 'success',
  released: 'informative',
  failed: 'danger',
};
/** How often the list is read again while the tab is visible: one Cosmos query a time. */
const LIVE_SECONDS = 5;

export function JobsPage() {
  const styles = useStyles();
  const [language, words] = useLanguage();
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  // What the last cancel did, kept as facts so the words follow a language switch.
  const [notice, setNotice] = useState<{ cancelled: boolean; fileName: string; detail?: string } | undefined>();
  // The job whose cancel is being confirmed. The dialog lives outside the rows: a live read that
  // turns the job Released while the dialog is open must not pull it (and the focus) away.
  const [cancelling, setCancelling] = useState<Job | undefined>();
  // Reads are numbered: an answer older than the newest one asked for is dropped, so a live read
  // that left before a cancel cannot put the cancelled job back, and nothing lands after unmount.
  const asked = useRef(0);
  const inFlight = useRef(false);

  const refresh = useCallback(async () => {
    const mine = ++asked.current;
    inFlight.current = true;
    try {
      const response = await apiFetch('/api/jobs?limit=50');
      const next: Load = response.ok
        ? { kind: 'loaded', jobs: ((await response.json()) as { items: Job[] }).items.filter((job) => job.state !== 'cancelled') }
        : { kind: 'failed', problem: await problemOf(response, words.loadFailed) };
      if (mine === asked.current) setLoad(next);
    } catch (error) {
      if (mine === asked.current) setLoad({ kind: 'failed', problem: { title: words.loadFailed, detail: String(error) } });
    } finally {
      if (mine === asked.current) inFlight.current = false;
    }
  }, [words.loadFailed]);

  useEffect(() => {
    void refresh();
    // Quietly again while visible and nothing is on its way; a failure shows as the error state,
    // and the next tick retries.
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible' && !inFlight.current) void refresh();
    }, LIVE_SECONDS * 1000);
    return () => {
      clearInterval(timer);
      asked.current = Number.POSITIVE_INFINITY;
    };
  }, [refresh]);

  const cancel = async (job: Job) => {
    const response = await apiFetch(`/api/jobs/${encodeURIComponent(job.id)}`, { method: 'DELETE' });
    if (response.ok) {
      setNotice({ cancelled: true, fileName: job.fileName });
      await refresh();
    } else {
      const problem = await problemOf(response, words.cancelFailed);
      setNotice({ cancelled: false, fileName: job.fileName, detail: [problem.title, problem.detail].filter(Boolean).join(': ') });
    }
  };

  const time = new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' });

  return (
    <section className={styles.stack} aria-labelledby="jobs-title">
      <Title2 as="h2" id="jobs-title">
        {words.myJobs}
      </Title2>
      {notice && (
        <MessageBar intent={notice.cancelled ? 'success' : 'error'} role="status">
          <MessageBarBody>
            <MessageBarTitle>{notice.cancelled ? words.cancelled(notice.fileName) : words.cancelFailed}</MessageBarTitle>
            {notice.detail}
          </MessageBarBody>
        </MessageBar>
      )}
      {load.kind === 'loading' && <Spinner label={words.loading} />}
      {load.kind === 'failed' && (
        <MessageBar intent="error">
          <MessageBarBody>
            <MessageBarTitle>{load.problem.title}</MessageBarTitle>
            {load.problem.detail}
          </MessageBarBody>
        </MessageBar>
      )}
      {load.kind === 'loaded' && load.jobs.length === 0 && <Text>{words.empty}</Text>}
      {load.kind === 'loaded' && load.jobs.length > 0 && (
        <Table aria-labelledby="jobs-title">
          <TableHeader>
            <TableRow>
              <TableHeaderCell>{words.file}</TableHeaderCell>
              <TableHeaderCell>{words.state}</TableHeaderCell>
              <TableHeaderCell className={styles.wide}>{words.created}</TableHeaderCell>
              <TableHeaderCell>{words.actions}</TableHeaderCell>
            </TableRow>
          </TableHeader>
          <TableBody>
            {load.jobs.map((job) => (
              <TableRow key={job.id}>
                <TableCell className={styles.file}>{job.fileName}</TableCell>
                <TableCell>
                  <div className={styles.state}>
                    <Badge
                      appearance="tint"
                      color={job.state === 'queued' && job.heldReason ? 'warning' : (BADGE_COLOR[job.state] ?? 'brand')}
                    >
                      {words.states[job.state] ?? job.state}
                    </Badge>
                    {jobNotes(job, words).map((note) => (
                      <Caption1 key={note}>{note}</Caption1>
                    ))}
                  </div>
                </TableCell>
                <TableCell className={styles.wide}>{time.format(new Date(job.createdAt))}</TableCell>
                <TableCell>
                  {CANCELLABLE.has(job.state) && (
                    <Button aria-label={`${words.cancel}: ${job.fileName}`} onClick={() => setCancelling(job)}>
                      {words.cancel}
                    </Button>
                  )}
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
      <Dialog open={cancelling !== undefined} onOpenChange={(_, data) => !data.open && setCancelling(undefined)}>
        <DialogSurface>
          <DialogBody>
            <DialogTitle>{words.cancelTitle}</DialogTitle>
            <DialogContent>{cancelling && words.cancelBody(cancelling.fileName)}</DialogContent>
            <DialogActions>
              <Button
                appearance="primary"
                onClick={() => {
                  const job = cancelling;
                  setCancelling(undefined);
                  if (job) void cancel(job);
                }}
              >
                {words.cancelConfirm}
              </Button>
              <Button onClick={() => setCancelling(undefined)}>{words.keep}</Button>
            </DialogActions>
          </DialogBody>
        </DialogSurface>
      </Dialog>
    </section>
  );
}
