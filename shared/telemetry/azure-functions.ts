import functions from '@azure/functions';
import type { Config } from '../config/load-config.js';
import { deferredTelemetry } from './deferred.js';
import { QUIET_START, startWhenQuiet, type InvocationHooks, type QuietStartTiming } from './quiet-start.js';
import type { Telemetry } from './telemetry.js';

/**
 * Telemetry in the Functions host, in two steps, so that turning it on does not lengthen a cold
 * start (docs/operations.md#telemetry, docs/benchmarks.md#cold-start-and-telemetry):
 *
 * 1. While the entry module loads, only what the host reads during its start-up: the capability
 *    that says the worker sends its own telemetry (`app.setup`, refused once start-up is over),
 *    the one thing the Functions instrumentation needs to do then. Loading the instrumentation
 *    itself (the OpenTelemetry API, its instrumentation base, require and import hooks, semver)
 *    costs about 25 ms, more than the whole budget, so it loads later with the distro.
 * 2. The Azure Monitor distro and the instrumentation's hooks (a 5.6 MB chunk, about half a
 *    second of loading and set-up) once the first invocation is answered and the worker is quiet
 *    (quiet-start.ts). Until then the services report to a deferred port: counters and log
 *    records wait in a bounded queue and are replayed; dependency spans of those first
 *    invocations are not recorded (deferred.ts), nor does the host's trace reach them.
 *
 * If the distro cannot load or start, the app goes on without telemetry and says so in one line.
 */
export function startAzureFunctionsTelemetry(
  config: Config,
  env: NodeJS.ProcessEnv,
  timing: QuietStartTiming = QUIET_START,
): { telemetry: Telemetry; started: Promise<boolean> } {
  functions.app.setup({ capabilities: workerTelemetryCapabilities });
  const deferred = deferredTelemetry({ replacesHostLog: true });

  const started = new Promise<boolean>((resolve) => {
    startWhenQuiet(
      invocationHooks,
      () => {
        import('./azure-monitor.js')
          .then(({ startAzureMonitor }) => {
            const real = startAzureMonitor(config, env);
            const replayed = deferred.queued;
            const { dropped } = deferred;
            deferred.ready(real);
            // ms: since the worker process began, so an operator sees what the start cost.
            real.log('info', 'telemetry-started', { ms: Math.round(performance.now()), replayed, dropped });
            resolve(true);
          })
          .catch((error: unknown) => {
            deferred.failed();
            // The error's name only: a message could quote the connection string.
            console.error(`telemetry-start-failed error=${(error as Error | undefined)?.name ?? 'Error'}`);
            resolve(false);
          });
      },
      timing,
    );
  });
  return { telemetry: deferred.telemetry, started };
}

/**
 * What `AzureFunctionsInstrumentationESM` declares in its own set-up: the host stops sending the
 * worker's logs on its behalf. Declared here, at load; azure-monitor.ts registers the rest of the
 * instrumentation later (tests/unit/telemetry-deferred.test.ts keeps the two in step).
 */
export const workerTelemetryCapabilities = { WorkerOpenTelemetryEnabled: true } as const;

const invocationHooks: InvocationHooks = {
  onInvocation(began, ended) {
    const before = functions.app.hook.preInvocation(() => began());
    const after = functions.app.hook.postInvocation(() => ended());
    return () => {
      before.dispose();
      after.dispose();
    };
  },
};
