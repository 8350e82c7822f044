import { Type, type Static } from '@sinclair/typebox';
import { Conflict, NotFound } from '../errors.js';
import type { Services } from '../services.js';
import { replaceIfUnchanged } from '../store/conditional-replace.js';
import { isPreconditionFailed } from '../store/cosmos-errors.js';
import { queryPage, type Page, type PageRequest } from '../store/paging.js';
import type { Store } from '../store/store.js';
import { StringEnum } from '../string-enum.js';
import { newId } from '../tokens/secrets.js';

/**
 * Print jobs: metadata only (docs/data.md#jobs-jobs) — who (email and name or username), the file's name,
 * options, state and times. Never content, never a content hash.
 *
 *   registered ──ready──▶ queued ──release──▶ released ──printed──▶ printed
 *        │                 │   ▲                   │
 *        │                 │   └─────release─── failed ◀──failed──┘
 *        └──────cancel─────┴───▶ cancelled ◀──cancel──┘      (any: past retention → expired)
 *
 * A queued (or failed) job whose OneDrive file is gone at a release goes to failed (`missing`,
 * reason `document-missing`) without being sent.
 *
 * A failed job goes out again only when its owner asks for it (`release` of that one job), never
 * with a session's "all queued jobs": a document the printer cannot read would fail at every
 * session (docs/data.md#job-states).
 */
export const PaperSizeSchema = Type.Union([
  Type.Literal('A4'),
  Type.Literal('A3'),
  Type.Literal('A5'),
  Type.Literal('Letter'),
  Type.Literal('Legal'),
]);
export const JobOptionsSchema = Type.Object(
  {
    copies: Type.Integer({ minimum: 1, maximum: 999 }),
    duplex: Type.Boolean(),
    color: Type.Boolean(),
    paperSize: PaperSizeSchema,
  },
  { additionalProperties: false },
);
export type JobOptions = Static<typeof JobOptionsSchema>;
export const defaultJobOptions: JobOptions = { copies: 1, duplex: true, color: false, paperSize: 'A4' };

/** A plain file name: no path, no control characters (it is shown on panels and used in OneDrive). */
export const FileNameSchema = Type.String({
  minLength: 1,
  maxLength: 255,
  pattern: '^[^\\\\/:*?"<>|\\u0000-\\u001f\\u007f]+$',
  description: 'File name without a path; none of \\ / : * ? " < > | or control characters.',
});

export const JOB_STATES = ['registered', 'queued', 'released', 'printed', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const JobStateSchema = Type.Union(JOB_STATES.map((state) => Type.Literal(state)));

/**
 * Why a printer could not print a job it received, from a fixed list so that apps can say it in
 * their own words and languages (docs/flows.md#release-to-printers). Nothing free-form: a
 * printer's error text could carry anything, a file's content included.
 */
export const FAILURE_REASONS = [
  'paper-jam',
  'out-of-paper',
  'cancelled-at-panel',
  'document-unreadable',
  'document-missing',
  'download-failed',
  'printer-error',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];
export const FailureReasonSchema = StringEnum(FAILURE_REASONS, { description: 'Why the printer could not print the job.' });

/**
 * What the printer reports it printed (`POST /api/jobs/{id}/printed`), checked against the
 * options it was sent (docs/flows.md#what-was-printed). Personal data: exported and erased with
 * the user.
 */
export const PrintedCountsSchema = Type.Object(
  {
    pages: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Page sides printed, all copies.' }),
    sheets: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'Sheets of paper used.' }),
    colorPages: Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Of `pages`, those printed in colour.' }),
    duplex: Type.Boolean({ description: 'Printed on both sides.' }),
    paperSize: PaperSizeSchema,
  },
  { additionalProperties: false },
);
export type PrintedCounts = Static<typeof PrintedCountsSchema>;

