import { describe, expect, it } from 'vitest';
import { Conflict, Unavailable } from '../../shared/errors.js';
import { claimedFor, newJob, transitioned, type JobDoc } from '../../shared/jobs/jobs.js';
import {
  afterClaims,
  afterFailedSend,
  afterMarks,
  afterUnsentMarks,
  heldJob,
  jobsNeedingDownloads,
  markFor,
  notDispatched,
  nothingToRelease,
  planRelease,
  RELEASE_MESSAGE_TTL_SECONDS,
  releasedFields,
  sortWrites,
  type DownloadLink,
  type ReleasePlan,
} from '../../shared/release/plan.js';
import type { PersonRights } from '../../shared/release/print-rights.js';

/**
 * The release planner (shared/release/plan.ts) without a store or a broker: which jobs go to a
 * session's printer and with what message, what the claims and marks that came back mean, and
 * what a failed send leaves behind. release.ts does the I/O between these steps; the e2e, race
 * and fault tests drive it against the local servers.
 */
const owner = { tenantId: 't1', userId: 'u1', email: 'uma@example.com', username: 'uma' };
const target = { tenantId: 't1', userId: 'u1', deviceId: 'printer-1', sessionId: 'session-1' };
const now = new Date('2026-03-01T10:00:00.000Z');
const inMinutes = (minutes: number) => new Date(now.getTime() + minutes * 60_000);

const metadataJob = (id: string, options?: Partial<JobDoc['options']>) =>
  newJob(id, owner, 7, { fileName: `${id}.pdf`, size: 10, ...(options ? { options } : {}) }, undefined, now);
const onedriveJob = (id: string) =>
  transitioned(newJob(id, owner, 7, { fileName: `${id}.pdf`, size: 10 }, { upload: true }, now), 'ready', now, {
    onedrive: { itemId: `item-${id}` },
  });
const queued = (job: JobDoc) => (job.state === 'queued' ? job : transitioned(job, 'ready', now));
const link = (url: string, minutes = 30): DownloadLink => ({ url, expiresAt: inMinutes(minutes) });

const fulfilled = (job: JobDoc): PromiseSettledResult<JobDoc> => ({ status: 'fulfilled', value: job });
const rejected = (reason: unknown): PromiseSettledResult<JobDoc> => ({ status: 'rejected', reason });
const lostToAnotherRelease = () => rejected(new Conflict('the job is being released at the same time; read it again', { state: 'queued' }));
const storeDown = () => rejected(Object.assign(new Error('service unavailable'), { code: 503 }));
const claim = (job: JobDoc) => fulfilled(claimedFor(job, target.sessionId, now));

