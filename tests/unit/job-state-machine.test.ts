import { describe, expect, it } from 'vitest';
import { Conflict } from '../../shared/errors.js';
import {
  assertTransition,
  canTransition,
  claimedFor,
  defaultJobOptions,
  isLive,
  newJob,
  ONEDRIVE_JOB_GRACE_SECONDS,
  RELEASE_CLAIM_SECONDS,
  transitioned,
  type JobDoc,
  type JobState,
  type JobTransition,
} from '../../shared/jobs/jobs.js';

/**
 * The job state machine (shared/jobs/jobs.ts) without a store: which transitions each state
 * allows, what a transition writes, how a release claims a job, and how a job starts and expires.
 *
 *   registered ──ready──▶ queued ──release──▶ released ──printed──▶ printed
 *        │                 │   ▲                   │
 *        │                 │   └─────release─── failed ◀──failed──┘
 *        └──────cancel─────┴───▶ cancelled ◀──cancel──┘      (any: past retention → expired)
 */
const owner = { tenantId: 't1', userId: 'u1', email: 'uma@example.com', username: 'uma' };
const t0 = new Date('2026-03-01T10:00:00.000Z');
const later = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const request = { fileName: 'Budget.pdf', size: 1234 };

const STATES: readonly JobState[] = ['registered', 'queued', 'released', 'printed', 'failed', 'cancelled'];
const TRANSITIONS: readonly JobTransition[] = ['ready', 'release', 'printed', 'failed', 'missing', 'cancel'];

/** The whole table: every pair not listed is refused. */
const ALLOWED: Readonly<Record<JobState, readonly JobTransition[]>> = {
  registered: ['ready', 'cancel'],
  // `missing`: its OneDrive file found gone at a release (failed, document-missing).
  queued: ['release', 'missing', 'cancel'],
  released: ['printed', 'failed'],
  printed: [],
  // The owner may try again (release that one job) or give up; a session's "all queued" skips it.
  failed: ['release', 'missing', 'cancel'],
  cancelled: [],
};

const jobIn = (state: JobState, extra: Partial<JobDoc> = {}): JobDoc => ({
  ...newJob('j1', owner, 7 * 24, request, undefined, t0),
  state,
  ...extra,
});

