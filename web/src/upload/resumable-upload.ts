// The browser's side of a OneDrive upload session (docs/web-app.md#printing-a-file-and-onedrive):
// the document goes from the browser straight to the upload URL the API returned, never through
// our servers. Graph's rules: byte ranges in order with Content-Range, each a multiple of 320 KiB
// (but the last), no Authorization header (the URL is the credential). A dropped connection or a
// busy answer is retried with backoff after asking the URL which bytes it still expects
// (`nextExpectedRanges`), so only the lost range goes again.

/** Graph wants every range but the last to be a multiple of 320 KiB. */
export const RANGE_UNIT = 320 * 1024;
/** At most 10 MiB a request (Graph suggests 5-10 MiB); a small file still moves in several steps. */
const MAX_UNITS = 32;
/** Retries in a row without progress before giving up, waiting 1, 2, 4 … 16 s between them. */
const MAX_RETRIES = 6;

/** The size of each range for a file of `size` bytes: about an eighth of it, in 320 KiB units, 320 KiB to 10 MiB. */
export function rangeSize(size: number): number {
  return RANGE_UNIT * Math.min(MAX_UNITS, Math.max(1, Math.ceil(size / (8 * RANGE_UNIT))));
}

/** What OneDrive answers for the finished file. */
export interface DriveItem {
  id: string;
  name: string;
  size: number;
}

/** Why an upload stopped: `expired` (the session is gone: start again), `network` (no connection after retries), `refused`. */
export class UploadFailed extends Error {
  constructor(
    readonly reason: 'expired' | 'network' | 'refused',
    message: string,
  ) {
    super(message);
    this.name = 'UploadFailed';
  }
}

interface Answer {
  status: number;
  body: Record<string, unknown> | undefined;
}

/** One range by XMLHttpRequest, for its upload progress events; rejects only when the connection fails. */
function putRange(url: string, blob: Blob, first: number, total: number, progress: (sent: number) => void): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.setRequestHeader('Content-Range', `bytes ${first}-${first + blob.size - 1}/${total}`);
    xhr.upload.onprogress = (event) => progress(event.loaded);
    xhr.onload = () => resolve({ status: xhr.status, body: parse(xhr.responseText) });
    xhr.onerror = () => reject(new Error('network'));
    xhr.ontimeout = () => reject(new Error('network'));
    xhr.send(blob);
  });
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The first byte the session still expects, from `nextExpectedRanges` ("12345-" or "12345-67890"). */
function nextExpected(body: Record<string, unknown> | undefined): number | undefined {
  const ranges = body?.nextExpectedRanges;
  const first = Array.isArray(ranges) ? Number.parseInt(String(ranges[0]), 10) : Number.NaN;
  return Number.isFinite(first) ? first : undefined;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface UploadOptions {
  /** Bytes on their way so far (including the part of the current range sent). */
  onProgress: (sent: number) => void;
  /** Called before each wait to retry, with the attempt number (1 …). */
  onRetry?: (attempt: number) => void;
  /** Backoff base in ms (tests may shorten it). */
  backoffMs?: number;
}

/** Uploads `file` to a Graph upload session; resolves with the drive item once the last byte is in. */
export async function uploadToSession(url: string, file: Blob, options: UploadOptions): Promise<DriveItem> {
  const total = file.size;
  const size = rangeSize(total);
  const backoff = options.backoffMs ?? 1000;
  let offset = 0;
  let retries = 0;
  const retry = async () => {
    retries += 1;
    if (retries > MAX_RETRIES) throw new UploadFailed('network', 'OneDrive could not be reached');
    options.onRetry?.(retries);
    await wait(backoff * 2 ** (retries - 1));
    // Ask where to go on from: the range that failed may or may not have arrived.
    const status = await fetch(url).then(
      async (response) => ({ status: response.status, body: parse(await response.text()) }),
      () => undefined,
    );
    if (status?.status === 404) throw new UploadFailed('expired', 'The upload session has expired');
    const next = status?.status === 200 ? nextExpected(status.body) : undefined;
    if (next !== undefined) offset = next;
  };
  for (;;) {
    const end = Math.min(offset + size, total);
    let answer: Answer;
    try {
      answer = await putRange(url, file.slice(offset, end), offset, total, (sent) => options.onProgress(offset + sent));
    } catch {
      await retry();
      continue;
    }
    if (answer.status === 200 || answer.status === 201) {
      options.onProgress(total);
      return answer.body as unknown as DriveItem;
    }
    if (answer.status === 202) {
      retries = 0;
      offset = nextExpected(answer.body) ?? end;
      options.onProgress(offset);
    } else if (answer.status === 416) {
      offset = nextExpected(answer.body) ?? offset;
    } else if (answer.status === 404) {
      throw new UploadFailed('expired', 'The upload session has expired');
    } else if (answer.status === 429 || answer.status >= 500) {
      await retry();
    } else {
      const error = answer.body?.error as { message?: string } | undefined;
      throw new UploadFailed('refused', error?.message ?? `OneDrive answered ${answer.status}`);
    }
  }
}
