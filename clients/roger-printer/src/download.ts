import { isLoopbackHost } from '@roger-cloud/client-kit/discovery';

/**
 * Fetching a released document from its `downloadUrl` (docs/clients.md#bad-documents): a
 * pre-authorised OneDrive URL, so no Authorization header (the printer's token must not leave
 * for another host). Bounded in size and time. A failure is either final for this release (the
 * URL expired or is gone, the body is not the document it claims to be: report the job failed)
 * or transient (the network, a 5xx: try again later, the message is not completed).
 */

/** Failure reasons the API takes in `POST /api/jobs/{id}/printed` `{ failed }` that a download can cause. */
export type DownloadFailureReason = 'download-failed' | 'document-unreadable' | 'document-missing';

/** This release cannot be printed: report it failed and complete its message. */
export class DownloadFailed extends Error {
  constructor(
    readonly reason: DownloadFailureReason,
    detail: string,
  ) {
    super(detail);
    this.name = 'DownloadFailed';
  }
}

/** Worth trying again: the document's host is unreachable, slow or failing for a moment. */
export class DownloadInterrupted extends Error {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.name = 'DownloadInterrupted';
  }
}

export interface DownloadLimits {
  /** Larger documents are refused (a printer has finite memory and disk). */
  readonly maxBytes: number;
  /** The whole download, headers and body. */
  readonly timeoutMs: number;
}

export const DOWNLOAD_LIMITS: DownloadLimits = { maxBytes: 256 * 1024 * 1024, timeoutMs: 120_000 };

/** The document's bytes, checked against what its file name says it is. */
export async function downloadDocument(
  url: string,
  fileName: string,
  signal: AbortSignal,
  limits: DownloadLimits = DOWNLOAD_LIMITS,
): Promise<Uint8Array> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DownloadFailed('download-failed', 'the download URL is not a URL');
  }
  // The URL itself is the permission to read the document: over plain http anyone on the way
  // could read it and the document. Plain http only to this machine (a local run's Graph stand-in).
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)))
    throw new DownloadFailed('download-failed', 'the download URL is not https');

  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const both = AbortSignal.any([signal, timeout]);
  let response: Response;
  try {
    response = await fetch(parsed, { signal: both, redirect: 'follow' });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new DownloadInterrupted(timeout.aborted ? 'the download timed out' : `cannot reach ${parsed.host}`, { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    // 408/429/5xx: the host's trouble, not the URL's. Anything else (401/403 expired, 404/410
    // gone) will not get better by asking again: the user must release the job again.
    if (response.status === 408 || response.status === 429 || response.status >= 500) {
      throw new DownloadInterrupted(`the document's host answered ${response.status}`);
    }
    if (response.status === 404 || response.status === 410)
      throw new DownloadFailed('document-missing', `the document is gone (${response.status})`);
    throw new DownloadFailed('download-failed', `the download URL was refused (${response.status}); it may have expired`);
  }
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limits.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new DownloadFailed('document-unreadable', `the document is larger than ${limits.maxBytes} bytes`);
  }
  const bytes = await readBounded(response, limits.maxBytes, signal, timeout);
  checkContent(bytes, fileName);
  return bytes;
}

async function readBounded(response: Response, maxBytes: number, signal: AbortSignal, timeout: AbortSignal): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for await (const chunk of response.body ?? []) {
      length += chunk.length;
      if (length > maxBytes) throw new DownloadFailed('document-unreadable', `the document is larger than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof DownloadFailed || signal.aborted) throw error;
    throw new DownloadInterrupted(timeout.aborted ? 'the download timed out' : 'the download broke off', { cause: error });
  }
  return Buffer.concat(chunks, length);
}

/**
 * A document that is not what its name claims (a `.pdf` that is not a PDF, an empty file)
 * would print garbage or jam a real printer's interpreter: refused as unreadable.
 */
export function checkContent(bytes: Uint8Array, fileName: string): void {
  if (bytes.length === 0) throw new DownloadFailed('document-unreadable', 'the document is empty');
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  if (/\.pdf$/i.test(fileName) || !/\.[A-Za-z0-9]+$/.test(fileName)) {
    // PDF readers accept the header anywhere in the first 1024 bytes (ISO 32000-1, Annex H).
    if (!head.includes('%PDF-')) throw new DownloadFailed('document-unreadable', 'the document is not a PDF');
  }
}
