import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExposedFile, readSecretFile, writeSecretFile } from '../src/secret-file.js';

/**
 * docs/clients.md#files: files of the user's own, written whole, refused when others can read
 * them, with the advice the caller gives for that file.
 */
describe.runIf(process.platform !== 'win32')('secret files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'roger-kit-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('are written 0600 in a 0700 folder, with no temporary file left, and read back', async () => {
    const path = join(dir, 'private', 'tokens.json');
    await writeSecretFile(path, { token: 'x' });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'private'))).mode & 0o777).toBe(0o700);
    expect(await readdir(join(dir, 'private'))).toEqual(['tokens.json']);
    expect(await readSecretFile(path, 'unused')).toEqual({ token: 'x' });
    expect(await readSecretFile(join(dir, 'missing.json'), 'unused')).toBeUndefined();
  });

  it('others can read: refused, with the remedy the caller gave', async () => {
    const path = join(dir, 'open.json');
    await writeFile(path, '{}');
    await chmod(path, 0o640);
    const refused = await readSecretFile(path, 'delete it and enroll again').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ExposedFile);
    expect((refused as Error).message).toBe(`${path} can be read by other users (mode 640): delete it and enroll again`);
  });
});
