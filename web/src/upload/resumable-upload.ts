// The browser's side of a OneDrive upload session (docs/web-app.md#printing-a-file-and-onedrive):
// the document goes from the browser straight to the upload URL the API returned, never through
// our servers. Graph's rules: byte ranges in order with Content-Range, each a multiple of 320 KiB
// (but the last), no Authorization header (the URL is the credential). Anything but a plain
// success (a dropped or stalled connection, a busy answer, a range refused with 416) is retried
// with backoff after asking the URL which bytes it still expects (`nextExpectedRanges`, which
// Graph promises on that GET and nowhere else), so only the lost range goes again.
//
// The logic here takes the transport as a function (`SendRange`): the browser sends each range by
// XMLHttpRequest for its upload progress (xhr-range.ts), a test in Node by fetch; the rest is the
// same code, and this file needs nothing of the DOM.

/** Graph wants every range but the last to be a multiple of 320 KiB. */
export const RANGE_UNIT = 320 * 1024;
/** At most 10 MiB a request (Graph suggests 5-10 MiB); a small file still moves in several steps. */
const MAX_UNITS = 32;
/** Retries in a row without progress before giving up, waiting 1, 2, 4 … 16 s between them (or longer, as Retry-After says). */
export const MAX_RETRIES = 6;
/** A range whose connection moves no byte for this long is given up and retried (a mobile link gone silent). */
export const STALL_TIMEOUT_MS = 60_000;

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

/**
 * Why an upload stopped: `expired` (the session is gone: start again), `network` (no connection
 * after retries), `refused` (OneDrive said no), `cancelled` (the person stopped it).
 */
export class UploadFailed extends Error {
  constructor(
    readonly reason: 'expired' | 'network' | 'refused' | 'cancelled',
    message: string,
  ) {
    super(message);
    this.name = 'UploadFailed';
  }
}

/** One range's answer; `retryAfter` is the header's value when the transport can read it. */
export interface RangeAnswer {
  status: number;
  body: Record<string, unknown> | undefined;
  retryAfter?: string | null;
}

/**
 * Sends one range; rejects when the connection fails, stalls for `stallMs` or `signal` aborts
 * (then with the signal's reason).
 */
export type SendRange = (
  url: string,
  range: Blob,
  contentRange: string,
  options: { signal: AbortSignal; stallMs: number; onProgress: (sent: number) => void },
) => Promise<RangeAnswer>;

export function parse(text: string): Record<string, unknown> | undefined {
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

/** Retry-After in ms (seconds or an HTTP date); 0 when absent or unreadable. */
function retryAfterMs(value: string | null | undefined): number {
  if (!value) return 0;
  const ms = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) ? Math.max(0, ms) : 0;
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export interface UploadOptions {
  /** Bytes on their way so far (including the part of the current range sent). */
  onProgress: (sent: number) => void;
  /** Called before each wait to retry, with the attempt number (1 …). */
  onRetry?: (attempt: number) => void;
  /** Backoff base in ms (tests may shorten it). */
  backoffMs?: number;
  /** How long a range may move no byte (tests may shorten it). */
  stallMs?: number;
  /** Stops the upload: it then rejects with UploadFailed('cancelled'). */
  signal?: AbortSignal;
  /** The transport (xhrSendRange in the browser). */
  sendRange: SendRange;
}

/**
 * How an upload ended: the drive item OneDrive answered, or `unconfirmed` when the last range was
 * sent but its answer was lost and the session is gone since. The file is then most likely in
 * OneDrive (Graph closes a session when its last byte arrives): ask the API to find it (POST
 * /api/jobs/{id}/ready without itemId) before telling anyone to start again.
 */
export type UploadResult = { item: DriveItem } | { unconfirmed: true };

/** Uploads `file` to a Graph upload session. */
export async function uploadToSession(url: string, file: Blob, options: UploadOptions): Promise<UploadResult> {
  const total = file.size;
  const size = rangeSize(total);
  const backoff = options.backoffMs ?? 1000;
  const send = options.sendRange;
  const signal = options.signal ?? new AbortController().signal;
  let offset = 0;
  let retries = 0;
  /** PUTs of the last range begun so far: once one left, a vanished session may mean a finished file. */
  let lastRangeSent = 0;

  /** Waits (backoff, at least Retry-After), then asks the session where to go on from; 'gone' when it no longer exists. */
  const retry = async (retryAfter?: string | null): Promise<'gone' | undefined> => {
    retries += 1;
    if (retries > MAX_RETRIES) throw new UploadFailed('network', 'OneDrive could not be reached');
    options.onRetry?.(retries);
    await wait(Math.max(backoff * 2 ** (retries - 1), retryAfterMs(retryAfter)), signal);
    const status = await fetch(url, { signal }).then(
      async (response) => ({ status: response.status, body: parse(await response.text()) }),
      (error: unknown) => {
        if (signal.aborted) throw error;
        return undefined;
      },
    );
    if (status?.status === 404) return 'gone';
    const next = status?.status === 200 ? nextExpected(status.body) : undefined;
    if (next !== undefined) offset = next;
    return undefined;
  };
  const gone = (): UploadResult => {
    if (lastRangeSent > 0) return { unconfirmed: true };
    throw new UploadFailed('expired', 'The upload session has expired');
  };

  try {
    for (;;) {
      const end = Math.min(offset + size, total);
      const isLast = end === total;
      let answer: RangeAnswer;
      try {
        answer = await send(url, file.slice(offset, end), `bytes ${offset}-${end - 1}/${total}`, {
          signal,
          stallMs: options.stallMs ?? STALL_TIMEOUT_MS,
          onProgress: (sent) => options.onProgress(offset + sent),
        });
      } catch (error) {
        if (signal.aborted) throw error;
        if (isLast) lastRangeSent += 1;
        if ((await retry()) === 'gone') return gone();
        continue;
      }
      if (answer.status === 200 || answer.status === 201) {
        options.onProgress(total);
        return { item: answer.body as unknown as DriveItem };
      }
      if (answer.status === 202) {
        retries = 0;
        offset = nextExpected(answer.body) ?? end;
        options.onProgress(offset);
      } else if (answer.status === 404) {
        // No session: a finished file only if a PUT of the last range left before, be it this
        // one's earlier try, or a copy the browser sent again by itself after a lost answer.
        if (isLast) lastRangeSent += 1;
        return gone();
      } else if (answer.status === 416 || answer.status === 429 || answer.status >= 500) {
        // 416: the range does not fit what the session holds; only the status GET says what does.
        // A 5xx may have come after the range was taken in.
        if (isLast && answer.status >= 500) lastRangeSent += 1;
        if ((await retry(answer.retryAfter)) === 'gone') return gone();
      } else {
        const error = answer.body?.error as { message?: string } | undefined;
        throw new UploadFailed('refused', error?.message ?? `OneDrive answered ${answer.status}`);
      }
    }
  } catch (error) {
    if (signal.aborted) throw new UploadFailed('cancelled', 'The upload was cancelled');
    throw error;
  }
}

/** Cancels an upload session (best effort: a session nobody finishes also lapses by itself). */
export async function cancelSession(url: string): Promise<void> {
  await fetch(url, { method: 'DELETE', signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
}
