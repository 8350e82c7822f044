import { Command } from 'commander';
import { ApiError, Unreachable } from '@roger-cloud/client-kit/http';
import { registerJobs } from './commands/jobs.js';
import { registerLogin } from './commands/login.js';
import { registerPrint } from './commands/print.js';
import { registerPrinter } from './commands/printer.js';
import { NotSignedIn } from './credentials.js';

/**
 * `roger`, the desktop client (docs/clients.md#roger, clients/roger/README.md). Each command is
 * registered by its own module under commands/; this file only assembles them and turns an
 * error into one line on stderr and exit code 1.
 */
const program = new Command('roger')
  .description('Print from this computer to any Roger printer: your files go to your OneDrive, never through Roger.')
  .version(__ROGER_CLIENT_VERSION__)
  .showHelpAfterError('(add --help for usage)');
registerLogin(program);
registerPrint(program);
registerJobs(program);
registerPrinter(program);

program.parseAsync().catch((error: unknown) => {
  process.stderr.write(`roger: ${explain(error)}\n`);
  process.exitCode = 1;
});

/** What went wrong in one sentence a person can act on; never a token or a stack. */
export function explain(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (HTTP ${error.status})`;
  if (error instanceof NotSignedIn || error instanceof Unreachable) return error.message;
  return (error as Error)?.message ?? String(error);
}
