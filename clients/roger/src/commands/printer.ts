import { InvalidArgumentError, type Command } from 'commander';
import { ApiError } from '@roger-cloud/client-kit/http';
import { signedIn, type Session } from '../credentials.js';
import { IppPrinter, PRINTER_PATH, type RogerQueue } from '../ipp/printer.js';
import { listenOnLoopback } from '../ipp/server.js';
import { submitDocument } from '../printing/submit.js';

/**
 * `roger printer` (docs/clients.md#the-ipp-printer): a local IPP Everywhere-style printer at
 * ipp://localhost:8631/ipp/print, so any application's print dialog prints to Roger. Each job
 * becomes a Roger job of the signed-in user. The printer's address is the one line on stdout;
 * job events go to stderr.
 */
export const DEFAULT_PORT = 8631;

const say = (line: string) => process.stderr.write(`${line}\n`);

export function registerPrinter(program: Command): void {
  program
    .command('printer')
    .description('Run a printer on this computer (IPP, loopback only) that sends what you print to Roger.')
    .option('--port <port>', 'the TCP port to listen on, on 127.0.0.1 and [::1]', port, DEFAULT_PORT)
    .addHelpText(
      'after',
      `
Add it in your system's printer settings as an IPP printer at
  ipp://localhost:${DEFAULT_PORT}${PRINTER_PATH}
It takes PDF documents; each one goes to your OneDrive and waits in Roger until you release it
at a printer. It listens on this computer only, and runs until you stop it (Ctrl+C).`,
    )
    .action(async (flags: { port: number }) => {
      const session = await signedIn();
      const printer = new IppPrinter({ port: flags.port, apiUrl: session.apiUrl, queue: rogerQueue(session), say, explain });
      const listening = await listenOnLoopback(printer, flags.port).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE') throw new Error(`port ${flags.port} is in use (another roger printer?): choose one with --port`);
        throw error;
      });
      // Tests and scripts ask for port 0 and read the real one from this line.
      process.stdout.write(`ipp://localhost:${listening.port}${PRINTER_PATH}\n`);
      say(`roger printer: listening on ${listening.addresses.join(' and ')}; stop with Ctrl+C`);
      await new Promise<void>((resolve) => {
        const stop = () => void listening.close().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

/** Documents to Roger as the signed-in user, through the same path as `roger print`. */
function rogerQueue(session: Session): RogerQueue {
  return {
    submit: (document, fileName, options) =>
      submitDocument(session, { fileName, size: document.length, read: async (start, end) => document.subarray(start, end) }, options),
    cancel: async (rogerJobId) => {
      await session.call(`/api/jobs/${encodeURIComponent(rogerJobId)}`, { method: 'DELETE' });
    },
  };
}

/** Why a job failed, in one line; cli.ts has the same for the program's own errors, but importing the entry file would run it. */
function explain(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (HTTP ${error.status})`;
  return (error as Error)?.message ?? String(error);
}

function port(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65535) throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return number;
}