/** Why a queued job was not sent at a release: it breaks the user's print rights and the tenant holds such jobs (docs/flows.md#print-rights). */
export const HOLD_REASONS = ['color-not-allowed', 'duplex-required', 'too-many-copies'] as const;
export type HoldReason = (typeof HOLD_REASONS)[number];
export const HoldReasonSchema = StringEnum(HOLD_REASONS, { description: 'Why the job was held at its last release (print rights).' });

/** A clean-up of the job's OneDrive file still to be done (the tenant's `afterPrint`; docs/flows.md#after-printing). */
export interface PendingCleanup {
  readonly action: 'delete' | 'move';
  /** When it is tried (again). */
  readonly due: string;
  /** Attempts that failed so far. */
  readonly attempts: number;
}

export interface JobDoc {
  readonly id: string;
  /** `<tenantId>|<userId>`: the partition. */
  readonly pk: string;
  readonly type: 'job';
  readonly tenantId: string;
  readonly userId: string;
  readonly userEmail: string;
  /** The username (not the full name); the release message shows it on the panel (docs/data.md#jobs-jobs). */
  readonly username: string;
  readonly fileName: string;
  readonly size: number;
  readonly options: JobOptions;
  readonly state: JobState;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly expiresAt: string;
  /** Cosmos TTL in seconds: the tenant's retention (plus ONEDRIVE_JOB_GRACE_SECONDS for a OneDrive job). */
  readonly ttl: number;
  /** Set on release: to which printer, in which release (message id = `<jobId>:<releaseId>`). */
  readonly releasedTo?: string;
  readonly releaseId?: string;
  readonly releasedAt?: string;
  /**
   * While a release is on its way (between claiming the job and marking it released): which
   * release holds it, and until when. Another release of the job gets 409 meanwhile; a claim
   * whose sender died lapses. Removed when the job is marked released.
   */
  readonly releaseClaim?: { readonly releaseId: string; readonly until: string };
  readonly printedAt?: string;
  /** Set when the printer reports it could not print the job; removed when the job is released again. */
  readonly failedReason?: FailureReason;
  readonly failedAt?: string;
  /**
   * How many times a printer reported the job failed. A release after the n-th failure is a new
   * release (message id `<jobId>:<sessionId>:<n>`), so the topic's duplicate detection does not drop
   * it when the same session sends the job again.
   */
  readonly failures?: number;
  /**
   * Present when the document goes through the user's OneDrive (docs/flows.md#print-jobs): the drive item,
   * known once the client confirmed the upload. A reference, never the content.
   */
  readonly onedrive?: { readonly itemId?: string };
  /** What the printer reported printing (docs/flows.md#what-was-printed). */
  readonly printed?: PrintedCounts;
  /** The options the printer was sent, when print rights changed them (downgrade). */
  readonly releasedOptions?: JobOptions;
  /** Set while a queued job is held back by print rights; removed when it is released. */
  readonly heldReason?: HoldReason;
  /** The OneDrive file's clean-up, while it is still to be done (Graph was down). */
  readonly cleanup?: PendingCleanup;
  /** What was done with the OneDrive file after printing, once done. */
  readonly cleanedUp?: 'deleted' | 'moved';
  /** The printed figures are not yet in the usage aggregates (a failure between the two writes; the sweep adds them). */
  readonly usagePending?: true;
  readonly _etag?: string;
}

export const JobSchema = Type.Object({
  id: Type.String(),
  fileName: Type.String(),
  size: Type.Integer(),
  options: JobOptionsSchema,
  state: JobStateSchema,
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  releasedTo: Type.Optional(Type.String()),
  releasedAt: Type.Optional(Type.String({ format: 'date-time' })),
  printedAt: Type.Optional(Type.String({ format: 'date-time' })),
  failedReason: Type.Optional(FailureReasonSchema),
  failedAt: Type.Optional(Type.String({ format: 'date-time' })),
  printed: Type.Optional(PrintedCountsSchema),
  releasedOptions: Type.Optional(JobOptionsSchema),
  heldReason: Type.Optional(HoldReasonSchema),
  cleanup: Type.Optional(
    Type.Object({
      action: StringEnum(['delete', 'move']),
      state: Type.Literal('pending'),
      nextAttemptAt: Type.String({ format: 'date-time' }),
    }),
  ),
  cleanedUp: Type.Optional(StringEnum(['deleted', 'moved'])),
  document: Type.Union([Type.Literal('onedrive'), Type.Literal('none')], {
    description: '`onedrive`: the printer downloads it from the user’s OneDrive; `none`: metadata only.',
  }),
});