describe('planRelease: which jobs go, with which message', () => {
  it('sends every job asked, in order, one message each, addressed to the session’s printer', () => {
    const jobs = ['a', 'b', 'c'].map((id) => queued(metadataJob(id)));
    const plan = planRelease(jobs, target, now, { links: new Map() });
    expect(plan.held).toEqual([]);
    expect(plan.heldBack).toBeUndefined();
    expect(plan.sends.map(({ job }) => job.id)).toEqual(['a', 'b', 'c']);
    for (const { job, message } of plan.sends) {
      // Same job, same session: same message id, so the topic drops a retried send.
      expect(message.messageId).toBe(`${job.id}:session-1`);
      expect(message.correlationId).toBe('session-1');
      expect(message.applicationProperties).toEqual({ printerId: 'printer-1' });
      expect(message.body).toMatchObject({
        type: 'release',
        jobId: job.id,
        fileName: job.fileName,
        user: { username: 'uma' },
        downloadUrl: null,
        releasedAt: now.toISOString(),
      });
      expect(message.timeToLive).toBe(RELEASE_MESSAGE_TTL_SECONDS * 1000);
    }
  });

  it('gives a OneDrive job its download URL, and the message never outlives it', () => {
    const job = onedriveJob('d');
    const plan = planRelease([job], target, now, { links: new Map([['d', link('https://graph.example/d', 5)]]) });
    const [send] = plan.sends;
    expect(send!.message.body).toMatchObject({ downloadUrl: 'https://graph.example/d', downloadUrlExpiresAt: inMinutes(5).toISOString() });
    expect(send!.message.timeToLive).toBe(5 * 60_000);
  });

  it('holds back OneDrive jobs without a download URL (file or consent gone, Graph down); the others still go', () => {
    const problem = new Unavailable(10, 'OneDrive is busy; try again shortly');
    const jobs = [queued(metadataJob('m')), onedriveJob('with-url'), onedriveJob('without-url')];
    const plan = planRelease(jobs, target, now, { links: new Map([['with-url', link('https://graph.example/w')]]), problem });
    expect(plan.sends.map(({ job }) => job.id)).toEqual(['m', 'with-url']);
    expect(plan.held.map((job) => job.id)).toEqual(['without-url']);
    expect(plan.heldBack).toBe(problem);
  });

  it('records on a released job where, in which release and when', () => {
    expect(releasedFields(target, now)).toEqual({ releasedTo: 'printer-1', releaseId: 'session-1', releasedAt: now.toISOString() });
  });

  it('fails a OneDrive job whose file is gone (not sent, not held back); the others still go', () => {
    const jobs = [queued(metadataJob('m')), onedriveJob('gone'), onedriveJob('there')];
    const plan = planRelease(jobs, target, now, {
      links: new Map([['there', link('https://graph.example/t')]]),
      missing: new Set(['gone']),
    });
    expect(plan.sends.map(({ job }) => job.id)).toEqual(['m', 'there']);
    expect(plan.missing.map((job) => job.id)).toEqual(['gone']);
    expect(plan.held).toEqual([]);
    // A release of that one job answers why, and the job's state now.
    expect(plan.heldBack).toMatchObject({ kind: 'conflict', facts: { jobId: 'gone', state: 'failed', failedReason: 'document-missing' } });
  });
});

