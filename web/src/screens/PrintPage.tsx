// "Print a file" (docs/web-app.md#printing-a-file-and-onedrive): pick a document (file picker or
// drop), choose copies, duplex, colour and paper size, register the job (POST /api/jobs), upload
// the bytes from the browser straight to the OneDrive upload URL the API returned (chunked, with
// progress and resume, upload/resumable-upload.ts), then tell the API it is there (ready → queued).
// An upload that fails or is cancelled leaves nothing behind: its session and its job are deleted.
import {
  Button,
  Field,
  Link,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  ProgressBar,
  Select,
  SpinButton,
  Spinner,
  Switch,
  Text,
  makeStyles,
  tokens,
} from '@fluentui/react-components';
import { useEffect, useId, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { ApiProblem, apiJson, problemWords } from '../api.js';
import { useLanguage, useWords, type Bilingual } from '../i18n.js';
import { reloadMe, useMe } from '../me.js';
import type { ProblemWords } from '../problem.js';
import { followLink, navigate } from '../router.js';
import { Page, ProblemBar } from '../ui.js';
import { UploadFailed, cancelSession, uploadToSession, type UploadResult } from '../upload/resumable-upload.js';
import { xhrSendRange } from '../upload/xhr-range.js';

/** What the API accepts (functions/jobs.ts, shared/jobs/jobs.ts): checked here first so a refusal costs no upload. */
const MAX_FILE_SIZE = 2 * 1024 ** 3;
const MAX_COPIES = 999;
const FORBIDDEN_IN_NAME = /[\\/:*?"<>|]/;
const hasControlCharacter = (name: string) => [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
const PAPER_SIZES = ['A4', 'A3', 'A5', 'Letter', 'Legal'] as const;
type PaperSize = (typeof PAPER_SIZES)[number];

interface Job {
  id: string;
  fileName: string;
  state: string;
  upload?: { url: string; expiresAt: string };
}

type Stage =
  | { kind: 'form'; cancelled?: boolean }
  | { kind: 'uploading'; sent: number; total: number; retrying: boolean }
  | { kind: 'queued'; fileName: string }
  | { kind: 'failed'; problem: ProblemWords };

const WORDS: Bilingual<{
  title: string;
  intro: string;
  file: string;
  fileHint: string;
  drop: string;
  choose: string;
  chosen: (name: string, size: string) => string;
  noFile: string;
  empty: string;
  tooLarge: string;
  badName: string;
  copies: string;
  copiesRange: string;
  duplex: string;
  color: string;
  paper: string;
  print: string;
  uploading: (name: string) => string;
  progress: (sent: string, total: string) => string;
  retrying: string;
  cancel: string;
  cancelled: string;
  queuedTitle: string;
  queued: (name: string) => string;
  seeJobs: string;
  another: string;
  failed: string;
  expired: string;
  network: string;
  refused: string;
  badSize: string;
  notConnectedTitle: string;
  notConnected: string;
  reconnectTitle: string;
  reconnect: string;
  goOneDrive: string;
  loadingMe: string;
}> = {
  en: {
    title: 'Print a file',
    intro: 'The document goes from this device straight to the Print folder of your OneDrive, then waits for you at any printer.',
    file: 'Document',
    fileHint: 'Choose a file, or drop one on this area. Up to 2 GB.',
    drop: 'Drop the file here',
    choose: 'Choose a file',
    chosen: (name, size) => `${name} (${size})`,
    noFile: 'Choose a document to print.',
    empty: 'This file is empty.',
    tooLarge: 'This file is larger than 2 GB, the most Roger accepts.',
    badName: 'OneDrive does not accept this file name: rename the file without \\ / : * ? " < > | and try again.',
    copies: 'Copies',
    copiesRange: 'From 1 to 999 copies.',
    duplex: 'Both sides',
    color: 'Colour',
    paper: 'Paper size',
    print: 'Print',
    uploading: (name) => `Sending “${name}” to your OneDrive`,
    progress: (sent, total) => `${sent} of ${total}`,
    retrying: 'The connection dropped. Trying again from where it stopped…',
    cancel: 'Cancel',
    cancelled: 'The upload was cancelled: nothing will print.',
    queuedTitle: 'Ready to print',
    queued: (name) => `“${name}” is queued. Release it at any printer.`,
    seeJobs: 'See my jobs',
    another: 'Print another file',
    failed: 'The document could not be sent',
    expired: 'The upload took too long and OneDrive closed it. Choose Print again to start over.',
    network: 'OneDrive could not be reached. Check your connection and choose Print again.',
    refused: 'OneDrive refused the document. Choose Print to try again.',
    badSize: 'Roger does not accept a file of this size (1 byte to 2 GB).',
    notConnectedTitle: 'OneDrive is not connected',
    notConnected: 'Roger keeps your documents in your OneDrive. Connect it first, then come back to print.',
    reconnectTitle: 'OneDrive needs to be connected again',
    reconnect: 'Roger can no longer reach your OneDrive (its permission was withdrawn or has lapsed). Reconnect it, then print.',
    goOneDrive: 'Go to OneDrive',
    loadingMe: 'Checking your OneDrive…',
  },
  fr: {
    title: 'Imprimer un fichier',
    intro:
      'Le document part de cet appareil directement dans le dossier Print de votre OneDrive, puis vous attend à n’importe quelle imprimante.',
    file: 'Document',
    fileHint: 'Choisissez un fichier ou déposez-le sur cette zone. Jusqu’à 2 Go.',
    drop: 'Déposez le fichier ici',
    choose: 'Choisir un fichier',
    chosen: (name, size) => `${name} (${size})`,
    noFile: 'Choisissez un document à imprimer.',
    empty: 'Ce fichier est vide.',
    tooLarge: 'Ce fichier dépasse 2 Go, le maximum accepté par Roger.',
    badName: 'OneDrive n’accepte pas ce nom de fichier\u00a0: renommez le fichier sans \\ / : * ? " < > | et réessayez.',
    copies: 'Copies',
    copiesRange: 'De 1 à 999 copies.',
    duplex: 'Recto verso',
    color: 'Couleur',
    paper: 'Format du papier',
    print: 'Imprimer',
    uploading: (name) => `Envoi de « ${name} » vers votre OneDrive`,
    progress: (sent, total) => `${sent} sur ${total}`,
    retrying: 'La connexion a été coupée. Nouvel essai à partir de l’endroit où elle s’est arrêtée…',
    cancel: 'Annuler',
    cancelled: 'L’envoi a été annulé\u00a0: rien ne sera imprimé.',
    queuedTitle: 'Prêt à imprimer',
    queued: (name) => `« ${name} » est en attente. Libérez-le à n’importe quelle imprimante.`,
    seeJobs: 'Voir mes impressions',
    another: 'Imprimer un autre fichier',
    failed: 'Le document n’a pas pu être envoyé',
    expired: 'L’envoi a pris trop de temps et OneDrive l’a fermé. Choisissez Imprimer pour recommencer.',
    network: 'OneDrive est injoignable. Vérifiez votre connexion et choisissez Imprimer à nouveau.',
    refused: 'OneDrive a refusé le document. Choisissez Imprimer pour réessayer.',
    badSize: 'Roger n’accepte pas un fichier de cette taille (de 1\u00a0octet à 2\u00a0Go).',
    notConnectedTitle: 'OneDrive n’est pas connecté',
    notConnected: 'Roger garde vos documents dans votre OneDrive. Connectez-le d’abord, puis revenez imprimer.',
    reconnectTitle: 'OneDrive doit être reconnecté',
    reconnect: 'Roger ne peut plus atteindre votre OneDrive (l’autorisation a été retirée ou a expiré). Reconnectez-le, puis imprimez.',
    goOneDrive: 'Aller à OneDrive',
    loadingMe: 'Vérification de votre OneDrive…',
  },
};

const useStyles = makeStyles({
  form: { display: 'flex', flexDirection: 'column', gap: tokens.spacingVerticalL, maxWidth: '560px' },
  drop: {
    display: 'flex',
    flexDirection: 'column',
    gap: tokens.spacingVerticalS,
    padding: tokens.spacingHorizontalL,
    border: `${tokens.strokeWidthThick} dashed ${tokens.colorNeutralStroke1}`,
    borderRadius: tokens.borderRadiusLarge,
  },
  dropping: { border: `${tokens.strokeWidthThick} dashed ${tokens.colorBrandStroke1}`, backgroundColor: tokens.colorBrandBackground2 },
  name: { overflowWrap: 'anywhere' },
  row: { display: 'flex', flexWrap: 'wrap', alignItems: 'flex-start', gap: tokens.spacingHorizontalXL },
  actions: { display: 'flex', flexWrap: 'wrap', gap: tokens.spacingHorizontalM },
});

/** The check the API makes (and OneDrive's names), as a message for the file field; undefined when fine. */
function refusal(file: File | undefined, words: (typeof WORDS)['en']): string | undefined {
  if (!file) return words.noFile;
  if (file.size === 0) return words.empty;
  if (file.size > MAX_FILE_SIZE) return words.tooLarge;
  if (FORBIDDEN_IN_NAME.test(file.name) || hasControlCharacter(file.name) || file.name.trim() === '' || file.name.length > 255)
    return words.badName;
  return undefined;
}

export function PrintPage() {
  const words = useWords(WORDS);
  const styles = useStyles();
  const me = useMe();
  const [file, setFile] = useState<File | undefined>();
  const [copies, setCopies] = useState(1);
  const [duplex, setDuplex] = useState(true);
  const [color, setColor] = useState(false);
  const [paperSize, setPaperSize] = useState<PaperSize>('A4');
  const [fileError, setFileError] = useState<string | undefined>();
  const [stage, setStage] = useState<Stage>({ kind: 'form' });
  const [dropping, setDropping] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const hintId = useId();
  const fileButton = useRef<HTMLButtonElement>(null);
  const stopping = useRef<AbortController | undefined>(undefined);
  const [language] = useLanguage();
  // The OneDrive status may have changed since the app loaded (connected in another tab, or lapsed).
  useEffect(() => void reloadMe(), []);
  const bytes = (n: number) =>
    new Intl.NumberFormat(language, { style: 'unit', unit: n >= 1024 ** 2 ? 'megabyte' : 'kilobyte', maximumFractionDigits: 1 }).format(
      n >= 1024 ** 2 ? n / 1024 ** 2 : n / 1024,
    );

  if (me.kind === 'loading') return <Spinner label={words.loadingMe} />;
  if (me.kind === 'failed') return <ProblemBar problem={problemWords(me.error, words.failed)} />;
  const status = me.me.onedrive?.status ?? 'not-connected';

  const choose = (chosen: File | undefined) => {
    setFile(chosen);
    setFileError(chosen ? refusal(chosen, words) : undefined);
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDropping(false);
    choose(event.dataTransfer.files[0]);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const refused = refusal(file, words);
    setFileError(refused);
    if (refused || !file) return fileButton.current?.focus();
    setStage({ kind: 'uploading', sent: 0, total: file.size, retrying: false });
    const stop = new AbortController();
    stopping.current = stop;
    let job: Job | undefined;
    try {
      job = await apiJson<Job>('/api/jobs', {
        method: 'POST',
        body: { fileName: file.name, size: file.size, options: { copies, duplex, color, paperSize } },
      });
      if (!job.upload) {
        // OneDrive was disconnected meanwhile: the job is metadata only, of no use here.
        await forget(job);
        await reloadMe();
        return setStage({ kind: 'form' });
      }
      const result: UploadResult = await uploadToSession(job.upload.url, file, {
        signal: stop.signal,
        sendRange: xhrSendRange,
        onProgress: (sent) => setStage({ kind: 'uploading', sent, total: file.size, retrying: false }),
        onRetry: () => setStage((now) => (now.kind === 'uploading' ? { ...now, retrying: true } : now)),
      });
      // Without the item (the last answer was lost), the API looks for the file by name and size; 404: it never arrived.
      const ready = 'item' in result ? { itemId: result.item.id } : undefined;
      await apiJson(`/api/jobs/${encodeURIComponent(job.id)}/ready`, { method: 'POST', body: ready }).catch((error: unknown) => {
        if (!ready && error instanceof ApiProblem && error.status === 404) throw new UploadFailed('expired', 'not found');
        throw error;
      });
      setStage({ kind: 'queued', fileName: file.name });
    } catch (error) {
      if (job) await forget(job);
      if (error instanceof UploadFailed && error.reason === 'cancelled') return setStage({ kind: 'form', cancelled: true });
      if (error instanceof ApiProblem && error.status === 409 && !job) {
        await reloadMe(); // reconnect-required: the screen then says so and links to OneDrive
        return setStage({ kind: 'form' });
      }
      const field = error instanceof ApiProblem ? fieldProblem(error) : undefined;
      if (field) {
        setFileError(field === 'fileName' ? words.badName : words.badSize);
        return setStage({ kind: 'form' });
      }
      const detail =
        error instanceof UploadFailed
          ? { expired: words.expired, network: words.network, refused: words.refused, cancelled: words.cancelled }[error.reason]
          : undefined;
      setStage({ kind: 'failed', problem: detail ? { title: words.failed, detail } : problemWords(error, words.failed) });
    } finally {
      stopping.current = undefined;
    }
  };

  if (status !== 'connected') {
    const reconnect = status === 'reconnect-required';
    return (
      <Page title={words.title}>
        <MessageBar intent="warning">
          <MessageBarBody>
            <MessageBarTitle>{reconnect ? words.reconnectTitle : words.notConnectedTitle}</MessageBarTitle>
            {reconnect ? words.reconnect : words.notConnected}
          </MessageBarBody>
        </MessageBar>
        <div>
          <Link href="/app/onedrive" onClick={(event) => followLink(event, '/app/onedrive')}>
            {words.goOneDrive}
          </Link>
        </div>
      </Page>
    );
  }

  if (stage.kind === 'queued') {
    return (
      <Page title={words.title}>
        <MessageBar intent="success">
          <MessageBarBody>
            <MessageBarTitle>{words.queuedTitle}</MessageBarTitle>
            <span className={styles.name}>{words.queued(stage.fileName)}</span>
          </MessageBarBody>
        </MessageBar>
        <div className={styles.actions}>
          <Button appearance="primary" onClick={() => navigate('/app/')}>
            {words.seeJobs}
          </Button>
          <Button
            onClick={() => {
              setFile(undefined);
              setStage({ kind: 'form' });
            }}
          >
            {words.another}
          </Button>
        </div>
      </Page>
    );
  }

  const uploading = stage.kind === 'uploading';
  return (
    <Page title={words.title}>
      <Text>{words.intro}</Text>
      {stage.kind === 'failed' && <ProblemBar problem={stage.problem} />}
      {stage.kind === 'form' && stage.cancelled && (
        <MessageBar intent="info">
          <MessageBarBody>{words.cancelled}</MessageBarBody>
        </MessageBar>
      )}
      <form className={styles.form} onSubmit={(event) => void submit(event)} noValidate>
        <Field label={words.file} required validationMessage={fileError} hint={words.fileHint}>
          {(field) => (
            <div
              className={dropping ? `${styles.drop} ${styles.dropping}` : styles.drop}
              onDragOver={(event) => {
                event.preventDefault();
                setDropping(true);
              }}
              onDragLeave={() => setDropping(false)}
              onDrop={onDrop}
            >
              {/* The browser's own picker button speaks the browser's language, not the app's: a Fluent button opens it. */}
              <input ref={input} type="file" hidden onChange={(event) => choose(event.target.files?.[0])} />
              <div>
                <Button
                  // Named by its own words ("Choose a file"), not the field's label; described by the hint and any error.
                  aria-invalid={field['aria-invalid']}
                  ref={fileButton}
                  disabled={uploading}
                  onClick={() => input.current?.click()}
                  aria-describedby={[field['aria-describedby'], hintId].filter(Boolean).join(' ') || undefined}
                >
                  {words.choose}
                </Button>
              </div>
              <Text id={hintId} className={styles.name}>
                {file ? words.chosen(file.name, bytes(file.size)) : words.drop}
              </Text>
            </div>
          )}
        </Field>
        <div className={styles.row}>
          <Field label={words.copies} hint={words.copiesRange}>
            <SpinButton
              value={copies}
              min={1}
              max={MAX_COPIES}
              disabled={uploading}
              onChange={(_event, data) => {
                const next = data.value ?? Number.parseInt(data.displayValue ?? '', 10);
                if (Number.isInteger(next)) setCopies(Math.min(MAX_COPIES, Math.max(1, next as number)));
              }}
            />
          </Field>
          <Field label={words.paper}>
            <Select value={paperSize} disabled={uploading} onChange={(_event, data) => setPaperSize(data.value as PaperSize)}>
              {PAPER_SIZES.map((paper) => (
                <option key={paper} value={paper}>
                  {paper}
                </option>
              ))}
            </Select>
          </Field>
        </div>
        <div className={styles.row}>
          <Switch label={words.duplex} checked={duplex} disabled={uploading} onChange={(_event, data) => setDuplex(data.checked)} />
          <Switch label={words.color} checked={color} disabled={uploading} onChange={(_event, data) => setColor(data.checked)} />
        </div>
        {uploading && file && (
          <Field
            label={words.uploading(file.name)}
            validationState={stage.retrying ? 'warning' : 'none'}
            validationMessage={stage.retrying ? words.retrying : words.progress(bytes(stage.sent), bytes(stage.total))}
          >
            <ProgressBar value={stage.sent} max={stage.total} thickness="large" />
          </Field>
        )}
        <div className={styles.actions}>
          <Button appearance="primary" type="submit" disabled={uploading}>
            {words.print}
          </Button>
          {uploading && <Button onClick={() => stopping.current?.abort()}>{words.cancel}</Button>}
        </div>
      </form>
    </Page>
  );
}

/**
 * Which field of the file an API 400 is about (name or size), for the screen's own words: the
 * API's detail is the validator's English.
 */
function fieldProblem(error: ApiProblem): 'fileName' | 'size' | undefined {
  const errors = error.body?.errors;
  if (error.status !== 400 || !Array.isArray(errors)) return undefined;
  const pointers = (errors as { pointer?: unknown }[]).map((entry) => entry.pointer);
  return pointers.includes('/body/fileName') ? 'fileName' : pointers.includes('/body/size') ? 'size' : undefined;
}

/**
 * A job whose upload did not finish, and its upload session, deleted (best effort, 10 s at most:
 * a session also lapses by itself, and a job left behind can still be cancelled in My jobs).
 */
async function forget(job: Job): Promise<void> {
  await Promise.all([
    job.upload ? cancelSession(job.upload.url) : undefined,
    apiJson(`/api/jobs/${encodeURIComponent(job.id)}`, { method: 'DELETE', signal: AbortSignal.timeout(10_000) }).catch(() => undefined),
  ]);
}