/** What the API shows of a job (the owner's own name and email are not repeated on every job). */
export function publicJob(job: JobDoc) {
  return {
    id: job.id,
    fileName: job.fileName,
    size: job.size,
    options: job.options,
    state: job.state,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    expiresAt: job.expiresAt,
    ...(job.releasedTo ? { releasedTo: job.releasedTo } : {}),
    ...(job.releasedAt ? { releasedAt: job.releasedAt } : {}),
    ...(job.printedAt ? { printedAt: job.printedAt } : {}),
    ...(job.failedReason ? { failedReason: job.failedReason } : {}),
    ...(job.failedAt ? { failedAt: job.failedAt } : {}),
    ...(job.printed ? { printed: job.printed } : {}),
    ...(job.releasedOptions ? { releasedOptions: job.releasedOptions } : {}),
    ...(job.heldReason ? { heldReason: job.heldReason } : {}),
    ...(job.cleanup ? { cleanup: { action: job.cleanup.action, state: 'pending' as const, nextAttemptAt: job.cleanup.due } } : {}),
    ...(job.cleanedUp ? { cleanedUp: job.cleanedUp } : {}),
    document: job.onedrive ? ('onedrive' as const) : ('none' as const),
  };
}

export const jobPartition = (tenantId: string, userId: string) => `${tenantId}|${userId}`;

/** What a client asks to print: the document's name and size, and how. */
export interface JobRequest {
  readonly fileName: string;
  readonly size: number;
  readonly options?: Partial<JobOptions>;
}

export interface JobOwner {
  readonly tenantId: string;
  readonly userId: string;
  readonly email: string;
  readonly username: string;
}

/**
 * How long a OneDrive job's item stays past its expiry at most: the after-print sweep
 * (after-print.ts) applies the tenant's policy to its file, then deletes the item itself, within
 * minutes unless Graph is down; Cosmos's TTL deletes it after this grace only if the sweep could
 * not (its clean-up retries end well within it).
 */
export const ONEDRIVE_JOB_GRACE_SECONDS = 3 * 86400;

/**
 * A new job, not yet stored. It starts `registered` (its document is still to come, or there is
 * none), except one printed from the Print folder: its file is there already, so it starts `queued`.
 */
export function newJob(
  id: string,
  owner: JobOwner,
  retentionHours: number,
  input: JobRequest,
  /** `upload`: the client uploads to OneDrive next; `itemId`: the file is there already (printing from the Print folder). */
  onedrive: { upload: true } | { itemId: string } | undefined,
  now: Date,
): JobDoc {
  const retention = retentionHours * 3600;
  return {
    id,
    pk: jobPartition(owner.tenantId, owner.userId),
    type: 'job',
    tenantId: owner.tenantId,
    userId: owner.userId,
    userEmail: owner.email,
    username: owner.username,
    fileName: input.fileName,
    size: input.size,
    options: { ...defaultJobOptions, ...input.options },
    state: onedrive && 'itemId' in onedrive ? 'queued' : 'registered',
    ...(onedrive ? { onedrive: 'itemId' in onedrive ? { itemId: onedrive.itemId } : {} } : {}),
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + retention * 1000).toISOString(),
    // A OneDrive job's item outlives its retention so the sweep can still clean up its file, then deletes it (docs/data.md#jobs-jobs).
    ttl: onedrive ? retention + ONEDRIVE_JOB_GRACE_SECONDS : retention,
  };
}

