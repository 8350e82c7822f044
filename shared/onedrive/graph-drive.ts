import {
  Client,
  GraphError,
  HTTPMessageHandler,
  RetryHandler,
  RetryHandlerOptions,
  type Context,
  type Middleware,
} from '@microsoft/microsoft-graph-client';
import type { DriveItem } from '@microsoft/microsoft-graph-types';

/**
 * One user's OneDrive through the official Graph client. Loaded only by the functions that
 * touch OneDrive (dynamic import), so the others start without it.
 *
 * The client runs a custom middleware chain: our bearer-token step (the stock one only sends
 * tokens to https hosts on its list, and the token must come from the user's stored refresh
 * token), the SDK's retry handler for throttling, and the SDK's fetch.
 */
export interface DriveItemInfo {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly isFile: boolean;
  readonly parentId?: string;
  readonly lastModifiedAt?: string;
}

export type ConflictBehavior = 'rename' | 'fail' | 'replace';

export interface Drive {
  /** The id of the folder `name` under the drive root, created if missing. */
  ensureFolder(name: string): Promise<string>;
  /** A resumable upload straight into `folderId` (the uploader needs no token: the URL is the credential). */
  createUploadSession(folderId: string, fileName: string, conflict: ConflictBehavior): Promise<{ uploadUrl: string; expiresAt: string }>;
  /** undefined when the item does not exist (any more). */
  item(itemId: string): Promise<DriveItemInfo | undefined>;
  /** A short-lived pre-authenticated download URL; undefined when the item is gone. */
  downloadUrl(itemId: string): Promise<string | undefined>;
  children(folderId: string, page: { limit: number; skipToken?: string }): Promise<{ items: DriveItemInfo[]; skipToken: string | null }>;
  /** To the user's recycle bin (docs/flows.md#after-printing); an item already gone counts as deleted. */
  deleteItem(itemId: string): Promise<void>;
  /** The id of the folder `name` inside `parentId`, created if missing (FolderBlockedByFile when a file holds the name). */
  ensureChildFolder(parentId: string, name: string): Promise<string>;
  /**
   * Moves the item into `folderId`, renamed the way OneDrive renames ("report 1.pdf") when its
   * name is taken there. false: the item is gone (the user deleted or moved it out of reach).
   */
  moveItem(itemId: string, folderId: string): Promise<boolean>;
}

/** Supplies the user's Graph access token; `renew` asks for a new one (the last was refused). */
export type AccessTokenSource = (renew: boolean) => Promise<string>;

/** Throttling budget inside one API request: retry only short waits, and only twice. */
export const MAX_RETRY_AFTER_SECONDS = 5;
export const MAX_RETRIES = 2;

/**
 * How long one Graph request may take, headers and body, before it is given up: the API then
 * answers 503 with `Retry-After` instead of holding the caller (a person at a printer panel) for
 * as long as Graph stays silent. Graph answers these metadata requests in well under a second;
 * 8 s leaves room for a slow moment, and with a token refresh (Entra, 10 s at most) and the
 * throttling waits above a request still ends well inside the function's time limit
 * (host.json `functionTimeout`). A timed-out request
 * is not retried (it may have been carried out; the caller decides).
 */
export const GRAPH_REQUEST_TIMEOUT_MS = 8_000;

function retryAfterSeconds(response: Response): number {
  const header = response.headers.get('retry-after');
  if (header === null) return 1;
  const seconds = /^\d+$/.test(header) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
  return Number.isFinite(seconds) ? Math.max(0, seconds) : Number.POSITIVE_INFINITY;
}

function setHeader(context: Context, name: string, value: string): void {
  if (typeof context.request !== 'string') {
    context.request.headers.set(name, value);
    return;
  }
  const options = (context.options ??= {});
  if (options.headers instanceof Headers) options.headers.set(name, value);
  else options.headers = { ...(options.headers as Record<string, string> | undefined), [name]: value };
}

/** Adds the user's token; on 401 renews it once (an access token may be revoked before it expires). */
class BearerToken implements Middleware {
  private next?: Middleware;
  constructor(private readonly token: AccessTokenSource) {}

