import { InvalidArgumentError, Option, type Command } from 'commander';
import { signedIn } from '../credentials.js';
import { describe, GaveUp } from '../printing/patience.js';
import { checkPrintable, fileSource, Refused, type PrintableFile } from '../printing/printable.js';
import { showProgress } from '../printing/progress.js';
import { submitDocument, type PrintOptions } from '../printing/submit.js';

/**
 * `roger print FILE…` (docs/clients.md#printing): every file checked before any is sent, then
 * each uploaded straight to the user's OneDrive and queued. Progress goes to stderr; stdout gets
 * one line per queued file, `queued <jobId> <fileName>`, for scripts.
 */
interface PrintFlags {
  copies?: number;
  duplex?: boolean;
  colour?: boolean;
  color?: boolean;
  paper?: PrintOptions['paperSize'];
}

const PAPER_SIZES = ['A4', 'A3', 'A5', 'Letter', 'Legal'] as const;

export function registerPrint(program: Command): void {
  program
    .command('print')
    .description(
      'Print PDF files on any Roger printer: each goes straight to the Print folder of your OneDrive and waits there until you release it at a printer.',
    )
    .argument('<files...>', 'the PDF files to print')
    .option('--copies <n>', 'copies of each file, 1 to 999', copies)
    .option('--duplex', 'on both sides of the paper')
    .option('--no-duplex', 'on one side only')
    .option('--colour', 'in colour (also --color)')
    .option('--no-colour', 'in black and white (also --no-color)')
    .addOption(new Option('--color').hideHelp())
    .addOption(new Option('--no-color').hideHelp())
    .option('--paper <size>', `paper size: ${PAPER_SIZES.join(', ')}`, paper)
    .addHelpText(
      'after',
      `
Options left out: one copy, both sides, black and white, A4. If an upload is interrupted (the
network, Ctrl-C), run the same command again: it goes on where it stopped.

Examples:
  $ roger print report.pdf
  $ roger print --copies 2 --no-duplex --colour --paper A3 poster.pdf handout.pdf`,
    )
    .action(async (paths: string[], flags: PrintFlags) => {
      const options = printOptions(flags);
      const files = await checkAll(paths);
      const session = await signedIn();
      for (const [index, file] of files.entries()) {
        const display = showProgress(file.fileName);
        try {
          const job = await submitDocument(session, fileSource(file), options, (sent, total) => display.update(sent, total));
          display.stop();
          process.stdout.write(`queued ${job.id} ${file.fileName}\n`);
        } catch (error) {
          display.stop();
          throw new Error(`${file.fileName}: ${describe(error)}${resumeHint(error, paths.slice(index), flags)}`, { cause: error });
        }
      }
    });
}

/** Every file checked, so that nothing is sent when any is refused: one line on stderr per refusal. */
async function checkAll(paths: string[]): Promise<PrintableFile[]> {
  const results = await Promise.allSettled(paths.map((path) => checkPrintable(path)));
  const refused = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
  if (refused.length === 0) return results.map((result) => (result as PromiseFulfilledResult<PrintableFile>).value);
  for (const reason of refused.slice(0, -1)) process.stderr.write(`roger: ${(reason as Error).message}\n`);
  const last = refused.at(-1) as Error;
  if (!(last instanceof Refused)) throw last;
  throw new Error(`${last.message}${paths.length > 1 ? ' (nothing was sent)' : ''}`);
}

function printOptions(flags: PrintFlags): PrintOptions {
  const color = flags.colour ?? flags.color;
  return {
    ...(flags.copies !== undefined ? { copies: flags.copies } : {}),
    ...(flags.duplex !== undefined ? { duplex: flags.duplex } : {}),
    ...(color !== undefined ? { color } : {}),
    ...(flags.paper !== undefined ? { paperSize: flags.paper } : {}),
  };
}

/** After giving up on a service away too long: the command that goes on from there (the files not yet queued). */
function resumeHint(error: unknown, left: string[], flags: PrintFlags): string {
  if (!(error instanceof GaveUp)) return '';
  const color = flags.colour ?? flags.color;
  const words = [
    'roger print',
    ...(flags.copies !== undefined ? [`--copies ${flags.copies}`] : []),
    ...(flags.duplex !== undefined ? [flags.duplex ? '--duplex' : '--no-duplex'] : []),
    ...(color !== undefined ? [color ? '--colour' : '--no-colour'] : []),
    ...(flags.paper !== undefined ? [`--paper ${flags.paper}`] : []),
    ...left.map(shellQuoted),
  ];
  return `. The upload is kept: run \`${words.join(' ')}\` to resume`;
}

function shellQuoted(word: string): string {
  return /^[\w./@%+=:,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function copies(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 999) throw new InvalidArgumentError('copies: a whole number from 1 to 999.');
  return n;
}

function paper(value: string): PrintOptions['paperSize'] {
  const size = PAPER_SIZES.find((known) => known.toLowerCase() === value.toLowerCase());
  if (!size) throw new InvalidArgumentError(`paper: one of ${PAPER_SIZES.join(', ')}.`);
  return size;
}
