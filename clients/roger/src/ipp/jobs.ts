import { dateTime, integer, keyword, nameAttr, outOfBand, strings, Tag, text, uri, type Attribute } from './encoding.js';
import type { JobTicket } from './job-template.js';
import { DEFAULT_MEDIUM } from './media.js';

/**
 * The IPP jobs this `roger printer` made, in memory (docs/clients.md#the-ipp-printer). An IPP job
 * is `processing` while its document goes up to the user's OneDrive and Roger registers it, and
 * `completed` once Roger has it queued: from there it is a Roger job, followed with `roger jobs`
 * and released at any Roger printer. It is `aborted` when Roger refused it or could not be
 * reached, `canceled` when the client cancelled it first. A job made by Create-Job is
 * `pending-held` (`job-incoming`) until its document comes with Send-Document.
 */
export const JobState = { pendingHeld: 4, processing: 5, canceled: 7, aborted: 8, completed: 9 } as const;
type JobStateValue = (typeof JobState)[keyof typeof JobState];

export interface IppJob {
  readonly id: number;
  readonly name: string;
  readonly user: string;
  documentFormat: string;
  kOctets: number;
  readonly ticket: JobTicket;
  state: JobStateValue;
  reasons: string[];
  message: string;
  /** printer-up-time values (seconds) and the matching times. */
  readonly createdAt: { readonly upTime: number; readonly date: Date };
  processingAt?: { readonly upTime: number; readonly date: Date };
  completedAt?: { readonly upTime: number; readonly date: Date };
  /** The Roger job, once registered. */
  rogerJobId?: string;
}

/** Completed jobs kept for Get-Jobs, oldest dropped first. */
const KEEP_FINISHED = 500;

export class JobTable {
  private readonly jobs = new Map<number, IppJob>();
  private nextId = 1;

  add(job: Omit<IppJob, 'id'>): IppJob {
    const stored: IppJob = { ...job, id: this.nextId++ };
    this.jobs.set(stored.id, stored);
    const finished = [...this.jobs.values()].filter(isFinished);
    for (const old of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(old.id);
    return stored;
  }

  get(id: number): IppJob | undefined {
    return this.jobs.get(id);
  }

  all(): IppJob[] {
    return [...this.jobs.values()];
  }

  get processing(): number {
    return this.all().filter((job) => job.state === JobState.processing).length;
  }
}

export const isFinished = (job: IppJob) => job.state >= JobState.canceled;

/** Every attribute of a job, for Get-Job-Attributes and Get-Jobs (RFC 8011 §5.3). */
export function jobAttributes(job: IppJob, printerUri: string, upTime: number): Attribute[] {
  const medium = job.ticket.medium ?? DEFAULT_MEDIUM;
  const time = (name: string, at: IppJob['processingAt']) => (at ? integer(name, at.upTime) : outOfBand(name, Tag.noValue));
  const date = (name: string, at: IppJob['processingAt']) => (at ? dateTime(name, at.date) : outOfBand(name, Tag.noValue));
  return [
    integer('job-id', job.id),
    uri('job-uri', jobUri(printerUri, job.id)),
    uri('job-printer-uri', printerUri),
    nameAttr('job-name', job.name),
    nameAttr('job-originating-user-name', job.user),
    { name: 'job-state', values: [{ tag: Tag.enum, value: job.state }] },
    keyword('job-state-reasons', ...job.reasons),
    text('job-state-message', job.message),
    integer('number-of-documents', 1),
    strings('document-format', Tag.mimeMediaType, job.documentFormat),
    integer('job-k-octets', job.kOctets),
    integer('time-at-creation', job.createdAt.upTime),
    time('time-at-processing', job.processingAt),
    time('time-at-completed', job.completedAt),
    integer('job-printer-up-time', upTime),
    dateTime('date-time-at-creation', job.createdAt.date),
    date('date-time-at-processing', job.processingAt),
    date('date-time-at-completed', job.completedAt),
    integer('copies', job.ticket.copies),
    keyword('sides', job.ticket.sides ?? 'two-sided-long-edge'),
    keyword('print-color-mode', job.ticket.colorMode ?? 'monochrome'),
    keyword('media', medium.name),
  ];
}

export const jobUri = (printerUri: string, id: number) => `${printerUri}/${id}`;

/** The job attributes RFC 8011 names as Job Template ones, for requested-attributes `job-template`. */
export const JOB_TEMPLATE_NAMES = new Set(['copies', 'sides', 'print-color-mode', 'media']);
