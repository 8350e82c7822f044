import type { Session } from '../credentials.js';

/**
 * Printing one document (docs/clients.md#printing): register the job, upload the bytes straight
 * to the user's OneDrive through the upload session the API returns (never through Roger),
 * resuming where an interrupted upload stopped, then mark the job ready. Used by `roger print`
 * and by the IPP printer (`roger printer`).
 */
export interface PrintOptions {
  readonly copies?: number;
  readonly duplex?: boolean;
  readonly color?: boolean;
  readonly paperSize?: 'A4' | 'A3' | 'A5' | 'Letter' | 'Legal';
}

/** A document to print: its name as shown on the panel, its size, and its bytes by range. */
export interface DocumentSource {
  readonly fileName: string;
  readonly size: number;
  /** Bytes [start, end) of the document. */
  read(start: number, end: number): Promise<Uint8Array>;
  /** Identifies the same document across runs (path, size and modification time) so an upload can resume. */
  readonly resumeKey?: string;
}

export interface PrintedJob {
  readonly id: string;
  readonly state: string;
}

export async function submitDocument(
  _session: Session,
  _document: DocumentSource,
  _options: PrintOptions,
  _progress?: (sentBytes: number, totalBytes: number) => void,
): Promise<PrintedJob> {
  throw new Error('not yet built');
}