/** Stores a new job (see newJob). */
export async function registerJob(
  { store, now }: Pick<Services, 'store' | 'now'>,
  owner: JobOwner,
  retentionHours: number,
  input: JobRequest,
  onedrive?: { upload: true } | { itemId: string },
): Promise<JobDoc> {
  const { resource } = await store.container('jobs').items.create(newJob(newId(), owner, retentionHours, input, onedrive, now()));
  return resource!;
}

/** Past its retention a job is gone for its owner at once, though Cosmos may delete it (TTL) a little later. */
export const isLive = (job: JobDoc, now: Date) => Date.parse(job.expiresAt) > now.getTime();

/** One of the caller's own jobs (a point read in their partition), never an expired one. */
export async function readJob(store: Store, tenantId: string, userId: string, jobId: string, now: Date): Promise<JobDoc | undefined> {
  const { resource } = await store.container('jobs').item(jobId, jobPartition(tenantId, userId)).read<JobDoc>();
  return resource?.type === 'job' && isLive(resource, now) ? resource : undefined;
}

export async function requireJob(store: Store, tenantId: string, userId: string, jobId: string, now: Date): Promise<JobDoc> {
  const job = await readJob(store, tenantId, userId, jobId, now);
  if (!job) throw new NotFound('no such job');
  return job;
}

/**
 * The caller's live jobs, newest first, one page at a time. The partition field is in the WHERE
 * clause (not only the request option): the local server ignores the option, Azure honours both.
 */
export async function listJobs(
  store: Store,
  tenantId: string,
  userId: string,
  now: Date,
  page: PageRequest & { state?: JobState },
): Promise<Page<JobDoc>> {
  const pk = jobPartition(tenantId, userId);
  const conditions = ['c.pk = @pk', "c.type = 'job'", 'c.expiresAt > @now', ...(page.state ? ['c.state = @state'] : [])];
  const query = {
    query: `SELECT * FROM c WHERE ${conditions.join(' AND ')} ORDER BY c.createdAt DESC`,
    parameters: [
      { name: '@pk', value: pk },
      { name: '@now', value: now.toISOString() },
      ...(page.state ? [{ name: '@state', value: page.state }] : []),
    ],
  };
  return queryPage<JobDoc>(store.container('jobs'), query, pk, page);
}

/** The caller's queued jobs (for release), oldest first, at most `limit`. */
export async function queuedJobs(store: Store, tenantId: string, userId: string, now: Date, limit: number): Promise<JobDoc[]> {
  const pk = jobPartition(tenantId, userId);
  const { resources } = await store
    .container('jobs')
    .items.query<JobDoc>(
      {
        query: "SELECT * FROM c WHERE c.pk = @pk AND c.type = 'job' AND c.state = 'queued' AND c.expiresAt > @now ORDER BY c.createdAt ASC",
        parameters: [
          { name: '@pk', value: pk },
          { name: '@now', value: now.toISOString() },
        ],
      },
      { partitionKey: pk, maxItemCount: limit },
    )
    .fetchNext();
  return resources.slice(0, limit);
}

const transitions = {
  ready: { from: ['registered'], to: 'queued', verb: 'made ready' },
  release: { from: ['queued', 'failed'], to: 'released', verb: 'released' },
  printed: { from: ['released'], to: 'printed', verb: 'marked printed' },
  failed: { from: ['released'], to: 'failed', verb: 'marked failed' },
  // Found gone at a release (its OneDrive file deleted or moved): failed with `document-missing`
  // there and then, instead of held back at every release until it expires (docs/flows.md#release-to-printers).
  missing: { from: ['queued', 'failed'], to: 'failed', verb: 'marked missing' },
  cancel: { from: ['registered', 'queued', 'failed'], to: 'cancelled', verb: 'cancelled' },
} as const satisfies Record<string, { from: readonly JobState[]; to: JobState; verb: string }>;
export type JobTransition = keyof typeof transitions;

/** Does the state machine allow `transition` from `state`? (`printed` and `cancelled` are final.) */
export function canTransition(state: JobState, transition: JobTransition): boolean {
  return (transitions[transition].from as readonly JobState[]).includes(state);
}

