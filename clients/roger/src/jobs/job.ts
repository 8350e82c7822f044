import type { Session } from '../credentials.js';

/**
 * A print job as the API shows it to its owner (`GET /api/jobs`, docs/clients.md#following-jobs):
 * metadata only. The states run registered → queued → released → printed; a job not yet printed
 * can be cancelled; a printer that could not print reports it failed, with a reason, and the
 * job waits there for its owner to release it again or cancel it. A state roger does not know
 * yet is shown as it comes and treated as not settled.
 */
export interface Job {
  readonly id: string;
  readonly fileName: string;
  readonly size: number;
  readonly state: string;
  readonly options: { readonly copies: number; readonly duplex: boolean; readonly color: boolean; readonly paperSize: string };
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly expiresAt: string;
  readonly releasedTo?: string;
  readonly releasedAt?: string;
  readonly printedAt?: string;
  /** Why the printer could not print it (`paper-jam`, `download-failed`, …), while `failed`. */
  readonly failedReason?: string;
  readonly failedAt?: string;
  readonly document?: 'onedrive' | 'none';
}

interface JobPage {
  readonly items: Job[];
  readonly continuationToken: string | null;
}

/**
 * States in which nothing more happens to a job by itself: done, or (failed) waiting for its
 * owner. `expired` is roger's own word for a job that reached its retention while watched.
 */
const SETTLED_STATES: ReadonlySet<string> = new Set(['printed', 'cancelled', 'failed', 'expired']);

export const isSettled = (state: string) => SETTLED_STATES.has(state);

/** The newest `limit` of the user's jobs (newest first), following the API's pages. */
export async function recentJobs(session: Session, limit: number, state?: string): Promise<Job[]> {
  const jobs: Job[] = [];
  let continuationToken: string | null = null;
  do {
    const query = new URLSearchParams({ limit: String(Math.min(100, limit - jobs.length)) });
    if (state) query.set('state', state);
    if (continuationToken) query.set('continuationToken', continuationToken);
    const page: JobPage = await session.call<JobPage>(`/api/jobs?${query}`);
    jobs.push(...page.items);
    continuationToken = page.continuationToken;
  } while (continuationToken && jobs.length < limit);
  return jobs.slice(0, limit);
}

export const readJob = (session: Session, id: string) => session.call<Job>(`/api/jobs/${encodeURIComponent(id)}`);
