import { basename, dirname, join, resolve } from 'node:path';
import { backoffDelay, sleep } from '@roger-cloud/client-kit/backoff';
import { resolveApiUrl, type Where } from '@roger-cloud/client-kit/discovery';
import type { Transport } from './amqp-transport.js';
import { Disconnected, type ReceiverOptions } from './contracts.js';
import { DeviceTokens } from './device-credentials.js';
import { enroll } from './enroll.js';
import { explain } from './explain.js';
import { Ledger } from './ledger.js';
import { Panel } from './panel.js';
import { runReceiver } from './receiver.js';
import { backoffFromEnv } from './retry.js';
import { SessionTokenStore } from './session-tokens.js';
import { readState, type AgentState } from './state.js';
import { Terminal } from './terminal.js';

export interface AgentOptions {
  readonly where: Where;
  readonly statePath: string;
  readonly outputDir: string;
  readonly name?: string;
  /** How releases arrive: AMQP (5671, the default) or AMQP over WebSockets (443). */
  readonly transport?: Transport;
}

/** Exit codes: 0 stopped on request, 1 an error, 2 disconnected (docs/clients.md#roger-printer). */
export const EXIT_DISCONNECTED = 2;

/** A receiver that ran this long before failing starts again from the shortest backoff. */
const RECEIVER_STEADY_MS = 60_000;

/**
 * `roger-printer start` (docs/clients.md#roger-printer): enroll when there is no state yet, or
 * refresh the device token from the state; then receive releases and take panel commands side
 * by side until stopped. Resolves with the process's exit code.
 */
export async function runAgent(options: AgentOptions): Promise<number> {
  const terminal = new Terminal();
  const stopping = new AbortController();
  const { signal } = stopping;
  const backoff = backoffFromEnv();
  let exitCode = 0;
  let finished!: () => void;
  const stopped = new Promise<void>((resolve) => (finished = resolve));
  const stop = (code: number) => {
    if (signal.aborted) return;
    exitCode = code;
    stopping.abort();
    finished();
  };
  const disconnected = (error: Disconnected) => {
    if (signal.aborted) return;
    process.stderr.write(`disconnected: ${error.message}\n`);
    stop(EXIT_DISCONNECTED);
  };
  const onSignal = () => stop(0);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Once stopping, the Service Bus SDK may reject a promise of the link it was opening when the
  // abort reached it, with nobody left to await it; Node would then end the process with code 1
  // instead of the code decided above (seen under load: a disconnected printer exited 1, not 2).
  // While running, an unhandled rejection still ends the process as Node's default does.
  process.on('unhandledRejection', (reason) => {
    if (!signal.aborted) throw reason;
    terminal.error(`while stopping: ${explain(reason)}`);
  });

  let panel: Panel | undefined;
  let receiving: Promise<void> | undefined;
  try {
    const credentials = await connect(options, { terminal, backoff, signal, disconnected });
    if (!credentials) return exitCode;
    const ledgerPath = ledgerPathFor(options.statePath);
    // An unreadable ledger stops the agent here, with what to do, before anyone signs in at its
    // panel: the receiver would only fail on it again at every restart.
    await Ledger.open(ledgerPath);
    const sessions = new SessionTokenStore();
    let receiverState = 'starting';
    receiving = superviseReceiver({
      credentials,
      sessions,
      outputDir: resolve(options.outputDir),
      ledgerPath,
      transport: options.transport ?? 'amqp',
      log: (line) => terminal.line(line),
      signal,
      backoff,
      terminal,
      disconnected,
      setState: (state) => (receiverState = state),
    });
    panel = new Panel({
      credentials,
      sessions,
      terminal,
      backoff,
      signal,
      disconnected,
      quit: () => stop(0),
      status: () =>
        [
          `printer ${credentials.deviceId}${credentials.state.name ? ` (${credentials.state.name})` : ''}`,
          `api ${credentials.apiUrl}`,
          `receiver ${receiverState}`,
          `sessions ${sessions.size}`,
        ].join('; '),
    });
    void panel.run().catch((error: unknown) => terminal.error(`panel stopped: ${explain(error)}`));
    await stopped;
  } catch (error) {
    if (error instanceof Disconnected) disconnected(error);
    else if (!signal.aborted) throw error;
  } finally {
    stopping.abort();
    panel?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // The receiver completes what it is writing before it lets go (it was aborted above).
    await Promise.race([receiving, sleep(5_000)]);
  }
  return exitCode;
}

