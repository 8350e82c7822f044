import { Command, Option } from 'commander';
import { resolveApiUrl, type Where } from '@roger-cloud/client-kit/discovery';
import { runAgent } from './agent.js';
import { TRANSPORTS, type Transport } from './amqp-transport.js';
import { enroll } from './enroll.js';
import { explain } from './explain.js';
import { backoffFromEnv } from './retry.js';
import { defaultStatePath, readState } from './state.js';

/**
 * `roger-printer`, the reference printer agent (docs/clients.md#roger-printer,
 * clients/roger-printer/README.md). This file only declares the commands and turns an error
 * into one line on stderr and exit code 1; the agent itself is agent.ts.
 */
interface WhereOptions {
  api?: string;
  discovery?: string;
  region?: string;
  state: string;
  name?: string;
}

const program = new Command('roger-printer')
  .description(
    'A Roger printer in a terminal: enrolls with your organization, signs people in at its panel, prints their released jobs into a folder.',
  )
  .version(__ROGER_CLIENT_VERSION__)
  .showHelpAfterError('(add --help for usage)')
  .addHelpText(
    'after',
    `
Exit codes: 0 stopped on request, 1 an error, 2 the printer is no longer enrolled (disconnected).
For tests only: ROGER_PRINTER_BACKOFF_MS (first pause before a retry, default 500) and
ROGER_PRINTER_BACKOFF_MAX_MS (longest pause, default 30000).`,
  );

/** The panel's commands (panel.ts), one a line on stdin; PINs and badge numbers are asked for on the next line, never echoed. */
const PANEL_HELP = `
Panel commands (one a line on stdin):
  qr                       a session QR code; the person approves it in the Roger app
  pin <username>           then the PIN on the next line
  badge                    then the badge number, as a card reader types it; the PIN too
                           if the organization asks for badge and PIN
  pin-only                 then the PIN alone (organizations with PIN-only sign-in)
  release [JOB-ID...]      the signed-in person's named jobs, or all their queued ones
  register badge [LABEL]   then the badge number: it becomes the signed-in person's
  status                   one line: printer, API, receiver, sessions
  quit                     stop (so do Ctrl-C and Ctrl-D on a terminal)`;

/** Where Roger is and which state file: the options `start` and `enroll` share. */
function whereOptions(command: Command): Command {
  return command
    .option('--api <url>', 'the regional API URL (no discovery)')
    .option('--discovery <url>', 'the discovery endpoint (with --region)')
    .option('--region <id>', 'the region to enroll in, from discovery')
    .addOption(new Option('--state <file>', 'the state file (0600)').default(defaultStatePath(), '<config dir>/roger-printer/state.json'))
    .option('--name <name>', 'a name for this printer, printed beside its code for the admin who approves it');
}

whereOptions(program.command('start'))
  .description('Enroll if not enrolled yet, then receive releases and take panel commands on stdin (below).')
  .option('--output <dir>', 'where printed documents are written, one file per job', './printed')
  .addHelpText('after', PANEL_HELP)
  .addOption(
    new Option(
      '--transport <transport>',
      'how releases arrive: amqp (AMQP over TLS, port 5671) or websockets (AMQP over WebSockets, port 443)',
    )
      .choices(TRANSPORTS)
      .default('amqp')
      .env('ROGER_PRINTER_TRANSPORT'),
  )
  .action(async (options: WhereOptions & { output: string; transport: Transport }) => {
    process.exitCode = await runAgent({
      where: whereOf(options),
      statePath: options.state,
      outputDir: options.output,
      transport: options.transport,
      ...(options.name ? { name: options.name } : {}),
    });
    // stdin may still be open (a pipe nobody closes): nothing else is left to wait for.
    process.exit();
  });

whereOptions(program.command('enroll'))
  .description('Enroll this printer (again), replacing the state file once an admin has approved it, then exit.')
  .action(async (options: WhereOptions) => {
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    const { state } = await enroll({
      apiUrl: await resolveApiUrl(whereOf(options)),
      statePath: options.state,
      ...(options.name ? { name: options.name } : {}),
      backoff: backoffFromEnv(),
      signal: stop.signal,
      say: (text) => process.stdout.write(`${text}\n`),
    });
    process.stdout.write(`enrolled: printer ${state.deviceId}\n`);
  });

program
  .command('status')
  .description('Say whether this printer is enrolled, and where (reads the state file only).')
  .addOption(new Option('--state <file>', 'the state file (0600)').default(defaultStatePath(), '<config dir>/roger-printer/state.json'))
  .action(async (options: { state: string }) => {
    const state = await readState(options.state);
    if (!state) {
      process.stdout.write(`not enrolled (no ${options.state}): run \`roger-printer start\`\n`);
      process.exitCode = 3;
      return;
    }
    const name = state.name ? ` (${state.name})` : '';
    process.stdout.write(`enrolled: printer ${state.deviceId}${name} at ${state.apiUrl} since ${state.enrolledAt}\n`);
  });

program.parseAsync().catch((error: unknown) => {
  if ((error as Error)?.name === 'AbortError') return;
  process.stderr.write(`roger-printer: ${explain(error)}\n`);
  process.exit(1);
});

function whereOf(options: WhereOptions): Where {
  return {
    ...(options.api ? { api: options.api } : {}),
    ...(options.discovery ? { discovery: options.discovery } : {}),
    ...(options.region ? { region: options.region } : {}),
  };
}
