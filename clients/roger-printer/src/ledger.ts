import { ExposedFile, readSecretFile, writeSecretFile } from '@roger-cloud/client-kit/secret-file';
import type { PrintedFigures } from './figures.js';

/**
 * The jobs this printer has printed (docs/clients.md#never-twice): a job can reach the printer
 * again — its message redelivered after a lock lapsed, or the job released once more by a later
 * session when an earlier send went out but was not recorded — and must not print twice. The
 * list is bounded (the newest LEDGER_SIZE ids; a release message lives 20 minutes, so a job
 * that old is never delivered again) and persisted whole in a 0600 file before the message is
 * completed, so a crash between the two still remembers it.
 */
export const LEDGER_SIZE = 10_000;

export interface LedgerEntry {
  readonly jobId: string;
  /** The session that released it (the message's correlationId): whose token reports it. */
  readonly sessionId: string;
  readonly printedAt: string;
  /** The job's owner (the release's `user.id`): a report with the device token names them once the session's token is gone. */
  readonly userId?: string;
  /** What was printed, when the agent could count it; reported with `printed`. */
  readonly figures?: PrintedFigures;
  /** The API has acknowledged `printed` (or can no longer be told: the session ended). */
  readonly reported: boolean;
}

interface LedgerFile {
  readonly version: 1;
  readonly entries: LedgerEntry[];
}

export class Ledger {
  private readonly entries = new Map<string, LedgerEntry>();

  private constructor(
    private readonly path: string,
    private readonly size: number,
  ) {}

  /** The ledger at `path`, empty when the file does not exist yet. */
  static async open(path: string, size = LEDGER_SIZE): Promise<Ledger> {
    const ledger = new Ledger(path, size);
    let saved: LedgerFile | undefined;
    try {
      // Job, session and user ids and page counts, no token: made private again, it can be used as it is.
      saved = await readSecretFile<LedgerFile>(path, `make it private again (chmod 600 ${path})`);
      if (saved !== undefined && !Array.isArray(saved?.entries)) throw new Error('it holds no list of jobs');
    } catch (error) {
      if (error instanceof ExposedFile) throw error;
      // Said once, naming the file, rather than a bare JSON error at every start of the receiver.
      // Not deleted for the person: without it a job released again could print twice.
      throw new Error(
        `${path} cannot be used as the list of jobs this printer printed (${(error as Error).message}): move it away to start an empty one`,
        { cause: error },
      );
    }
    for (const entry of saved?.entries ?? []) {
      if (typeof entry?.jobId === 'string') ledger.entries.set(entry.jobId, entry);
    }
    return ledger;
  }

  get(jobId: string): LedgerEntry | undefined {
    return this.entries.get(jobId);
  }

  /** Printed and not yet acknowledged by the API, oldest first. */
  unreported(): LedgerEntry[] {
    return [...this.entries.values()].filter((entry) => !entry.reported);
  }

  /** Records a printed job and saves the ledger (before its message is completed). */
  async add(entry: LedgerEntry): Promise<void> {
    this.entries.delete(entry.jobId);
    this.entries.set(entry.jobId, entry);
    // A Map iterates in insertion order: the first keys are the oldest.
    for (const jobId of this.entries.keys()) {
      if (this.entries.size <= this.size) break;
      this.entries.delete(jobId);
    }
    await this.save();
  }

  async markReported(jobId: string): Promise<void> {
    const entry = this.entries.get(jobId);
    if (!entry || entry.reported) return;
    this.entries.set(jobId, { ...entry, reported: true });
    await this.save();
  }

  private save(): Promise<void> {
    const file: LedgerFile = { version: 1, entries: [...this.entries.values()] };
    return writeSecretFile(this.path, file);
  }
}