/** The printer's credentials: from the state file, or from a new enrollment; undefined when stopped meanwhile. */
async function connect(
  options: AgentOptions,
  context: {
    terminal: Terminal;
    backoff: ReturnType<typeof backoffFromEnv>;
    signal: AbortSignal;
    disconnected: (error: Disconnected) => void;
  },
): Promise<DeviceTokens | undefined> {
  const { terminal, backoff, signal, disconnected } = context;
  const tokenOptions = {
    statePath: options.statePath,
    backoff,
    signal,
    onDisconnected: disconnected,
    log: (line: string) => terminal.error(line),
  };
  const saved = await readState(options.statePath);
  if (saved) {
    checkSameApi(saved, options.where);
    const credentials = new DeviceTokens(saved, tokenOptions);
    // A refresh now: a printer disconnected while it was off says so at once, and the 90 days slide.
    await credentials.accessToken();
    terminal.line(`connected: printer ${saved.deviceId}`);
    return credentials;
  }
  const apiUrl = await resolveApiUrl(options.where);
  const enrolled = await enroll({
    apiUrl,
    statePath: options.statePath,
    ...(options.name ? { name: options.name } : {}),
    backoff,
    signal,
    say: (text) => terminal.line(text),
  });
  terminal.line(`enrolled: printer ${enrolled.state.deviceId}`);
  return new DeviceTokens(enrolled.state, tokenOptions, enrolled.tokens);
}

/** A state file belongs to one region's API: another --api is a mistake, not a move. */
function checkSameApi(state: AgentState, where: Where): void {
  if (!where.api) return;
  const asked = where.api.replace(/\/+$/, '');
  if (asked !== state.apiUrl) {
    throw new Error(
      `${asked} is not where this printer is enrolled (${state.apiUrl}): use another --state, or \`roger-printer enroll\` to enroll it there`,
    );
  }
}

/** The ledger of printed jobs lives beside the state file it belongs to: `state.json` → `state-printed.json`. */
export function ledgerPathFor(statePath: string): string {
  return join(dirname(statePath), `${basename(statePath, '.json')}-printed.json`);
}

/**
 * runReceiver until the agent stops. It reconnects by itself; should it fail all the same, it is
 * started again after a backoff, since a printer that stops receiving would keep people waiting.
 * Disconnected stops the agent once a refresh confirms it.
 */
async function superviseReceiver(
  context: ReceiverOptions & {
    credentials: DeviceTokens;
    backoff: ReturnType<typeof backoffFromEnv>;
    terminal: Terminal;
    disconnected: (error: Disconnected) => void;
    setState: (state: string) => void;
  },
): Promise<void> {
  const { backoff, terminal, disconnected, setState, signal, ...options } = context;
  for (let attempt = 0; !signal.aborted; attempt++) {
    const started = Date.now();
    setState('running');
    try {
      await runReceiver({ ...options, signal });
      setState('stopped');
      return;
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof Disconnected && (await confirmedDisconnected(options.credentials, disconnected))) return;
      if (Date.now() - started > RECEIVER_STEADY_MS) attempt = 0;
      const delay = backoffDelay(attempt, backoff);
      setState(`failed (${explain(error)})`);
      terminal.error(`receiver stopped: ${explain(error)}; starting it again in ${delay} ms`);
      await sleep(delay, signal);
    }
  }
}

/**
 * The receiver took a refused token for the end of the enrollment. The refresh decides: only an
 * `invalid_grant` there ends it (and reports it through `disconnected`); a token that still
 * refreshes means the refused one had merely expired early on the server's clock, and the
 * receiver starts again with the new one. A printer wrongly told it is disconnected stops
 * printing until someone enrolls it again, so this is worth one request.
 */
async function confirmedDisconnected(credentials: DeviceTokens, disconnected: (error: Disconnected) => void): Promise<boolean> {
  try {
    await credentials.rejected(await credentials.accessToken());
    return false;
  } catch (error) {
    if (!(error instanceof Disconnected)) return false;
    disconnected(error);
    return true;
  }
}
