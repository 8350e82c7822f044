/**
 * The web app's upload logic (web/src/upload/resumable-upload.ts) in Node, against the Graph
 * stand-in's real upload URLs over sockets: the browser sends ranges by XMLHttpRequest, this test
 * by fetch; the retry and resume logic under test is the same code. Short backoffs throughout.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalMicrosoft, type LocalMicrosoft } from '../../tools/microsoft/local-microsoft.js';
import {
  MAX_RETRIES,
  RANGE_UNIT,
  UploadFailed,
  cancelSession,
  parse,
  rangeSize,
  uploadToSession,
  type SendRange,
  type UploadOptions,
} from '../../web/src/upload/resumable-upload.js';

const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
const CLIENT_SECRET = 'local-secret';
const REDIRECT_URI = 'http://localhost:7071/api/onedrive/callback';
const UPN = 'ivy@contoso.example';
/** 1 MiB: four ranges of 320 KiB, 320 KiB, 320 KiB and 64 KiB. */
const SIZE = 1024 * 1024;

/** What the test counts of each range sent. */
interface Sent {
  contentRange: string;
  outcome: number | 'failed';
}

/** The Node transport: fetch, a stall given up after `stallMs` (no progress events in Node: the whole range counts). */
function fetchSendRange(log: Sent[], rewrite = (contentRange: string) => contentRange): SendRange {
  return async (url, range, contentRange, { signal, stallMs, onProgress }) => {
    const sent: Sent = { contentRange, outcome: 'failed' };
    log.push(sent);
    const response = await fetch(url, {
      method: 'PUT',
      headers: { 'Content-Range': rewrite(contentRange) },
      body: Buffer.from(await range.arrayBuffer()),
      signal: AbortSignal.any([signal, AbortSignal.timeout(stallMs)]),
    });
    onProgress(range.size);
    sent.outcome = response.status;
    return { status: response.status, body: parse(await response.text()), retryAfter: response.headers.get('retry-after') };
  };
}

