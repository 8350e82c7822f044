/**
 * The pre-authenticated URLs Graph hands out: resumable upload sessions (`uploadUrl`) and
 * `@microsoft.graph.downloadUrl`. Like the real ones, they carry their authority in the URL and
 * are used without an Authorization header.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Account } from './accounts.js';
import { mimeTypeOf, type ConflictBehavior, type FileItem, type FolderItem, type Placed } from './drive-store.js';
import { GraphError, placeOrConflict, randomToken, readBody, sendGraph, sha256 } from './http.js';

export interface TransferConfig {
  readonly baseUrl: string;
  readonly now: () => number;
  readonly downloadUrlLifetimeSeconds: number;
  /** The server's stats object, counted into as bytes flow. */
  readonly counters: {
    uploadedBytes: number;
    downloadedBytes: number;
    droppedUploads: number;
    lostUploadAnswers: number;
    failedUploads: number;
  };
}

const SESSION_LIFETIME_MS = 24 * 3_600_000;
/** A local cap (OneDrive allows 250 GB): the double keeps every byte in memory. */
const MAX_SESSION_BYTES = 250 * 1024 * 1024;
/** Graph refuses fragments of 60 MiB or more. */
const MAX_FRAGMENT_BYTES = 60 * 1024 * 1024;

interface UploadSession {
  readonly account: Account;
  readonly parentId: string;
  readonly name: string;
  readonly behavior: ConflictBehavior;
  readonly expiresAtMs: number;
  /** Fixed by the first fragment's Content-Range. */
  total: number | undefined;
  received: number;
  readonly fragments: Buffer[];
}

interface DownloadGrant {
  readonly account: Account;
  readonly itemId: string;
  readonly expiresAtMs: number;
}

interface ContentRange {
  readonly first: number;
  readonly last: number;
  readonly total: number;
}

function parseContentRange(header: string | undefined): ContentRange | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header?.trim() ?? '');
  if (!match) return undefined;
  const [first, last, total] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return first <= last && last < total ? { first, last, total } : undefined;
}

export class Transfers {
  readonly #sessions = new Map<string, UploadSession>();
  readonly #downloads = new Map<string, DownloadGrant>();

  constructor(private readonly config: TransferConfig) {}

  createSession(account: Account, parent: FolderItem, name: string, behavior: ConflictBehavior): Record<string, unknown> {
    const token = randomToken();
    const session: UploadSession = {
      account,
      parentId: parent.id,
      name,
      behavior,
      expiresAtMs: this.config.now() + SESSION_LIFETIME_MS,
      total: undefined,
      received: 0,
      fragments: [],
    };
    this.#sessions.set(sha256(token), session);
    return { uploadUrl: `${this.config.baseUrl}/upload/${token}`, ...status(session) };
  }

  /** A fresh URL per call, as Graph mints one per driveItem read. */
  downloadUrl(account: Account, item: FileItem): string {
    const token = randomToken();
    const expiresAtMs = this.config.now() + this.config.downloadUrlLifetimeSeconds * 1000;
    this.#downloads.set(sha256(token), { account, itemId: item.id, expiresAtMs });
    return `${this.config.baseUrl}/download/${token}`;
  }

  /** The next PUTs on upload URLs lose their connection: the socket is destroyed before any answer (dropUploadNext). */
  dropPuts = 0;
  /** The next PUTs on upload URLs wait until releaseHeld (holdUploadNext): a slow network, held still for a test. */
  holdPuts = 0;
  /** The next PUTs on upload URLs are carried out, then their connection is destroyed instead of answered (loseUploadAnswerNext). */
  loseAnswers = 0;
  /** The next PUTs on upload URLs are read, not taken in, and answered 429 or 503 with Retry-After (failUploadNext). */
  readonly failPuts = { remaining: 0, status: 503 as 429 | 503, retryAfterSeconds: 1 };
  readonly #held: Array<() => void> = [];

