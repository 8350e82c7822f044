import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { extname, join } from 'node:path';

/**
 * "Printing" (docs/clients.md#receiving-a-release): the document written into the output folder, one
 * file per job, named `<UTC time YYYYMMDD-HHMMSS>-<jobId><extension>`. It is written under a
 * temporary name and renamed, so a file with its final name is always whole: whoever watches
 * the folder (a person, a test, a real print spooler) never picks up half a document.
 */
export async function writePrintout(
  outputDir: string,
  jobId: string,
  fileName: string,
  bytes: Uint8Array,
  now = new Date(),
): Promise<string> {
  await mkdir(outputDir, { recursive: true });
  const path = join(outputDir, `${timestamp(now)}-${safeJobId(jobId)}${extensionOf(fileName)}`);
  const temporary = join(outputDir, `.${randomBytes(6).toString('hex')}${PARTIAL}`);
  const file = await open(temporary, 'wx', 0o600);
  try {
    await file.writeFile(bytes);
    await file.sync();
  } catch (error) {
    await file.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await file.close();
  await rename(temporary, path);
  return path;
}

const PARTIAL = '.partial';
/** Older than any write in progress (a download is given two minutes): left by an agent killed mid-write. */
const STALE_PARTIAL_MS = 60 * 60_000;

/**
 * Removes the temporary files an agent killed in the middle of a write left behind (they never
 * have a final name, so nothing took them for a document); the count removed. Only old ones:
 * another agent writing into the same folder may be in the middle of one.
 */
export async function removeStalePartials(outputDir: string, now = Date.now()): Promise<number> {
  const names = await readdir(outputDir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    if (!/^\.[0-9a-f]{12}\.partial$/.test(name)) continue;
    const path = join(outputDir, name);
    const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: now }));
    if (now - mtimeMs < STALE_PARTIAL_MS) continue;
    await unlink(path).then(
      () => removed++,
      () => undefined,
    );
  }
  return removed;
}

/** `.pdf` unless the job's file name has an extension of its own (letters and digits, as a file system takes it). */
export function extensionOf(fileName: string): string {
  const extension = extname(fileName).toLowerCase();
  return /^\.[a-z0-9]{1,10}$/.test(extension) ? extension : '.pdf';
}

const timestamp = (time: Date) => time.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

/** Job ids come from the API; a message could still carry anything, and a path must not climb out of the folder. */
const safeJobId = (jobId: string) => jobId.replace(/[^A-Za-z0-9_-]/g, '_');
