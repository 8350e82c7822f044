import { noTelemetry, type Telemetry } from './telemetry.js';

/**
 * The Telemetry port handed to the services before its real target exists: in Azure the distro
 * starts after start-up, off the first request's path (azure-functions.ts), so whatever the app
 * reports in between waits here.
 *
 * - Counter increments and log records are queued, up to `capacity` entries in all, and replayed
 *   into the real port when it is ready (a log record keeps the time it happened). Beyond the
 *   cap they are dropped and counted: memory stays bounded if the distro never comes.
 * - Dependency spans are not queued: the call runs untraced. They are timings of requests that
 *   are over, worth less than the memory a queue of closures would hold.
 * - If the real port never comes (`failed`), the queue is let go and everything goes nowhere.
 */
export interface DeferredTelemetry {
  readonly telemetry: Telemetry;
  /** Replays the queue into `target`, then hands every later call straight to it. */
  ready(target: Telemetry): void;
  /** Drops the queue; from now on the port is `noTelemetry` (the host's log gets the lines again). */
  failed(): void;
  /** Entries waiting, and entries dropped because the queue was full. */
  readonly queued: number;
  readonly dropped: number;
}

/** Long enough for the few seconds before the distro starts; small enough to be nothing in memory (a few hundred KB at most). */
export const DEFERRED_QUEUE_CAPACITY = 1_000;

export function deferredTelemetry({
  capacity = DEFERRED_QUEUE_CAPACITY,
  replacesHostLog,
}: {
  capacity?: number;
  /** What the port says until it is ready: true when the host was already told the worker sends its own logs. */
  replacesHostLog: boolean;
}): DeferredTelemetry {
  let queue: ((target: Telemetry) => void)[] = [];
  let dropped = 0;
  let target: Telemetry | undefined;
  let waiting = true;

  const report = (call: (to: Telemetry) => void) => {
    if (target) return call(target);
    if (!waiting) return;
    if (queue.length < capacity) queue.push(call);
    else dropped++;
  };

  const telemetry: Telemetry = {
    signIn: (method, outcome) => report((to) => to.signIn(method, outcome)),
    lockout: (scope) => report((to) => to.lockout(scope)),
    refreshReuse: () => report((to) => to.refreshReuse()),
    release: () => report((to) => to.release()),
    messagesSent: (count) => report((to) => to.messagesSent(count)),
    refusal: (status) => report((to) => to.refusal(status)),
    dependency: (call, work, outcome) => (target ? target.dependency(call, work, outcome) : work()),
    log: (level, event, fields, time) => {
      const at = time ?? Date.now();
      report((to) => to.log(level, event, fields, at));
    },
    get replacesHostLog() {
      return target ? target.replacesHostLog : waiting && replacesHostLog;
    },
  };

  return {
    telemetry,
    ready(real) {
      if (!waiting) return;
      for (const call of queue) call(real);
      queue = [];
      waiting = false;
      target = real;
    },
    failed() {
      if (!waiting) return;
      queue = [];
      waiting = false;
      target = noTelemetry;
    },
    get queued() {
      return queue.length;
    },
    get dropped() {
      return dropped;
    },
  };
}