  releaseHeld(): void {
    for (const release of this.#held.splice(0)) release();
  }

  /**
   * PUT (a fragment), GET (status, for resuming) and DELETE (cancel) on an upload URL, from a
   * server or from a browser on another origin (CORS, see uploadCors).
   */
  async upload(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    if (uploadCors(req, res)) return;
    if (req.method === 'PUT' && this.dropPuts > 0) {
      this.dropPuts -= 1;
      this.config.counters.droppedUploads += 1;
      req.socket.destroy();
      return;
    }
    if (req.headers.authorization !== undefined) {
      throw new GraphError(401, 'unauthenticated', 'Upload URLs are pre-authenticated: send fragments without an Authorization header.');
    }
    const key = sha256(token);
    const session = this.#liveSession(key);
    // Held after the look-up, as a slow network would hold a fragment Graph then takes in.
    if (req.method === 'PUT' && this.holdPuts > 0) {
      this.holdPuts -= 1;
      await new Promise<void>((resolve) => this.#held.push(resolve));
    }
    if (req.method === 'PUT' && this.failPuts.remaining > 0) {
      this.failPuts.remaining -= 1;
      this.config.counters.failedUploads += 1;
      await readBody(req, MAX_FRAGMENT_BYTES);
      const [code, message] =
        this.failPuts.status === 429
          ? ['activityLimitReached', 'The app or user has been throttled (local Graph double, failUploadNext).']
          : ['serviceNotAvailable', 'The service is temporarily unavailable (local Graph double, failUploadNext).'];
      throw new GraphError(this.failPuts.status, code, message, { 'Retry-After': String(this.failPuts.retryAfterSeconds) });
    }
    if (req.method === 'GET') return sendGraph(req, res, 200, status(session));
    if (req.method === 'DELETE') {
      this.#sessions.delete(key);
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'PUT') throw new GraphError(405, 'invalidRequest', `${req.method} is not allowed on an upload URL.`);
    await this.#putFragment(req, res, key, session);
  }

  /** GET or HEAD on a download URL. */
  download(req: IncomingMessage, res: ServerResponse, token: string): void {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new GraphError(405, 'invalidRequest', `${req.method} is not allowed on a download URL.`);
    const grant = this.#downloads.get(sha256(token));
    if (!grant) throw new GraphError(404, 'itemNotFound', 'This download URL is unknown.');
    if (this.config.now() >= grant.expiresAtMs)
      throw new GraphError(401, 'unauthenticated', 'This download URL has expired; read the driveItem again for a fresh one.');
    const item = grant.account.drive.get(grant.itemId);
    if (item?.kind !== 'file') throw new GraphError(404, 'itemNotFound', 'The file behind this download URL no longer exists.');
    res.writeHead(200, {
      'Content-Type': mimeTypeOf(item.name),
      'Content-Length': item.bytes.length,
      'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(item.name)}`,
    });
    if (req.method === 'HEAD') return void res.end();
    this.config.counters.downloadedBytes += item.bytes.length;
    res.end(item.bytes);
  }

  #liveSession(key: string): UploadSession {
    const session = this.#sessions.get(key);
    if (session && this.config.now() < session.expiresAtMs) return session;
    this.#sessions.delete(key);
    throw new GraphError(404, 'itemNotFound', 'The upload session does not exist, was cancelled or has expired.');
  }

  async #putFragment(req: IncomingMessage, res: ServerResponse, key: string, session: UploadSession): Promise<void> {
    const range = this.#checkRange(req, session);
    if (range.first !== session.received) {
      // Graph's error object only: where to go on from is the status GET's to say (nextExpectedRanges).
      throw new GraphError(416, 'invalidRange', 'The fragment does not start where the session expects the next byte.');
    }
    const length = range.last - range.first + 1;
    const fragment = await readBody(req, length);
    if (fragment?.length !== length) {
      throw new GraphError(400, 'invalidRequest', `The body must hold exactly the ${length} bytes its Content-Range announces.`);
    }
    session.total = range.total;
    if (range.last + 1 < range.total) {
      this.#accept(session, fragment);
      return this.#answer(req, res, 202, status(session));
    }
    const placed = this.#commit(session, fragment);
    this.#accept(session, fragment);
    this.#sessions.delete(key);
    this.#answer(req, res, placed.created ? 201 : 200, session.account.drive.resource(placed.item));
  }