describe('print rights in the plan (docs/flows.md#print-rights)', () => {
  const mono: PersonRights = { rights: { color: false }, onViolation: 'downgrade' };
  const holdColour: PersonRights = { rights: { color: false, maxCopies: 2 }, onViolation: 'hold' };
  const colourJob = () => queued(metadataJob('colour', { color: true, copies: 2 }));
  const monoJob = () => queued(metadataJob('mono', { color: false }));

  it('no rights: the message carries the job’s own options, and nothing is recorded as changed', () => {
    const plan = planRelease([colourJob()], target, now, { links: new Map() });
    expect(plan.sends[0]!.message.body).toMatchObject({ options: { color: true, copies: 2 } });
    expect(plan.sends[0]!.releasedOptions).toBeUndefined();
    expect(markFor(plan, plan.sends[0]!.job, target, now)).toEqual(releasedFields(target, now));
  });

  it('downgrade: the printer gets the effective options; the job records them when they differ', () => {
    const plan = planRelease([colourJob(), monoJob()], target, now, { links: new Map() }, mono);
    const [colour, plain] = plan.sends;
    expect(colour!.message.body).toMatchObject({ options: { color: false, copies: 2 } });
    expect(colour!.releasedOptions).toEqual({ ...colour!.job.options, color: false });
    expect(markFor(plan, colour!.job, target, now)).toMatchObject({ releasedOptions: { color: false } });
    expect(plain!.releasedOptions).toBeUndefined();
    expect(markFor(plan, plain!.job, target, now)).not.toHaveProperty('releasedOptions');
    expect(plan.holds).toEqual([]);
  });

  it('hold: the job is not sent, with the right it breaks; the others go', () => {
    const plan = planRelease([colourJob(), monoJob()], target, now, { links: new Map() }, holdColour);
    expect(plan.sends.map(({ job }) => job.id)).toEqual(['mono']);
    expect(plan.holds.map(({ job, reason }) => [job.id, reason])).toEqual([['colour', 'color-not-allowed']]);
    expect(plan.heldBack).toMatchObject({ kind: 'conflict', facts: { jobId: 'colour', heldReason: 'color-not-allowed' } });
  });

  it('asks no download URL for a OneDrive job it holds', () => {
    const held = transitioned(
      newJob('od', owner, 7, { fileName: 'od.pdf', size: 10, options: { copies: 5 } }, { upload: true }, now),
      'ready',
      now,
      { onedrive: { itemId: 'item-od' } },
    );
    expect(jobsNeedingDownloads([held, onedriveJob('ok'), queued(metadataJob('m'))], holdColour).map((job) => job.id)).toEqual(['ok']);
    expect(jobsNeedingDownloads([held], undefined).map((job) => job.id)).toEqual(['od']);
  });

  it('a held job is written once: again at the next release with the same reason, no write', () => {
    const job = colourJob();
    const held = heldJob(job, 'color-not-allowed');
    expect(held).toMatchObject({ heldReason: 'color-not-allowed', state: 'queued' });
    expect(heldJob(held!, 'color-not-allowed')).toBeUndefined();
    expect(heldJob(held!, 'too-many-copies')).toMatchObject({ heldReason: 'too-many-copies' });
  });

  it('counts the held jobs among the queued ones, and the failed ones apart', () => {
    const jobs = [colourJob(), monoJob(), onedriveJob('gone')];
    const plan = planRelease(jobs, target, now, { links: new Map(), missing: new Set(['gone']) }, holdColour);
    const marked = afterUnsentMarks(
      plan,
      plan.holds.map(({ job, reason }) => fulfilled(heldJob(job, reason)!)),
      plan.missing.map((job) => fulfilled(transitioned(job, 'missing', now, { failedReason: 'document-missing' }))),
    );
    expect(marked.next).toBe('claim');
    if (marked.next !== 'claim') return;
    const sent = marked.plan.sends.map(({ job }) =>
      fulfilled(transitioned(claimedFor(job, target.sessionId, now), 'release', now, releasedFields(target, now))),
    );
    expect(afterMarks(marked.plan, sent).outcome).toEqual({ released: 1, queued: 1, dispatched: true, held: 1, failed: 1 });
    expect(afterFailedSend(marked.plan, []).result.outcome).toEqual({ released: 0, queued: 2, dispatched: false, held: 1, failed: 1 });
  });

  it('a held or missing job changed meanwhile (its 409) is not counted; the store failing fails the release before any claim', () => {
    const jobs = [colourJob(), onedriveJob('gone')];
    const plan = planRelease(jobs, target, now, { links: new Map(), missing: new Set(['gone']) }, holdColour);
    const raced = afterUnsentMarks(plan, [lostToAnotherRelease()], [lostToAnotherRelease()]);
    if (raced.next !== 'claim') throw new Error(`expected claims next, got ${raced.next}`);
    expect(afterClaims(raced.plan, [])).toEqual({
      next: 'done',
      result: { outcome: { released: 0, queued: 0, dispatched: true }, releasedJobs: [] },
    });
    const down = storeDown();
    expect(afterUnsentMarks(plan, [down], [])).toEqual({ next: 'fail', error: (down as PromiseRejectedResult).reason });
  });
});

