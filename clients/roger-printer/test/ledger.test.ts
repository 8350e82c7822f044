import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSecretFile } from '@roger-cloud/client-kit/secret-file';
import { Ledger } from '../src/ledger.js';

/** docs/clients.md#never-twice: the ledger file, refused like a token file when others can read it, with its own advice. */
describe.runIf(process.platform !== 'win32')('the ledger of printed jobs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'roger-ledger-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('holds no token: when others can read it, the advice is to make it private again, not to sign in or enroll', async () => {
    const path = join(dir, 'state-printed.json');
    await writeSecretFile(path, { version: 1, entries: [] });
    await chmod(path, 0o644);
    const refused = await Ledger.open(path).catch((error: unknown) => error);
    expect((refused as Error).message).toBe(`${path} can be read by other users (mode 644): make it private again (chmod 600 ${path})`);
    await chmod(path, 0o600);
    expect((await Ledger.open(path)).unreported()).toEqual([]);
  });
});
