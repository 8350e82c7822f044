import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSecretFile } from '@roger-cloud/client-kit/secret-file';
import type { LocalMicrosoft } from '../../../tools/microsoft/local-microsoft.js';
import { freshTenant, uniqueName } from '../../../tests/helpers/fixtures.js';
import { consentToOneDrive, loadCallback } from '../../../tests/helpers/onedrive.js';
import { api, type Person } from '../../../tests/helpers/roger.js';
import type { TestHost } from '../../../tests/helpers/test-host.js';
import type { SavedLogin } from '../src/credentials.js';

/**
 * What the `roger print` tests share (clients/roger/test/print*.test.ts): a person signed in to
 * roger (the credentials file written as `roger login` writes it, in a config folder of the
 * test's own), their OneDrive connected or not, a folder of files to print, and the real program
 * run as a child process.
 */
const ROGER = fileURLToPath(new URL('../bin/roger.js', import.meta.url));

/** Graph's unit for upload ranges; with SMALL_RANGES roger sends ranges of exactly this size. */
export const FRAGMENT = 320 * 1024;
/** Ranges of 320 KiB (roger's test knob), so a document of a megabyte or so goes in several. */
export const SMALL_RANGES = { ROGER_UPLOAD_FRAGMENT_KIB: '320' };

const person: Person = { email: 'robin@northwind.test', username: 'robin', fullName: 'Robin Printer', password: 'robin-password-12' };

export interface Printer {
  /** The user's access token, for looking at their jobs through the API. */
  readonly token: string;
  /** Their Microsoft account (the OneDrive the stand-in keeps). */
  readonly upn: string;
  /** roger's config folder (credentials, uploads in progress). */
  readonly configDir: string;
  /** A folder for the files to print. */
  readonly folder: string;
  /** Writes a file into `folder`; its path. */
  file(name: string, bytes: Uint8Array): Promise<string>;
  /** `roger <args>` as this person, in `folder`. */
  roger(args: string[], env?: Record<string, string>): RogerRun;
  /** Their jobs, newest first. */
  jobs(): Promise<Array<{ id: string; fileName: string; size: number; state: string; options: Record<string, unknown> }>>;
}

/**
 * A person of a tenant of the test's own, signed in to roger. `apiUrl`: where roger and the
 * OAuth client reach the API (a proxy in front of the host, say); the host's own URL otherwise.
 */
export async function signedInPrinter(
  host: TestHost,
  ms: LocalMicrosoft,
  options: { connected?: boolean; apiUrl?: string } = {},
): Promise<Printer> {
  const apiUrl = options.apiUrl ?? host.url;
  // The OAuth client checks the issuer it discovers: reach the host by the API URL.
  const reached: TestHost = Object.create(host, { url: { value: apiUrl } }) as TestHost;
  // The tenant's admin prints like anyone: one person to hash a password for, not two.
  const { admin: member } = await freshTenant(reached, 'northwind', person);
  const expiresAt = (JSON.parse(Buffer.from(member.token.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
  const tokens = { access_token: member.token, refresh_token: member.refresh, expires_at: expiresAt };
  const upn = `${uniqueName('robin')}@northwind.example`;
  if (options.connected !== false) {
    const { callbackUrl } = await consentToOneDrive(host, ms, tokens.access_token, upn);
    const loaded = await loadCallback(callbackUrl);
    if (loaded.status !== 200) throw new Error(`OneDrive connection: ${loaded.status}`);
  }
  const configDir = await mkdtemp(join(tmpdir(), 'roger-config-'));
  const folder = await mkdtemp(join(tmpdir(), 'roger-files-'));
  // As `roger login` saves it (credentials.ts): the refresh token is never used within a test.
  const login: SavedLogin = {
    apiUrl,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token!,
    expiresAt: new Date(tokens.expires_at * 1000).toISOString(),
  };
  await writeSecretFile(join(configDir, 'credentials.json'), login);
  return {
    token: tokens.access_token,
    upn,
    configDir,
    folder,
    async file(name, bytes) {
      const path = join(folder, name);
      await writeFile(path, bytes);
      return path;
    },
    roger: (args, env = {}) => runRoger(args, { cwd: folder, env: { ROGER_CONFIG_DIR: configDir, ...env } }),
    async jobs() {
      const answer = await api(host, tokens.access_token, 'GET', '/api/jobs');
      if (answer.status !== 200) throw new Error(`jobs: ${answer.status}`);
      return answer.body.items;
    },
  };
}

export interface RogerRun {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code (null when killed) once the program has ended. */
  readonly exited: Promise<number | null>;
  /** Resolves once stderr has matched `pattern`. */
  stderrMatches(pattern: RegExp): Promise<void>;
}

/** The real program, as a person runs it: its own process, stdout and stderr pipes (not a terminal). */
export function runRoger(args: string[], options: { cwd: string; env: Record<string, string> }): RogerRun {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ROGER_')));
  const child = spawn(process.execPath, [ROGER, ...args], { cwd: options.cwd, env: { ...env, ...options.env }, stdio: 'pipe' });
  let out = '';
  let err = '';
  const waiting: Array<{ pattern: RegExp; resolve: () => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    for (const wait of waiting.splice(0)) {
      if (wait.pattern.test(err)) wait.resolve();
      else waiting.push(wait);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    stderrMatches: (pattern) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(err)) return resolve();
        waiting.push({ pattern, resolve });
        void exited.then(() => (pattern.test(err) ? resolve() : reject(new Error(`roger ended without ${pattern}: ${err}`))));
      }),
  };
}

/** The whole run: exit code, stdout and stderr. */
export async function finished(run: RogerRun) {
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}
