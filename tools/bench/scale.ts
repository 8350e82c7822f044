// `npm run bench:scale` (issue 20, docs/benchmarks.md#scale-run): the local stack at region
// scale. Printers enrolled over the release topics, a share of them holding AMQP receivers at
// once (AMQP over TCP and over WebSockets), and sessions releasing jobs to them at a steady rate.
// Reports the enrollment rate, release latency, misrouted and lost messages, the API process's
// memory and the subscriptions per topic; prints a table, writes bench/scale.json, and exits
// non-zero if any message was misrouted or lost. Not part of `npm test`.
import { execFileSync, fork } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { percentile } from './load.js';
import { startScaleHost, type ScaleHost } from './scale-host.js';
import type { Received, ReceiversReport, ReceiversStart } from './scale-protocol.js';
import { runSessions, type SessionLoad } from './scale-sessions.js';
import { enrollmentCallMs, enrollPrinters, setUpPeople, type ScalePrinter } from './scale-world.js';

const setting = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number`);
  return value;
};

/** The issue's figures are the defaults; each can be changed for a quick try (docs/benchmarks.md#scale-run). */
const PLAN = {
  printers: setting('SCALE_PRINTERS', 5000),
  receivers: setting('SCALE_RECEIVERS', 1000),
  sessionsPerMinute: setting('SCALE_SESSIONS_PER_MINUTE', 200),
  releaseSeconds: setting('SCALE_SECONDS', 60),
  jobsPerSession: setting('SCALE_JOBS_PER_SESSION', 2),
  tenants: setting('SCALE_TENANTS', 10),
  usersPerTenant: setting('SCALE_USERS_PER_TENANT', 3),
  /** Enrollments in flight per tenant admin (see enrollPrinters). */
  enrollmentsPerAdmin: setting('SCALE_ENROLLMENTS_PER_ADMIN', 3),
  /** Share of the receivers that connect over WebSockets, when the API advertises them. */
  webSocketShare: setting('SCALE_WEBSOCKET_SHARE', 0.5),
  receiverProcesses: setting('SCALE_RECEIVER_PROCESSES', 2),
  /** How long to wait for the last messages after the last approval. */
  drainSeconds: setting('SCALE_DRAIN_SECONDS', 20),
};

/** The issue's figures: a run below any of them says so. */
const ISSUE = { printers: 5000, receivers: 1000, sessionsPerMinute: 200 } as const;
const scaledDown = (Object.keys(ISSUE) as (keyof typeof ISSUE)[]).filter((key) => PLAN[key] < ISSUE[key]).map((key) => `${key} ${PLAN[key]} (issue: ${ISSUE[key]})`);

const log = (text: string) => process.stderr.write(`scale: ${text}\n`);
const round1 = (n: number) => Math.round(n * 10) / 10;

/** Every n-th printer, so the receivers are spread over the tenants and topics as the enrollments were. */
function spread<T>(items: readonly T[], count: number): T[] {
  if (count >= items.length) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]!);
}

const countBy = <T>(items: readonly T[], key: (item: T) => string) => {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
};

interface ReceiverChild {
  readonly attached: Promise<Extract<ReceiversReport, { kind: 'attached' }>>;
  close(): Promise<Extract<ReceiversReport, { kind: 'errors' }>>;
}

function startReceivers(start: ReceiversStart, received: Received[]): ReceiverChild {
  const child = fork(new URL('./scale-receivers.js', import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let errors: Extract<ReceiversReport, { kind: 'errors' }> = { kind: 'errors', count: 0, samples: [] };
  let closed: () => void = () => undefined;
  const attached = new Promise<Extract<ReceiversReport, { kind: 'attached' }>>((resolve, reject) => {
    child.on('message', (report: ReceiversReport) => {
      if (report.kind === 'attached') resolve(report);
      else if (report.kind === 'received') received.push(...report.messages);
      else if (report.kind === 'errors') errors = report;
      else if (report.kind === 'closed') closed();
    });
    child.once('exit', (code) => reject(new Error(`a receiver process exited with ${code}`)));
  });
  child.send(start);
  return {
    attached,
    async close() {
      const done = new Promise<void>((resolve) => {
        closed = resolve;
        child.once('exit', () => resolve());
      });
      child.send({ kind: 'close' });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, 30_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGTERM');
      return errors;
    },
  };
}

/** Waits until every released job has been received, or no new message came for `quietSeconds`. */
async function drain(released: readonly { jobId: string }[], received: readonly Received[], quietSeconds: number) {
  const wanted = new Set(released.map((r) => r.jobId));
  let seen = -1;
  let quietSince = performance.now();
  for (;;) {
    const got = new Set(received.map((r) => r[1]));
    if ([...wanted].every((jobId) => got.has(jobId))) return;
    if (received.length !== seen) {
      seen = received.length;
      quietSince = performance.now();
    } else if (performance.now() - quietSince > quietSeconds * 1000) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const latencySummary = (samples: readonly number[]) =>
  samples.length ? { p50: round1(percentile(samples, 50)), p99: round1(percentile(samples, 99)), max: round1(Math.max(...samples)) } : undefined;

/**
 * Each released job's messages against where it was sent (docs/benchmarks.md#scale-run).
 * Misrouted: a message at a receiver other than the printer its job was released to, or naming
 * another printer than the receiver's, or for a job no session released. Lost: a released job
 * whose printer never got its message. Duplicates: its printer got it more than once.
 */
function judge(load: SessionLoad, received: readonly Received[], overWebSockets: ReadonlySet<string>) {
  const expected = new Map(load.released.map((r) => [r.jobId, r]));
  const atItsPrinter = new Map<string, Received[]>();
  let misrouted = 0;
  for (const message of received) {
    const [receiver, jobId, printerId] = message;
    const release = expected.get(jobId);
    if (!release || receiver !== release.printer || printerId !== receiver) misrouted += 1;
    else atItsPrinter.set(jobId, [...(atItsPrinter.get(jobId) ?? []), message]);
  }
  let duplicates = 0;
  let lost = 0;
  const latencies = { all: [] as number[], amqp: [] as number[], webSockets: [] as number[] };
  for (const [jobId, release] of expected) {
    const messages = atItsPrinter.get(jobId) ?? [];
    if (messages.length === 0) {
      lost += 1;
      continue;
    }
    duplicates += messages.length - 1;
    const ms = Math.min(...messages.map((m) => m[4])) - release.approvalSentAt;
    latencies.all.push(ms);
    (overWebSockets.has(release.printer) ? latencies.webSockets : latencies.amqp).push(ms);
  }
  return {
    released: expected.size,
    received: received.length,
    misrouted,
    lost,
    duplicates,
    latencyMs: latencySummary(latencies.all),
    latencyMsOverAmqp: latencySummary(latencies.amqp),
    latencyMsOverWebSockets: latencySummary(latencies.webSockets),
  };
}

function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown'; // not a clone (an exported tree)
  }
}

const latencyCell = (l: ReturnType<typeof latencySummary>) => (l ? `p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms` : '-');

function table(rows: [string, string][]) {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`).join('\n');
}

