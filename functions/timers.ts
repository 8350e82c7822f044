import type { InvocationContext } from '@azure/functions';
import { sweepJobs } from '../shared/jobs/after-print.js';
import type { Logger } from '../shared/logging/logger.js';
import { invocationLogger } from '../shared/logging/logger.js';
import type { Services, ServicesProvider } from '../shared/services.js';
import { noTelemetry, type Telemetry } from '../shared/telemetry/telemetry.js';

/**
 * The functions that run on a schedule, as the route table is for HTTP: functions/index.ts
 * registers each with `app.timer`, the local host runs the same `run` on an interval of its own
 * and on demand (tools/local-host.ts `runTimer`), so both hosts go through timerHandler.
 */
export interface TimerFunction {
  readonly name: string;
  /** NCRONTAB (six fields, seconds first), as the Functions timer trigger takes it. */
  readonly schedule: string;
  run(services: Services, log: Logger): Promise<unknown>;
}

export const timers: readonly TimerFunction[] = [
  {
    // docs/flows.md#after-printing: clean-ups Graph refused, usage left unrecorded, expired jobs.
    // Every 5 minutes: a clean-up's first retry waits as long (after-print.ts).
    name: 'sweepJobs',
    schedule: '0 */5 * * * *',
    run: (services, log) => sweepJobs(services, log),
  },
];

/**
 * One invocation of `timer`: the services opened once per process, a logger on the invocation.
 * A failure is logged (ids and the error's name only) and rethrown, so the host records a failed
 * run; the next run starts over from the store.
 */
export function timerHandler(
  timer: TimerFunction,
  services: ServicesProvider,
  telemetry: Telemetry = noTelemetry,
): (context: InvocationContext) => Promise<void> {
  return async (context) => {
    const log = invocationLogger(context, telemetry);
    try {
      await timer.run(await services(), log);
    } catch (error) {
      log.error('timer-failed', { timer: timer.name, error: error instanceof Error ? error.name : typeof error });
      throw error;
    }
  };
}
