/** Where a host tells us that invocations begin and end (the Functions app's pre- and post-invocation hooks). */
export interface InvocationHooks {
  /** Calls `began` and `ended` around every invocation until the returned function is called. */
  onInvocation(began: () => void, ended: () => void): () => void;
}

export interface QuietStartTiming {
  /** How long no invocation must have run, after the first one ended. */
  readonly quietMs: number;
  /** From the call: start now whatever is running, so a busy instance is not left without telemetry. */
  readonly deadlineMs: number;
}

/**
 * 200 ms: long enough for the worker to write the response out, and for a client's next call on
 * a warm connection to arrive and postpone the start; short enough that little goes untraced.
 * 10 s: a pre-warmed instance that gets no request starts telemetry while idle.
 */
export const QUIET_START: QuietStartTiming = { quietMs: 200, deadlineMs: 10_000 };

/**
 * Runs `start` once, at the first quiet moment after the first invocation: `quietMs` after an
 * invocation ended with none running, or at `deadlineMs` whatever runs. Never before the first
 * invocation (but for the deadline): on a cold start the host sends the request that woke the
 * instance right after loading the app, and work started in that gap would delay it.
 * Why not right in the post-invocation hook: the worker runs those hooks before it writes the
 * response out, so synchronous work there (loading a module is) would delay that response.
 */
export function startWhenQuiet(hooks: InvocationHooks, start: () => void, { quietMs, deadlineMs }: QuietStartTiming = QUIET_START): void {
  let running = 0;
  let quiet: NodeJS.Timeout | undefined;
  let done = false;
  const fire = () => {
    if (done) return;
    done = true;
    clearTimeout(quiet);
    clearTimeout(deadline);
    stopListening();
    start();
  };
  const stopListening = hooks.onInvocation(
    () => {
      running++;
      clearTimeout(quiet);
    },
    () => {
      running = Math.max(0, running - 1);
      if (running === 0 && !done) quiet = setTimeout(fire, quietMs).unref();
    },
  );
  // Unref'd: in the Functions worker the host's channel keeps the process alive; a script that
  // only loads the app (tests, the bench) may end before either timer fires.
  const deadline = setTimeout(fire, deadlineMs).unref();
}