async function main() {
  const runStarted = performance.now();
  log(`plan ${JSON.stringify(PLAN)}`);
  const host: ScaleHost = await startScaleHost();
  const phases: Record<string, number> = { start: round1((performance.now() - runStarted) / 1000) };
  /** CPU seconds of the API process per phase: what the phase costs the API whatever else the machine was doing. */
  const apiCpu: Record<string, number> = { start: await host.cpuSeconds() };
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const cpu0 = await host.cpuSeconds();
    try {
      return await work();
    } finally {
      phases[name] = round1((performance.now() - t0) / 1000);
      apiCpu[name] = round1((await host.cpuSeconds()) - cpu0);
    }
  };
  let report: Record<string, unknown>;
  let bad: boolean;
  let targets: { name: string; met: boolean }[];
  try {
    const people = await phase('people', () => setUpPeople(host.url, PLAN.tenants, PLAN.usersPerTenant));
    log(`${people.tenants.length} tenants, ${people.users.length} users; enrolling ${PLAN.printers} printers`);
    const enrollment = await phase('enrollment', () =>
      enrollPrinters(host.url, people.tenants, PLAN.printers, PLAN.enrollmentsPerAdmin, (done) => log(`  ${done} enrolled after ${round1((performance.now() - runStarted) / 1000)} s`)),
    );
    const enrollmentRate = enrollment.printers.length / enrollment.seconds;
    log(`enrolled ${enrollment.printers.length} in ${round1(enrollment.seconds)} s (${round1(enrollmentRate)}/s), ${enrollment.failures} failed`);
    const topics = countBy(enrollment.printers, (p) => p.amqp.topic);
    const webSocketsOffered = enrollment.printers.some((p) => p.amqp.amqpWebSocketUrl);

    // Receivers: spread over tenants and topics, every k-th of them over WebSockets.
    const listening: ScalePrinter[] = spread(enrollment.printers, PLAN.receivers);
    const everyWs = PLAN.webSocketShare > 0 ? Math.max(1, Math.round(1 / PLAN.webSocketShare)) : 0;
    const starts: ReceiversStart['printers'][number][] = listening.map((p, i) => ({
      deviceId: p.deviceId,
      amqpUrl: p.amqp.amqpUrl,
      entityPath: p.amqp.entityPath,
      sasToken: p.amqp.sasToken,
      ...(webSocketsOffered && everyWs > 0 && i % everyWs === 0 ? { webSocketUrl: p.amqp.amqpWebSocketUrl } : {}),
    }));
    const received: Received[] = [];
    const children = Array.from({ length: PLAN.receiverProcesses }, (_, c) =>
      startReceivers({ printers: starts.filter((_, i) => i % PLAN.receiverProcesses === c) }, received),
    );
    const attached = await phase('receivers', async () => {
      const reports = await Promise.all(children.map((child) => child.attached));
      return {
        attached: reports.reduce((sum, r) => sum + r.attached, 0),
        failed: reports.reduce((sum, r) => sum + r.failed, 0),
        errors: reports.flatMap((r) => r.errors).slice(0, 5),
      };
    });
    log(`${attached.attached} receivers attached (${starts.filter((s) => s.webSocketUrl).length} over WebSockets), ${attached.failed} failed`);
    const rssBefore = host.memory.at(-1);

    log(`releasing: ${PLAN.sessionsPerMinute} sessions a minute for ${PLAN.releaseSeconds} s, ${PLAN.jobsPerSession} jobs each`);
    const load = await phase('releases', () =>
      runSessions(host.url, people.users, listening, {
        perMinute: PLAN.sessionsPerMinute,
        seconds: PLAN.releaseSeconds,
        jobsPerSession: PLAN.jobsPerSession,
      }),
    );
    await phase('drain', () => drain(load.released, received, PLAN.drainSeconds));
    const receiverErrors = await phase('close', async () => {
      const reports = await Promise.all(children.map((child) => child.close()));
      return { count: reports.reduce((sum, r) => sum + r.count, 0), samples: reports.flatMap((r) => r.samples).slice(0, 5) };
    });
    const verdict = judge(load, received, new Set(starts.filter((s) => s.webSocketUrl).map((s) => s.deviceId)));
    const peak = (key: 'rssMiB' | 'heapUsedMiB') => Math.max(...host.memory.map((m) => m[key]));
    const last = host.memory.at(-1);
    bad = verdict.misrouted > 0 || verdict.lost > 0;
    const overWebSockets = starts.filter((s) => s.webSocketUrl).length;
    // The issue's figures (docs/benchmarks.md#scale-run); only misrouted or lost messages fail the run.
    targets = [
      { name: `${PLAN.printers} printers enrolled`, met: enrollment.printers.length === PLAN.printers },
      { name: 'printers spread over at least three topics', met: Object.keys(topics).length >= 3 },
      {
        name: `${PLAN.receivers} receivers at once, over AMQP and over WebSockets`,
        met: attached.attached === PLAN.receivers && overWebSockets > 0 && overWebSockets < attached.attached,
      },
      {
        name: `${PLAN.sessionsPerMinute} sessions a minute, all completed`,
        met: (load.started / load.windowSeconds) * 60 >= 0.95 * PLAN.sessionsPerMinute && load.completed === load.started,
      },
      { name: 'no message misrouted', met: verdict.misrouted === 0 },
      { name: 'no message lost', met: verdict.lost === 0 },
    ];

    report = {
      commit: gitCommit(),
      machine: { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), loadAverage: os.loadavg() },
      plan: PLAN,
      scaledDown,
      enrollment: {
        enrolled: enrollment.printers.length,
        failed: enrollment.failures,
        failureSamples: enrollment.failureSamples,
        seconds: round1(enrollment.seconds),
        perSecond: round1(enrollmentRate),
        meanCallMs: Object.fromEntries(Object.entries(enrollmentCallMs).map(([k, ms]) => [k, round1(ms / Math.max(1, enrollment.printers.length + enrollment.failures))])),
      },
      topics: { subscriptions: topics, receivers: countBy(listening, (p) => p.amqp.topic) },
      receivers: {
        ...attached,
        overWebSockets: starts.filter((s) => s.webSocketUrl).length,
        webSocketsOffered,
        errorsAfterAttach: receiverErrors,
      },
      releases: {
        sessionsStarted: load.started,
        sessionsCompleted: load.completed,
        sessionsLate: load.late,
        sessionsPerMinute: round1((load.started / load.windowSeconds) * 60),
        failures: load.failures,
        failureSamples: load.failureSamples,
        approvalMs: load.approvalMs.length ? { p50: round1(percentile(load.approvalMs, 50)), p99: round1(percentile(load.approvalMs, 99)) } : undefined,
        ...verdict,
      },
      apiMemoryMiB: {
        afterReceiversAttached: rssBefore && { rss: Math.round(rssBefore.rssMiB), heapUsed: Math.round(rssBefore.heapUsedMiB) },
        peak: { rss: Math.round(peak('rssMiB')), heapUsed: Math.round(peak('heapUsedMiB')) },
        atEnd: last && { rss: Math.round(last.rssMiB), heapUsed: Math.round(last.heapUsedMiB) },
      },
      apiStatuses: host.statuses,
      apiRoutes: Object.fromEntries(
        Object.entries(host.routes).map(([route, t]) => [route, { calls: t.calls, meanMs: round1(t.ms / t.calls), cosmosRequestsPerCall: round1(t.cosmosRequests / t.calls) }]),
      ),
      apiStderr: host.errors.slice(0, 10),
      phasesSeconds: phases,
      apiCpuSeconds: apiCpu,
    };
    const rows: [string, string][] = [
      ['printers enrolled', `${enrollment.printers.length} of ${PLAN.printers} (${enrollment.failures} failed) in ${round1(enrollment.seconds)} s`],
      ['enrollment rate', `${round1(enrollmentRate)} printers/s (device code, approval, poll, AMQP token)`],
      [
        'enrollment call means (ms)',
        Object.entries(enrollmentCallMs)
          .map(([k, ms]) => `${k} ${round1(ms / Math.max(1, enrollment.printers.length + enrollment.failures))}`)
          .join(', '),
      ],
      ['subscriptions per topic', Object.entries(topics).map(([t, n]) => `${t} ${n}`).join(', ')],
      ['receivers attached', `${attached.attached} of ${listening.length} (${starts.filter((s) => s.webSocketUrl).length} over WebSockets${webSocketsOffered ? '' : ': the API does not offer them yet, AMQP over TCP only'}), ${attached.failed} failed`],
      ['receivers per topic', Object.entries(countBy(listening, (p) => p.amqp.topic)).map(([t, n]) => `${t} ${n}`).join(', ')],
      [
        'sessions',
        `${load.started} started in ${round1(load.windowSeconds)} s (${round1((load.started / load.windowSeconds) * 60)}/min, ${load.late} late for want of a free user), ${load.completed} completed, ${load.failures} failed`,
      ],
      ['jobs released / messages received', `${verdict.released} / ${verdict.received}`],
      ['release latency (approval sent → received)', latencyCell(verdict.latencyMs)],
      ['  over AMQP (TCP)', latencyCell(verdict.latencyMsOverAmqp)],
      ['  over WebSockets', latencyCell(verdict.latencyMsOverWebSockets)],
      ['approval call', load.approvalMs.length ? `p50 ${round1(percentile(load.approvalMs, 50))} ms, p99 ${round1(percentile(load.approvalMs, 99))} ms` : '-'],
      ['misrouted (must be 0)', String(verdict.misrouted)],
      ['lost (must be 0)', String(verdict.lost)],
      ['duplicates', String(verdict.duplicates)],
      ['API memory (RSS / heap used)', `after receivers ${rssBefore ? `${Math.round(rssBefore.rssMiB)} / ${Math.round(rssBefore.heapUsedMiB)}` : '-'} MiB; peak ${Math.round(peak('rssMiB'))} / ${Math.round(peak('heapUsedMiB'))} MiB`],
      ['API responses by status', Object.entries(host.statuses).map(([s, n]) => `${s}: ${n}`).join(', ')],
      ['phases (s)', Object.entries(phases).map(([p, s]) => `${p} ${s}`).join(', ')],
      ['API CPU per phase (s)', Object.entries(apiCpu).map(([p, s]) => `${p} ${s}`).join(', ')],
    ];
    if (scaledDown.length > 0) rows.unshift(['SCALED DOWN', scaledDown.join(', ')]);
    process.stdout.write(`\n${table(rows)}\n`);
    // Where the API's time went: the busiest routes by time spent in the host.
    const busiest = Object.entries(host.routes)
      .sort(([, a], [, b]) => b.ms - a.ms)
      .slice(0, 8)
      .map(([route, t]): [string, string] => [`  ${route}`, `${t.calls} calls, ${round1(t.ms / t.calls)} ms mean in the API, ${round1(t.cosmosRequests / t.calls)} Cosmos requests each`]);
    process.stdout.write(`\nAPI routes by time spent\n${table(busiest)}\n`);
    if (enrollment.failureSamples.length) log(`enrollment failures: ${enrollment.failureSamples.join(' | ')}`);
    if (load.failureSamples.length) log(`session failures: ${load.failureSamples.join(' | ')}`);
    if (attached.errors.length) log(`attach failures: ${attached.errors.join(' | ')}`);
  } finally {
    await host.stop();
  }
  const seconds = round1((performance.now() - runStarted) / 1000);
  targets.push({ name: 'the whole run under 5 minutes', met: seconds < 300 });
  report = { ...report, seconds, targets };
  await mkdir('bench', { recursive: true });
  await writeFile('bench/scale.json', `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write('\n');
  for (const t of targets) process.stdout.write(`target ${t.met ? 'met    ' : 'NOT MET'}  ${t.name}\n`);
  process.stdout.write(`whole run ${seconds} s; bench/scale.json written\n`);
  if (bad) {
    process.stdout.write('FAILED: messages were misrouted or lost\n');
    process.exitCode = 1;
  }
}

await main();