describe('the web app’s resumable upload against the Graph stand-in', () => {
  let ms: LocalMicrosoft;
  let access: string;
  let folderId: string;

  beforeAll(async () => {
    ms = await startLocalMicrosoft({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      client_id: CLIENT_ID,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'Files.ReadWrite offline_access',
      state: 's',
      code_challenge_method: 'S256',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      login_hint: UPN,
    });
    const authorized = await fetch(`${ms.authority}/oauth2/v2.0/authorize?${query}`, { redirect: 'manual' });
    const code = new URL(authorized.headers.get('location')!).searchParams.get('code')!;
    const token = await fetch(`${ms.authority}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT_URI,
      }),
    });
    access = ((await token.json()) as { access_token: string }).access_token;
    ms.putFile(UPN, 'Print/earlier.pdf', Buffer.from('x'));
    folderId = (await item('Print')).id;
  });
  afterAll(() => ms?.close());

  async function item(path: string): Promise<{ id: string }> {
    const response = await fetch(`${ms.graphUrl}/v1.0/me/drive/root:/${path}`, { headers: { Authorization: `Bearer ${access}` } });
    return (await response.json()) as { id: string };
  }

  /** A fresh upload session in Print for `name`, and the document's bytes. */
  async function session(name: string): Promise<{ url: string; bytes: Buffer; file: Blob }> {
    const response = await fetch(`${ms.graphUrl}/v1.0/me/drive/items/${folderId}:/${encodeURIComponent(name)}:/createUploadSession`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${access}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ item: { '@microsoft.graph.conflictBehavior': 'rename' } }),
    });
    const bytes = randomBytes(SIZE);
    return { url: ((await response.json()) as { uploadUrl: string }).uploadUrl, bytes, file: new Blob([bytes]) };
  }

  const options = (log: Sent[], more: Partial<UploadOptions> = {}): UploadOptions => ({
    onProgress: () => undefined,
    backoffMs: 10,
    stallMs: 5_000,
    sendRange: fetchSendRange(log),
    ...more,
  });

  it('sends 320 KiB ranges in order and resolves with the drive item', async () => {
    const { url, bytes, file } = await session('plain.pdf');
    const log: Sent[] = [];
    const before = ms.stats.uploadedBytes;
    const result = await uploadToSession(url, file, options(log));
    expect(result).toMatchObject({ item: { name: 'plain.pdf', size: SIZE } });
    expect(log.map((sent) => sent.contentRange)).toEqual([
      `bytes 0-327679/${SIZE}`,
      `bytes 327680-655359/${SIZE}`,
      `bytes 655360-983039/${SIZE}`,
      `bytes 983040-1048575/${SIZE}`,
    ]);
    expect(ms.stats.uploadedBytes - before).toBe(SIZE);
    expect(ms.fileBytes(UPN, 'Print/plain.pdf')?.equals(bytes)).toBe(true);
  });

  it('416 (Graph’s error object only): asks the status GET where to go on, and sends only what is missing', async () => {
    const { url, bytes, file } = await session('resumed.pdf');
    // Another attempt (an earlier tab) already sent the first range: the session expects 327680.
    await fetch(url, { method: 'PUT', headers: { 'Content-Range': `bytes 0-327679/${SIZE}` }, body: bytes.subarray(0, 327680) });
    const log: Sent[] = [];
    const retries: number[] = [];
    const before = ms.stats.uploadedBytes;
    const result = await uploadToSession(url, file, options(log, { onRetry: (attempt) => retries.push(attempt) }));
    expect(result).toHaveProperty('item');
    expect(log.map((sent) => sent.outcome)).toEqual([416, 202, 202, 201]);
    expect(retries).toEqual([1]);
    expect(ms.stats.uploadedBytes - before).toBe(SIZE - 327680);
    expect(ms.fileBytes(UPN, 'Print/resumed.pdf')?.equals(bytes)).toBe(true);
  });

  it('a 416 that never goes away (a proxy shifting the range) is retried with backoff up to the ceiling, then fails', async () => {
    const { url, file } = await session('shifted.pdf');
    const log: Sent[] = [];
    const shift = (range: string) => range.replace(/^bytes (\d+)-(\d+)/, (_all, a: string, b: string) => `bytes ${+a + 1}-${+b + 1}`);
    const upload = uploadToSession(url, file, options(log, { sendRange: fetchSendRange(log, shift) }));
    await expect(upload).rejects.toMatchObject({ reason: 'network' });
    expect(log.map((sent) => sent.outcome)).toEqual(Array(MAX_RETRIES + 1).fill(416));
  });

  it('404 mid-way (the session expired or was cancelled): fails as expired', async () => {
    const { url, file } = await session('expired.pdf');
    const log: Sent[] = [];
    const send = fetchSendRange(log);
    const upload = uploadToSession(
      url,
      file,
      options(log, {
        sendRange: async (...args) => {
          if (log.length === 2) await fetch(url, { method: 'DELETE' }); // gone after two ranges
          return send(...args);
        },
      }),
    );
    await expect(upload).rejects.toSatisfy((error) => error instanceof UploadFailed && error.reason === 'expired');
    expect(log.map((sent) => sent.outcome)).toEqual([202, 202, 404]);
  });

  it('the last range’s answer lost: the session is gone (404) but the file is complete, so the result is "unconfirmed", not "expired"', async () => {
    const { url, bytes, file } = await session('lost answer.pdf');
    const log: Sent[] = [];
    const send = fetchSendRange(log);
    const result = await uploadToSession(
      url,
      file,
      options(log, {
        sendRange: async (target, range, contentRange, more) => {
          if (contentRange.endsWith(`-${SIZE - 1}/${SIZE}`)) ms.loseUploadAnswerNext(1);
          return send(target, range, contentRange, more);
        },
      }),
    );
    expect(result).toEqual({ unconfirmed: true });
    expect(log.map((sent) => sent.outcome)).toEqual([202, 202, 202, 'failed']);
    expect((await fetch(url)).status).toBe(404);
    expect(ms.fileBytes(UPN, 'Print/lost answer.pdf')?.equals(bytes)).toBe(true);
  });

  it('a 404 to the last range after the browser sent it again by itself (its first answer lost) is "unconfirmed" too', async () => {
    const { url, bytes, file } = await session('resent.pdf');
    const log: Sent[] = [];
    const send = fetchSendRange(log);
    const result = await uploadToSession(
      url,
      file,
      options(log, {
        sendRange: async (target, range, contentRange, more) => {
          if (contentRange.endsWith(`-${SIZE - 1}/${SIZE}`)) {
            // What Chromium does on a reused connection: the first copy is carried out, its answer lost, and the copy sent again.
            ms.loseUploadAnswerNext(1);
            await fetch(target, {
              method: 'PUT',
              headers: { 'Content-Range': contentRange },
              body: Buffer.from(await range.arrayBuffer()),
            }).catch(() => undefined);
          }
          return send(target, range, contentRange, more);
        },
      }),
    );
    expect(result).toEqual({ unconfirmed: true });
    expect(log.map((sent) => sent.outcome)).toEqual([202, 202, 202, 404]);
    expect(ms.fileBytes(UPN, 'Print/resent.pdf')?.equals(bytes)).toBe(true);
  });

  it('429 with Retry-After: waits at least that long, then goes on from where the session stands', async () => {
    const { url, bytes, file } = await session('throttled.pdf');
    ms.failUploadNext(1, 429, 1);
    const log: Sent[] = [];
    const started = Date.now();
    const result = await uploadToSession(url, file, options(log));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000); // not the 10 ms backoff
    expect(result).toHaveProperty('item');
    expect(log.map((sent) => sent.outcome)).toEqual([429, 202, 202, 202, 201]);
    expect(ms.fileBytes(UPN, 'Print/throttled.pdf')?.equals(bytes)).toBe(true);
  });

  it('gives up after the retry ceiling (503 every time), as network', async () => {
    const { url, file } = await session('down.pdf');
    ms.failUploadNext(MAX_RETRIES + 1, 503, 0);
    const log: Sent[] = [];
    await expect(uploadToSession(url, file, options(log))).rejects.toMatchObject({ reason: 'network' });
    expect(log.map((sent) => sent.outcome)).toEqual(Array(MAX_RETRIES + 1).fill(503));
  });

  it('a range that stalls is given up after stallMs and sent again; only that range goes twice', async () => {
    const { url, bytes, file } = await session('stalled.pdf');
    const log: Sent[] = [];
    ms.holdUploadNext(1);
    const result = await uploadToSession(url, file, options(log, { stallMs: 300 }));
    ms.releaseUploads();
    expect(result).toHaveProperty('item');
    expect(log.map((sent) => sent.outcome)).toEqual(['failed', 202, 202, 202, 201]);
    expect(ms.fileBytes(UPN, 'Print/stalled.pdf')?.equals(bytes)).toBe(true);
  });

  it('cancelled through its AbortSignal: stops at once as cancelled, and the session can be deleted', async () => {
    const { url, file } = await session('cancelled.pdf');
    const log: Sent[] = [];
    const stop = new AbortController();
    ms.holdUploadNext(1);
    const upload = uploadToSession(url, file, options(log, { signal: stop.signal }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop.abort();
    await expect(upload).rejects.toMatchObject({ reason: 'cancelled' });
    ms.releaseUploads();
    await cancelSession(url);
    expect((await fetch(url)).status).toBe(404);
  });

  it('rangeSize is a multiple of 320 KiB, from 320 KiB to 10 MiB, for every size from 1 byte to 2 GB', () => {
    const sizes = [1, RANGE_UNIT - 1, RANGE_UNIT, RANGE_UNIT + 1, 8 * RANGE_UNIT + 1, 10 * 1024 ** 2, 1e9, 2 * 1024 ** 3];
    for (let i = 0; i < 200; i++) sizes.push(1 + Math.floor(Math.random() * 2 * 1024 ** 3));
    for (const size of sizes) {
      const range = rangeSize(size);
      expect(range % RANGE_UNIT, String(size)).toBe(0);
      expect(range).toBeGreaterThanOrEqual(RANGE_UNIT);
      expect(range).toBeLessThanOrEqual(10 * 1024 ** 2);
    }
  });
});