describe('claims: one release per job', () => {
  const jobs = ['a', 'b', 'c'].map((id) => queued(metadataJob(id)));
  const plan = planRelease(jobs, target, now, { links: new Map() });

  it('sends the jobs it claimed, in order', () => {
    const next = afterClaims(plan, jobs.map(claim));
    expect(next.next).toBe('send');
    if (next.next !== 'send') return;
    expect(next.claimed.map((job) => job.releaseClaim?.releaseId)).toEqual(['session-1', 'session-1', 'session-1']);
    expect(next.messages.map((message) => message.messageId)).toEqual(['a:session-1', 'b:session-1', 'c:session-1']);
  });

  it('leaves out a job another release (or a cancel) won: not ours to send, and nothing failed', () => {
    const next = afterClaims(plan, [claim(jobs[0]!), lostToAnotherRelease(), claim(jobs[2]!)]);
    expect(next.next).toBe('send');
    if (next.next !== 'send') return;
    expect(next.messages.map((message) => message.messageId)).toEqual(['a:session-1', 'c:session-1']);
  });

  it('sends nothing when every job went elsewhere, and says the dispatch did not fail', () => {
    const next = afterClaims(
      plan,
      jobs.map(() => lostToAnotherRelease()),
    );
    expect(next).toEqual({ next: 'done', result: { outcome: { released: 0, queued: 0, dispatched: true }, releasedJobs: [] } });
  });

  it('on a store failure sends nothing, gives back the claims it took and fails with the store’s error', () => {
    const down = storeDown();
    const next = afterClaims(plan, [claim(jobs[0]!), down, lostToAnotherRelease()]);
    expect(next.next).toBe('fail');
    if (next.next !== 'fail') return;
    expect(next.giveBack.map((job) => job.id)).toEqual(['a']);
    expect(next.error).toBe((down as PromiseRejectedResult).reason);
  });

  it('tells a job’s own 409 from the store failing', () => {
    const { written, failures } = sortWrites([claim(jobs[0]!), lostToAnotherRelease(), storeDown()]);
    expect(written.map((job) => job.id)).toEqual(['a']);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 503 });
  });
});

describe('send failure: nothing is lost', () => {
  it('gives every claim back at once and tells the caller all the jobs it asked for are still queued', () => {
    const jobs = [queued(metadataJob('a')), queued(metadataJob('b')), onedriveJob('held')];
    const plan = planRelease(jobs, target, now, { links: new Map() });
    const claimed = plan.sends.map(({ job }) => claimedFor(job, target.sessionId, now));
    const { giveBack, result } = afterFailedSend(plan, claimed);
    expect(giveBack).toEqual(claimed);
    expect(result).toEqual({ outcome: { released: 0, queued: 3, dispatched: false }, releasedJobs: [] });
    expect(result).toEqual(notDispatched(jobs));
  });

  it('asked to release nothing, nothing failed', () => {
    expect(nothingToRelease.outcome).toEqual({ released: 0, queued: 0, dispatched: true });
  });
});

describe('marks: the messages are out', () => {
  const jobs = [queued(metadataJob('a')), queued(metadataJob('b')), onedriveJob('held')];
  const plan: ReleasePlan = planRelease(jobs, target, now, {
    links: new Map(),
    problem: new Conflict('the document is no longer in OneDrive'),
  });
  const released = (job: JobDoc) =>
    fulfilled(transitioned(claimedFor(job, target.sessionId, now), 'release', now, releasedFields(target, now)));

  it('counts the jobs marked released, and the held ones as still queued, with why', () => {
    const result = afterMarks(plan, [released(jobs[0]!), released(jobs[1]!)]);
    expect(result.outcome).toEqual({ released: 2, queued: 1, dispatched: true });
    expect(result.releasedJobs.map((job) => [job.id, job.state, job.releasedTo])).toEqual([
      ['a', 'released', 'printer-1'],
      ['b', 'released', 'printer-1'],
    ]);
    expect(result.heldBack?.detail).toBe('the document is no longer in OneDrive');
    expect(result.unrecorded).toBeUndefined();
  });

  it('leaves out a job cancelled meanwhile: its message is out, the printer reports what it printed', () => {
    const result = afterMarks(plan, [released(jobs[0]!), rejected(new Conflict('the job changed at the same time; read it again'))]);
    expect(result.outcome.released).toBe(1);
    expect(result.unrecorded).toBeUndefined();
  });

  it('reports a store failure as unrecorded, so the caller retries (the same message ids, dropped as duplicates)', () => {
    const down = storeDown();
    const result = afterMarks(plan, [released(jobs[0]!), down]);
    expect(result.outcome).toEqual({ released: 1, queued: 1, dispatched: true });
    expect(result.unrecorded).toBe((down as PromiseRejectedResult).reason);
  });
});
