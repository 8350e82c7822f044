import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import envPaths from 'env-paths';

/**
 * Files that hold tokens (docs/clients.md#files): readable and writable by their user only
 * (0600, in a 0700 folder), written whole or not at all (a temporary file renamed over the old
 * one), so a crash mid-write never leaves half a token file.
 */

/** The program's folder in the platform's config directory; ROGER_CONFIG_DIR overrides it (tests, several profiles). */
export function configDir(program: string): string {
  return process.env.ROGER_CONFIG_DIR || envPaths(program, { suffix: '' }).config;
}

/** A file that grants anything to group or others, refused when read; the message says what to do for that file. */
export class ExposedFile extends Error {
  constructor(path: string, mode: number, remedy: string) {
    super(`${path} can be read by other users (mode ${(mode & 0o777).toString(8)}): ${remedy}`);
    this.name = 'ExposedFile';
  }
}

/**
 * The JSON in `path`, or undefined when there is no such file. `remedy` is what the person is
 * told to do when others can read it, which differs by file: a token file is deleted and the
 * sign-in made again (the token may already be copied); a file without secrets is just made
 * private again.
 */
export async function readSecretFile<T>(path: string, remedy: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (process.platform !== 'win32') {
    const { mode } = await stat(path);
    // Like ssh with a private key: a token file others could read may already be copied.
    if (mode & 0o077) throw new ExposedFile(path, mode, remedy);
  }
  return JSON.parse(text) as T;
}

export async function writeSecretFile(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temporary, 'wx', 0o600);
  try {
    await file.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await chmod(temporary, 0o600); // a umask cannot widen it, but an odd filesystem might
  await rename(temporary, path);
}

export async function deleteSecretFile(path: string): Promise<void> {
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}
