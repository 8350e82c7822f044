import { join } from 'node:path';
import { configDir, readSecretFile, writeSecretFile } from '@roger-cloud/client-kit/secret-file';

/**
 * Uploads under way, so that running `roger print` again on the same file goes on where it
 * stopped (docs/clients.md#printing). One file in roger's config folder, 0600 like the
 * credentials: an upload URL lets anyone who has it write to the user's OneDrive until it
 * expires. Keyed by the document's resume key (the file's path, size and modification time: an
 * edited file starts over). An entry goes when its job is ready, or when it is found expired.
 */
export interface PendingUpload {
  /** The API the job was registered with: after signing in elsewhere, the job is not ours to resume. */
  readonly apiUrl: string;
  readonly jobId: string;
  readonly uploadUrl: string;
  /** ISO time the upload session expires. */
  readonly expiresAt: string;
  /** The options the job was registered with: asked again with others, the upload starts over. */
  readonly options: Record<string, unknown>;
  /** Known once the last range was answered: only the ready call was left. */
  readonly itemId?: string;
}

type PendingFile = Record<string, PendingUpload>;

export const pendingUploadsPath = () => join(configDir('roger'), 'uploads.json');

/** Its upload URLs may have been copied: deleted, each upload under way starts over (into a new upload session). */
const readPending = () => readSecretFile<PendingFile>(pendingUploadsPath(), 'delete it (uploads under way then start over)');

export async function pendingUpload(key: string): Promise<PendingUpload | undefined> {
  return (await readPending())?.[key];
}

/**
 * Records (or with `undefined`, forgets) the upload of `key`; expired entries are dropped on the
 * way. Two roger processes writing at once may lose one's entry: that upload then starts over.
 */
export async function rememberUpload(key: string, upload: PendingUpload | undefined, now = Date.now()): Promise<void> {
  const entries = (await readPending()) ?? {};
  const kept = Object.fromEntries(Object.entries(entries).filter(([k, entry]) => k !== key && Date.parse(entry.expiresAt) > now));
  if (upload) kept[key] = upload;
  if (Object.keys(kept).length === 0 && Object.keys(entries).length === 0) return;
  await writeSecretFile(pendingUploadsPath(), kept);
}
