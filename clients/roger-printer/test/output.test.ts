import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeStalePartials, writePrintout } from '../src/output.js';

/** "Printing" into the output folder (docs/clients.md#receiving-a-release): whole files only, 0600, and no debris left for ever. */
describe('the output folder', () => {
  const dir = join(tmpdir(), `roger-output-${randomUUID()}`);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('a printout gets its final name only when whole, readable by its user only, named by time and job', async () => {
    const path = await writePrintout(dir, 'job/../1', 'Report.PDF', Buffer.from('%PDF-1.7 x'), new Date('2026-03-04T05:06:07Z'));
    expect(path).toBe(join(dir, '20260304-050607-job____1.pdf'));
    expect(await readFile(path, 'utf8')).toBe('%PDF-1.7 x');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).filter((name) => name.endsWith('.partial'))).toEqual([]);
  });

  it('temporary files an agent killed mid-write left behind are removed once old; a fresh one (a write in progress) stays', async () => {
    await mkdir(dir, { recursive: true });
    const old = join(dir, '.0123456789ab.partial');
    const fresh = join(dir, '.ba9876543210.partial');
    const other = join(dir, '.notes.partial');
    for (const path of [old, fresh, other]) await writeFile(path, 'half a document');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(old, twoHoursAgo, twoHoursAgo);
    await utimes(other, twoHoursAgo, twoHoursAgo);
    expect(await removeStalePartials(dir)).toBe(1);
    const left = await readdir(dir);
    expect(left).not.toContain('.0123456789ab.partial');
    expect(left).toEqual(expect.arrayContaining(['.ba9876543210.partial', '.notes.partial']));
    expect(await removeStalePartials(join(dir, 'not there'))).toBe(0);
  });
});