  async execute(context: Context): Promise<void> {
    setHeader(context, 'Authorization', `Bearer ${await this.token(false)}`);
    await this.next!.execute(context);
    if (context.response?.status === 401) {
      setHeader(context, 'Authorization', `Bearer ${await this.token(true)}`);
      await this.next!.execute(context);
    }
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

/**
 * Gives each attempt (after the retry handler, so every retry gets its own) an abort signal that
 * fires after `timeoutMs`; fetch then rejects with a `TimeoutError`, which the client reports as
 * a GraphError without a status and that code.
 */
class RequestTimeout implements Middleware {
  private next?: Middleware;
  constructor(private readonly timeoutMs: number) {}

  async execute(context: Context): Promise<void> {
    const options = (context.options ??= {});
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const callers = options.signal;
    options.signal = callers ? AbortSignal.any([callers, timeout]) : timeout;
    try {
      await this.next!.execute(context);
    } finally {
      options.signal = callers;
    }
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

const ITEM_FIELDS = ['id', 'name', 'size', 'file', 'folder', 'parentReference', 'lastModifiedDateTime'];

function itemInfo(item: DriveItem): DriveItemInfo {
  return {
    id: item.id!,
    name: item.name ?? '',
    size: item.size ?? 0,
    isFile: Boolean(item.file),
    ...(item.parentReference?.id ? { parentId: item.parentReference.id } : {}),
    ...(item.lastModifiedDateTime ? { lastModifiedAt: item.lastModifiedDateTime } : {}),
  };
}

/**
 * Graph refused a `$skiptoken` the caller handed us (made up, truncated or edited): the
 * caller's mistake, not OneDrive failing.
 */
export class InvalidSkipToken extends Error {
  constructor() {
    super('Graph refused the skip token');
    this.name = 'InvalidSkipToken';
  }
}

/**
 * A file (not a folder) holds the name of a folder the app needs in the drive root. Only the
 * user can fix it, by renaming or moving the file; the app never touches the user's files.
 */
export class FolderBlockedByFile extends Error {
  constructor(
    readonly folderName: string,
    /** As the user spelled it: OneDrive names match regardless of case. */
    readonly fileName: string,
  ) {
    super(`a file holds the name of the folder "${folderName}" in the drive root`);
    this.name = 'FolderBlockedByFile';
  }
}

const isStatus = (error: unknown, status: number) => error instanceof GraphError && error.statusCode === status;

async function orUndefinedIfMissing<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

export function openDrive(graphBaseUrl: string, token: AccessTokenSource, timeoutMs: number = GRAPH_REQUEST_TIMEOUT_MS): Drive {
  const retry = new RetryHandler(
    new RetryHandlerOptions(
      1,
      MAX_RETRIES,
      (_delay, _attempt, _request, _options, response) => retryAfterSeconds(response) <= MAX_RETRY_AFTER_SECONDS,
    ),
  );
  const client = Client.initWithMiddleware({
    baseUrl: graphBaseUrl,
    defaultVersion: 'v1.0',
    middleware: [new BearerToken(token), retry, new RequestTimeout(timeoutMs), new HTTPMessageHandler()],
  });
  const segment = encodeURIComponent;

  /** Create-or-find with `fail`: one request when the folder is new, two when it is there (no read-then-create race). */
  async function ensureFolderIn(parent: string, name: string): Promise<string> {
    try {
      const created = (await client
        .api(`/me/drive/${parent}/children`)
        .post({ name, folder: {}, '@microsoft.graph.conflictBehavior': 'fail' })) as DriveItem;
      return created.id!;
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
      const existing = (await client
        .api(`/me/drive/${parent}:/${segment(name)}`)
        .select(['id', 'name', 'folder'])
        .get()) as DriveItem;
      if (!existing.folder) throw new FolderBlockedByFile(name, existing.name ?? name);
      return existing.id!;
    }
  }

  return {
    ensureFolder: (name) => ensureFolderIn('root', name),
    ensureChildFolder: (parentId, name) => ensureFolderIn(`items/${segment(parentId)}`, name),
    async deleteItem(itemId) {
      await orUndefinedIfMissing(client.api(`/me/drive/items/${segment(itemId)}`).delete() as Promise<unknown>);
    },
    async moveItem(itemId, folderId) {
      // A move's conflict behaviour goes in the query string (Microsoft's driveItem resource notes).
      const moved = await orUndefinedIfMissing(
        client
          .api(`/me/drive/items/${segment(itemId)}`)
          .query({ '@microsoft.graph.conflictBehavior': 'rename' })
          .select(['id'])
          .patch({ parentReference: { id: folderId } }) as Promise<DriveItem>,
      );
      return moved !== undefined;
    },
    async createUploadSession(folderId, fileName, conflict) {
      const session = (await client
        .api(`/me/drive/items/${segment(folderId)}:/${segment(fileName)}:/createUploadSession`)
        .post({ item: { '@microsoft.graph.conflictBehavior': conflict } })) as { uploadUrl: string; expirationDateTime: string };
      return { uploadUrl: session.uploadUrl, expiresAt: new Date(session.expirationDateTime).toISOString() };
    },
    async item(itemId) {
      const item = await orUndefinedIfMissing(
        client
          .api(`/me/drive/items/${segment(itemId)}`)
          .select(ITEM_FIELDS)
          .get() as Promise<DriveItem>,
      );
      return item ? itemInfo(item) : undefined;
    },
    async downloadUrl(itemId) {
      const item = await orUndefinedIfMissing(
        client
          .api(`/me/drive/items/${segment(itemId)}`)
          .select(['id', '@microsoft.graph.downloadUrl'])
          .get() as Promise<Record<string, unknown>>,
      );
      const url = item?.['@microsoft.graph.downloadUrl'];
      return typeof url === 'string' ? url : undefined;
    },
    async children(folderId, { limit, skipToken }) {
      const request = client
        .api(`/me/drive/items/${segment(folderId)}/children`)
        .select(ITEM_FIELDS)
        .top(limit);
      if (skipToken) request.query({ $skiptoken: skipToken });
      let page: { value: DriveItem[]; '@odata.nextLink'?: string };
      try {
        page = (await request.get()) as typeof page;
      } catch (error) {
        // The rest of the request is ours; with a skip token, a 400 is about the token.
        if (skipToken && isStatus(error, 400)) throw new InvalidSkipToken();
        throw error;
      }
      const next = page['@odata.nextLink'] ? new URL(page['@odata.nextLink']).searchParams.get('$skiptoken') : null;
      return { items: page.value.map(itemInfo), skipToken: next };
    },
  };
}

export { GraphError };