describe('job state machine: which transitions each state allows', () => {
  for (const state of STATES) {
    for (const transition of TRANSITIONS) {
      const allowed = ALLOWED[state].includes(transition);
      it(`${state} ${allowed ? 'allows' : 'refuses'} ${transition}`, () => {
        expect(canTransition(state, transition)).toBe(allowed);
        if (allowed) expect(() => assertTransition(jobIn(state), transition)).not.toThrow();
        else expect(() => assertTransition(jobIn(state), transition)).toThrow(Conflict);
      });
    }
  }

  it('a refusal is a Conflict that says the state, in words and as a fact', () => {
    const refusal = (() => {
      try {
        assertTransition(jobIn('cancelled'), 'release');
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(Conflict);
    expect(refusal).toMatchObject({ kind: 'conflict', detail: 'a cancelled job cannot be released', facts: { state: 'cancelled' } });
  });

  it('printed and cancelled are final: nothing leaves them', () => {
    for (const state of ['printed', 'cancelled'] as const) {
      expect(TRANSITIONS.filter((transition) => canTransition(state, transition))).toEqual([]);
    }
  });
});

describe('transitioned: what a transition writes', () => {
  it('walks a job through its whole life, each step stamped with its time', () => {
    const registered = newJob('j1', owner, 7 * 24, request, { upload: true }, t0);
    const queued = transitioned(registered, 'ready', later(10), { onedrive: { itemId: 'ITEM1' } });
    expect(queued).toMatchObject({ state: 'queued', updatedAt: later(10).toISOString(), onedrive: { itemId: 'ITEM1' } });
    const released = transitioned(queued, 'release', later(20), { releasedTo: 'p1', releaseId: 's1', releasedAt: later(20).toISOString() });
    expect(released).toMatchObject({ state: 'released', releasedTo: 'p1', releaseId: 's1' });
    const printed = transitioned(released, 'printed', later(30), { printedAt: later(30).toISOString() });
    expect(printed).toMatchObject({ state: 'printed', printedAt: later(30).toISOString(), createdAt: t0.toISOString() });
    expect(() => transitioned(printed, 'cancel', later(40))).toThrow(Conflict);
  });

  it('leaves the job it was given as it was (the store write is conditional on that one)', () => {
    const queued = jobIn('queued');
    const copy = structuredClone(queued);
    transitioned(queued, 'cancel', later(5));
    expect(queued).toEqual(copy);
  });

  it('a failure records its reason, time and count; a release again ends the reason and time but keeps the count', () => {
    const released = jobIn('released', { releasedTo: 'p1', releaseId: 's1' });
    const failed = transitioned(released, 'failed', later(5), { failedReason: 'paper-jam', failedAt: later(5).toISOString(), failures: 1 });
    expect(failed).toMatchObject({ state: 'failed', failedReason: 'paper-jam', failedAt: later(5).toISOString(), failures: 1 });
    const again = transitioned(claimedFor(failed, 's1', later(6)), 'release', later(7), { releasedTo: 'p2' });
    expect(again).toMatchObject({ state: 'released', releasedTo: 'p2', failures: 1 });
    expect(again).not.toHaveProperty('failedReason');
    expect(again).not.toHaveProperty('failedAt');
    expect(again).not.toHaveProperty('releaseClaim');
  });

  it('a print-rights hold ends when the job leaves queued; changed options are the latest release’s only', () => {
    const held = jobIn('queued', { heldReason: 'color-not-allowed' });
    expect(transitioned(held, 'cancel', later(1))).not.toHaveProperty('heldReason');
    const mono = { ...held.options, color: false };
    const released = transitioned(held, 'release', later(2), { releasedOptions: mono });
    expect(released).toMatchObject({ state: 'released', releasedOptions: mono });
    expect(released).not.toHaveProperty('heldReason');
    // The figures of a printed job are checked against what it was sent: the options stay.
    expect(transitioned(released, 'failed', later(3)).releasedOptions).toEqual(mono);
    const failed = transitioned(released, 'failed', later(3));
    expect(transitioned(failed, 'release', later(4))).not.toHaveProperty('releasedOptions');
    const gone = transitioned(jobIn('queued'), 'missing', later(5), { failedReason: 'document-missing' });
    expect(gone).toMatchObject({ state: 'failed', failedReason: 'document-missing' });
  });

  it('ends a release claim with the state it was for', () => {
    const claimed = claimedFor(jobIn('queued'), 's1', t0);
    expect(claimed.releaseClaim).toBeDefined();
    expect(transitioned(claimed, 'release', later(1)).releaseClaim).toBeUndefined();
    expect(transitioned(claimed, 'cancel', later(1)).releaseClaim).toBeUndefined();
  });
});

describe('claimedFor: one release at a time', () => {
  it(`claims a queued job for ${RELEASE_CLAIM_SECONDS} s, still queued`, () => {
    const claimed = claimedFor(jobIn('queued'), 's1', t0);
    expect(claimed.state).toBe('queued');
    expect(claimed.releaseClaim).toEqual({ releaseId: 's1', until: later(RELEASE_CLAIM_SECONDS).toISOString() });
  });

  it('refuses while another release holds a live claim, and lets it go once lapsed (its sender died)', () => {
    const held = claimedFor(jobIn('queued'), 's1', t0);
    expect(() => claimedFor(held, 's2', later(RELEASE_CLAIM_SECONDS - 1))).toThrow(/being released at the same time/);
    expect(claimedFor(held, 's2', later(RELEASE_CLAIM_SECONDS)).releaseClaim?.releaseId).toBe('s2');
  });

  it('lets a release renew its own claim (a retry in the same session)', () => {
    const held = claimedFor(jobIn('queued'), 's1', t0);
    expect(claimedFor(held, 's1', later(10)).releaseClaim).toEqual({
      releaseId: 's1',
      until: later(10 + RELEASE_CLAIM_SECONDS).toISOString(),
    });
  });

  it('claims only queued jobs, and failed ones (released again on their own)', () => {
    expect(claimedFor(jobIn('failed'), 's1', t0)).toMatchObject({ state: 'failed', releaseClaim: { releaseId: 's1' } });
    for (const state of STATES.filter((s) => s !== 'queued' && s !== 'failed')) {
      expect(() => claimedFor(jobIn(state), 's1', t0)).toThrow(Conflict);
    }
  });
});

describe('newJob and expiry', () => {
  it('starts registered: metadata only, or waiting for its OneDrive upload', () => {
    const plain = newJob('j1', owner, 7 * 24, request, undefined, t0);
    expect(plain).toMatchObject({ state: 'registered', pk: 't1|u1', type: 'job', username: 'uma', options: defaultJobOptions });
    expect(plain.onedrive).toBeUndefined();
    expect(newJob('j2', owner, 7 * 24, request, { upload: true }, t0)).toMatchObject({ state: 'registered', onedrive: {} });
  });

  it('starts queued when its file is in the Print folder already', () => {
    expect(newJob('j3', owner, 7 * 24, request, { itemId: 'ITEM1' }, t0)).toMatchObject({ state: 'queued', onedrive: { itemId: 'ITEM1' } });
  });

  it('takes the options asked for over the defaults', () => {
    expect(newJob('j4', owner, 7 * 24, { ...request, options: { copies: 3, color: true } }, undefined, t0).options).toEqual({
      ...defaultJobOptions,
      copies: 3,
      color: true,
    });
  });

  it('expires after the tenant’s retention: in code at expiresAt, in Cosmos by its TTL', () => {
    const job = newJob('j5', owner, 7 * 24, request, undefined, t0);
    expect(job.ttl).toBe(7 * 86400);
    expect(job.expiresAt).toBe(later(7 * 86400).toISOString());
    expect(isLive(job, later(7 * 86400 - 1))).toBe(true);
    expect(isLive(job, later(7 * 86400))).toBe(false);
  });

  it('a OneDrive job’s item outlives its retention by the grace the after-print sweep needs; it expires at the same time', () => {
    const job = newJob('j6', owner, 7 * 24, request, { upload: true }, t0);
    expect(job.ttl).toBe(7 * 86400 + ONEDRIVE_JOB_GRACE_SECONDS);
    expect(job.expiresAt).toBe(later(7 * 86400).toISOString());
    expect(isLive(job, later(7 * 86400))).toBe(false);
  });
});
