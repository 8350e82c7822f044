import { InvalidArgumentError, type Command } from 'commander';
import { oauth } from '@roger-cloud/client-kit/oauth';
import { signInWithBrowser } from '../auth/code-flow.js';
import { connect, inWords } from '../auth/connect.js';
import { signInWithDevice } from '../auth/device-flow.js';
import { signOut } from '../auth/sign-out.js';
import { apiUrlFor } from '../auth/where.js';
import { readLogin, saveLogin, signedIn, type SavedLogin } from '../credentials.js';

/**
 * `roger login` and `roger logout` (docs/clients.md#signing-in). Messages for the person at the
 * terminal go to stderr; the one result line goes to stdout.
 */
interface LoginFlags {
  api?: string;
  discovery?: string;
  tenant?: string;
  region?: string;
  device?: boolean;
  browser: boolean;
  timeout: number;
}

const say = (line: string) => process.stderr.write(`${line}\n`);

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('Sign in to Roger: in your browser, or with a code on another device (--device). The sign-in is kept for next time.')
    .option('--api <url>', 'the regional Roger API to sign in to (env ROGER_API)')
    .option('--discovery <url>', "Roger's discovery address, to find your organization's region (env ROGER_DISCOVERY)")
    .option('--tenant <slug>', 'your organization, as known to Roger, with --discovery (env ROGER_TENANT)')
    .option('--region <id>', 'a region, with --discovery, when you do not want to name your organization')
    .option('--device', 'sign in on another device (your phone) with a code and a QR code: for machines without a browser')
    .option('--no-browser', 'do not open a browser; print the address to open instead')
    .option('--timeout <seconds>', 'how long to wait for the browser', seconds, 300)
    .addHelpText(
      'after',
      `
Where: --api, or --discovery with --tenant; without either, the environment, and then the
server of your previous sign-in. The sign-in is saved in a file only you can read.

Examples:
  $ roger login --api https://eu.roger.example
  $ roger login --discovery https://roger.example --tenant contoso
  $ roger login --device            # on a server or over ssh: approve on your phone
  $ ROGER_API=http://localhost:7071 roger login --no-browser`,
    )
    .action(async (flags: LoginFlags) => {
      const previous = await readLogin().catch(() => undefined);
      const apiUrl = await apiUrlFor(pick(flags, 'api', 'discovery', 'tenant', 'region'), previous?.apiUrl);
      const config = await connect(apiUrl);
      let tokens: oauth.TokenEndpointResponse;
      try {
        tokens = flags.device
          ? await signInWithDevice(config, say)
          : await signInWithBrowser(config, {
              openBrowser: flags.browser,
              timeoutMs: flags.timeout * 1000,
              ...(flags.tenant ? { loginHint: flags.tenant } : {}),
              say,
            });
      } catch (error) {
        throw inWords(error, apiUrl);
      }
      await saveLogin(apiUrl, tokens);
      if (previous) await retire(previous, tokens);
      process.stdout.write(`signed in as ${await whoAmI()} at ${new URL(apiUrl).origin}\n`);
    });

  program
    .command('logout')
    .description('Sign out: end the sign-in at the server and delete it from this computer.')
    .addHelpText(
      'after',
      `
The token file is deleted even when the server cannot be reached; roger then says so, and the
sign-in stays valid at the server until it expires unused.

Example:
  $ roger logout`,
    )
    .action(async () => {
      const result = await signOut();
      if (result.outcome === 'not-signed-in') return void process.stdout.write('not signed in\n');
      const origin = new URL(result.apiUrl).origin;
      if (result.outcome === 'revoked') return void process.stdout.write(`signed out of ${origin}\n`);
      process.stdout.write(`signed out on this computer (${origin})\n`);
      say(`roger: the sign-out could not be sent to ${origin}: ${result.why}. The sign-in stays valid there until it expires unused.`);
    });
}

/** Who the new tokens belong to, in the words of /api/me. */
async function whoAmI(): Promise<string> {
  try {
    const me = await (await signedIn()).call<{ user?: { fullName?: string; username: string } }>('/api/me');
    return me.user?.fullName || me.user?.username || 'an unnamed user';
  } catch (error) {
    say(`roger: signed in, but could not read who you are: ${(error as Error).message}`);
    return 'you';
  }
}

/** A sign-in replaced by a new one is ended at its server, so no live refresh token is left behind; best effort. */
async function retire(previous: SavedLogin, current: oauth.TokenEndpointResponse) {
  if (previous.refreshToken === current.refresh_token) return;
  try {
    await oauth.tokenRevocation(await connect(previous.apiUrl), previous.refreshToken, { token_type_hint: 'refresh_token' });
  } catch {
    // The old sign-in ends by itself when unused; the new one is what matters.
  }
}

function seconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new InvalidArgumentError('a number of seconds greater than 0');
  return parsed;
}

function pick<T extends object, K extends keyof T>(value: T, ...keys: K[]): Partial<Pick<T, K>> {
  const picked: Partial<Pick<T, K>> = {};
  for (const key of keys) if (value[key] !== undefined) picked[key] = value[key];
  return picked;
}
