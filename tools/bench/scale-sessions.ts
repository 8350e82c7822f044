import { performance } from 'node:perf_hooks';
import { wallClock } from './scale-protocol.js';
import { call, type ScalePrinter, type ScaleUser } from './scale-world.js';

/**
 * The release load of the scale run (docs/benchmarks.md#scale-run): sessions started at a steady
 * rate, each as a person at a printer does it (docs/flows.md#release-to-printers): the user's jobs
 * are registered and queued, the printer's panel asks for a session code, the user approves it
 * from the phone, and the approval releases the jobs to that printer.
 */

/** A released job: to which printer, and when the approval that released it was sent. */
export interface Released {
  readonly jobId: string;
  readonly printer: string;
  readonly approvalSentAt: number;
}

export interface SessionLoad {
  readonly started: number;
  readonly completed: number;
  /** Sessions started late because every user was still busy with the last one (each then waited for a user). */
  readonly late: number;
  readonly failures: number;
  readonly failureSamples: string[];
  readonly released: Released[];
  /** Milliseconds of each approval call (the release is sent inside it). */
  readonly approvalMs: number[];
  /** The window sessions were started in, and the whole load with the last sessions' ends. */
  readonly windowSeconds: number;
  readonly seconds: number;
}

function expectStatus(what: string, response: { status: number; body: Record<string, unknown> }, status = 200) {
  if (response.status !== status) throw new Error(`${what}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
  return response.body;
}

async function session(url: string, user: ScaleUser, printer: ScalePrinter, jobs: number, out: { released: Released[]; approvalMs: number[] }) {
  const jobIds: string[] = [];
  for (let i = 0; i < jobs; i++) {
    const job = expectStatus(
      'job',
      await call(`${url}/api/jobs`, { token: user.token, address: user.address, json: { fileName: `Scale ${i}.pdf`, size: 20_000 + i } }),
      201,
    );
    expectStatus('job ready', await call(`${url}/api/jobs/${job.id as string}/ready`, { token: user.token, address: user.address }));
    jobIds.push(job.id as string);
  }
  const code = expectStatus(
    'session code',
    await call(`${url}/oauth/device_authorization`, {
      token: printer.access,
      address: printer.address,
      form: { client_id: 'roger-emb', scope: 'session' },
    }),
  );
  const sentAt = wallClock();
  const t0 = performance.now();
  const approved = expectStatus(
    'session approval',
    await call(`${url}/api/device-codes/approve`, { token: user.token, address: user.address, json: { user_code: code.user_code } }),
  );
  out.approvalMs.push(performance.now() - t0);
  const release = approved.release as { released: number; dispatched: boolean };
  // Every job the session released is expected at this printer, whatever the answer says, so a
  // release that went out in part still shows as lost messages.
  for (const jobId of jobIds) out.released.push({ jobId, printer: printer.deviceId, approvalSentAt: sentAt });
  if (release.released !== jobs || !release.dispatched) throw new Error(`session approval released ${JSON.stringify(release)}, not ${jobs}`);
}

/**
 * Starts a session every 60/`perMinute` s for `seconds`, at the next receiving printer of a free
 * user's tenant. A user has one session at a time: an approval releases all of the user's queued
 * jobs, so two at once would release one session's jobs to the other's printer.
 */
export async function runSessions(
  url: string,
  users: readonly ScaleUser[],
  printers: readonly ScalePrinter[],
  { perMinute, seconds, jobsPerSession }: { perMinute: number; seconds: number; jobsPerSession: number },
): Promise<SessionLoad> {
  const byTenant = new Map<number, ScalePrinter[]>();
  for (const printer of printers) byTenant.set(printer.tenant, [...(byTenant.get(printer.tenant) ?? []), printer]);
  const nextPrinter = new Map<number, number>();
  const free = users.filter((user) => byTenant.has(user.tenant));
  const out = { released: [] as Released[], approvalMs: [] as number[] };
  const failureSamples: string[] = [];
  let started = 0;
  let completed = 0;
  let late = 0;
  let failures = 0;
  let userFreed: (() => void) | undefined;
  const release = (user: ScaleUser) => {
    free.push(user);
    userFreed?.();
  };
  const running: Promise<void>[] = [];
  const intervalMs = 60_000 / perMinute;
  const t0 = performance.now();
  for (let i = 0; performance.now() - t0 < seconds * 1000; i++) {
    const due = t0 + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (free.length === 0) {
      // Late rather than skipped: the schedule catches up once users are free again.
      late += 1;
      await new Promise<void>((resolve) => (userFreed = resolve));
      userFreed = undefined;
    }
    const user = free.shift()!;
    const tenantPrinters = byTenant.get(user.tenant)!;
    const turn = nextPrinter.get(user.tenant) ?? 0;
    nextPrinter.set(user.tenant, turn + 1);
    started += 1;
    running.push(
      session(url, user, tenantPrinters[turn % tenantPrinters.length]!, jobsPerSession, out).then(
        () => {
          completed += 1;
          release(user);
        },
        (error: unknown) => {
          failures += 1;
          if (failureSamples.length < 5) failureSamples.push((error as Error).message);
          // Not given another session: jobs it left queued would go out with that one, to another printer.
        },
      ),
    );
  }
  const windowSeconds = (performance.now() - t0) / 1000;
  await Promise.all(running);
  return { started, completed, late, failures, failureSamples, ...out, windowSeconds, seconds: (performance.now() - t0) / 1000 };
}