/** 409 unless the state machine allows `transition` from the job's current state. */
export function assertTransition(job: JobDoc, transition: JobTransition): void {
  if (!canTransition(job.state, transition)) {
    throw new Conflict(`a ${job.state} job cannot be ${transitions[transition].verb}`, { state: job.state });
  }
}

/**
 * The job after `transition` (409 if not allowed), with `extra` (when and where it happened). A
 * release claim ends with the state it was for; a failure's reason and time end when the job
 * leaves `failed` (its count stays: it names the next release); a print-rights hold ends when the
 * job leaves `queued`; a release's changed options are those of the latest release only.
 */
export function transitioned(job: JobDoc, transition: JobTransition, now: Date, extra: Partial<JobDoc> = {}): JobDoc {
  assertTransition(job, transition);
  const { releaseClaim: _claim, failedReason: _reason, failedAt: _at, heldReason: _held, releasedOptions, ...unclaimed } = job;
  const kept = transition === 'release' || !releasedOptions ? {} : { releasedOptions };
  return { ...unclaimed, ...kept, ...extra, state: transitions[transition].to, updatedAt: now.toISOString() };
}

/**
 * Longer than any one invocation may run (host.json functionTimeout: 2 minutes), sends
 * included: a claim lapses only when its release can no longer be running.
 */
export const RELEASE_CLAIM_SECONDS = 150;

/**
 * The job claimed for release `releaseId` until RELEASE_CLAIM_SECONDS from now. 409 unless it is
 * queued (or failed, released again on its own), or while another release holds a live claim; a lapsed claim (its sender died) is
 * taken over, and a release may renew its own.
 */
export function claimedFor(job: JobDoc, releaseId: string, now: Date): JobDoc {
  assertTransition(job, 'release');
  const held = job.releaseClaim;
  if (held && held.releaseId !== releaseId && Date.parse(held.until) > now.getTime()) {
    throw new Conflict('the job is being released at the same time; read it again', { state: job.state });
  }
  return { ...job, releaseClaim: { releaseId, until: new Date(now.getTime() + RELEASE_CLAIM_SECONDS * 1000).toISOString() } };
}

/**
 * Claims a queued job for one release before its message is sent (docs/data.md#job-states): a conditional
 * write, so of releases racing from different sessions or printers — whose message ids differ,
 * so duplicate detection cannot help — exactly one sends. The job stays `queued` until it is
 * marked released; a failed send gives the claim back (`unclaimRelease`). 409 when another
 * release holds a live claim or wins the write.
 */
export async function claimRelease(store: Store, job: JobDoc, releaseId: string, now: Date): Promise<JobDoc> {
  const claimed = claimedFor(job, releaseId, now);
  try {
    return await replaceIfUnchanged(store.container('jobs'), claimed, job.pk);
  } catch (error) {
    if (isPreconditionFailed(error)) throw new Conflict('the job changed at the same time; read it again', { state: job.state });
    throw error;
  }
}

/** Gives a claim back after a failed send, so the job can be released again at once. Best effort: a claim lapses anyway. */
export async function unclaimRelease(store: Store, claimed: JobDoc): Promise<void> {
  const { releaseClaim: _released, ...job } = claimed;
  await replaceIfUnchanged(store.container('jobs'), job, job.pk).catch(() => undefined);
}

/**
 * Moves a job to its next state, if the state machine allows it (409 otherwise), with a write
 * conditional on the ETag: two racing transitions of one job cannot both succeed.
 */
export async function transitionJob(
  store: Store,
  job: JobDoc,
  transition: JobTransition,
  now: Date,
  extra: Partial<JobDoc> = {},
): Promise<JobDoc> {
  const next = transitioned(job, transition, now, extra);
  try {
    return await replaceIfUnchanged(store.container('jobs'), next, job.pk);
  } catch (error) {
    if (isPreconditionFailed(error)) throw new Conflict('the job changed at the same time; read it again');
    throw error;
  }
}