  /** The answer to a fragment taken in, unless loseUploadAnswerNext says its connection drops first. */
  #answer(req: IncomingMessage, res: ServerResponse, code: number, body: unknown): void {
    if (this.loseAnswers > 0) {
      this.loseAnswers -= 1;
      this.config.counters.lostUploadAnswers += 1;
      req.socket.destroy();
      return;
    }
    sendGraph(req, res, code, body);
  }

  #checkRange(req: IncomingMessage, session: UploadSession): ContentRange {
    const range = parseContentRange(req.headers['content-range']);
    if (!range)
      throw new GraphError(400, 'invalidRequest', 'A fragment needs a Content-Range header of the form "bytes first-last/total".');
    if (session.total !== undefined && range.total !== session.total) {
      throw new GraphError(400, 'invalidRequest', `The total size changed from ${session.total} to ${range.total} within one session.`);
    }
    if (range.total > MAX_SESSION_BYTES) throw new GraphError(400, 'invalidRequest', 'The local Graph double caps uploads at 250 MiB.');
    if (range.last - range.first + 1 > MAX_FRAGMENT_BYTES)
      throw new GraphError(413, 'invalidRequest', 'A fragment must be smaller than 60 MiB.');
    return range;
  }

  #accept(session: UploadSession, fragment: Buffer): void {
    session.fragments.push(fragment);
    session.received += fragment.length;
    this.config.counters.uploadedBytes += fragment.length;
  }

  /**
   * Creates the file when its last byte arrives, applying the conflict behaviour then (the name
   * may have been taken since the session began). On a conflict the last fragment is not
   * accepted, so the session stays resumable until it expires.
   */
  #commit(session: UploadSession, lastFragment: Buffer): Placed<FileItem> {
    const { drive } = session.account;
    const parent = drive.get(session.parentId);
    if (parent?.kind !== 'folder') throw new GraphError(404, 'itemNotFound', 'The destination folder no longer exists.');
    const bytes = Buffer.concat([...session.fragments, lastFragment]);
    return placeOrConflict(() => drive.writeFile(parent, session.name, bytes, session.behavior, this.config.now()));
  }
}

/** What a browser may send to an upload URL: its methods, and the one header a fragment needs beyond the CORS-safelisted ones. */
const UPLOAD_CORS_METHODS = 'PUT, GET, DELETE';
const UPLOAD_CORS_HEADERS = 'Content-Range, Content-Type';

/**
 * CORS on upload URLs, so a web app on another origin can PUT fragments, read the session's
 * status and cancel it. The URL is the credential (no cookies, no Authorization), so any origin
 * may use it and credentials are never allowed: the origin is echoed (with `Vary: Origin`) on
 * every answer, errors included, so a browser can read a 404 (session expired) or a 416. A
 * preflight (OPTIONS with Access-Control-Request-Method) is answered here with 204 and true is
 * returned; one asking for another method or header gets no CORS headers, and the browser refuses.
 */
function uploadCors(req: IncomingMessage, res: ServerResponse): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
  }
  const method = req.headers['access-control-request-method'];
  if (req.method !== 'OPTIONS' || method === undefined) return false;
  const asked = (req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const allowed = UPLOAD_CORS_HEADERS.toLowerCase().split(', ');
  if (origin === undefined || !UPLOAD_CORS_METHODS.split(', ').includes(method) || !asked.every((name) => allowed.includes(name))) {
    res.removeHeader('Access-Control-Allow-Origin');
    res.writeHead(204).end();
    return true;
  }
  res.writeHead(204, {
    'Access-Control-Allow-Methods': UPLOAD_CORS_METHODS,
    'Access-Control-Allow-Headers': UPLOAD_CORS_HEADERS,
    'Access-Control-Max-Age': '600',
  });
  res.end();
  return true;
}

function status(session: UploadSession): Record<string, unknown> {
  return { expirationDateTime: new Date(session.expiresAtMs).toISOString(), nextExpectedRanges: [`${session.received}-`] };
}
