/**
 * The Microsoft Graph v1.0 routes our app uses on the signed-in user's OneDrive: the drive,
 * driveItems by id or path, children (with paging), folder creation, createUploadSession, and
 * after printing a file's delete (to the recycle bin) or move (PATCH of its parentReference).
 * Anything else answers 400 saying it is not served here, so a developer knows it is the double.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Account } from './accounts.js';
import {
  invalidNameReason,
  isConflictBehavior,
  MoveRefusedError,
  type ConflictBehavior,
  type DriveItem,
  type FolderItem,
} from './drive-store.js';
import type { Entra } from './entra.js';
import { GraphError, placeOrConflict, readBody, sendGraph } from './http.js';
import type { Transfers } from './transfers.js';

export interface GraphConfig {
  readonly baseUrl: string;
  readonly now: () => number;
}

const DOWNLOAD_URL = '@microsoft.graph.downloadUrl';
const CONFLICT_BEHAVIOR = '@microsoft.graph.conflictBehavior';
const JSON_LIMIT = 1024 * 1024;
const DEFAULT_PAGE_SIZE = 200;
const MAX_PAGE_SIZE = 1000;

/** `root`, `items/{id}`, either followed by `:/relative/path:`, then an optional action segment. */
interface ItemAddress {
  readonly baseId: string;
  readonly segments: readonly string[];
  readonly action: 'item' | 'children' | 'createUploadSession';
}

const ACTIONS: Readonly<Record<string, ItemAddress['action']>> = {
  '': 'item',
  '/children': 'children',
  '/createUploadSession': 'createUploadSession',
};

/** Parses what follows `/me/drive` (still percent-encoded), or undefined when it is no item address. */
function parseItemAddress(path: string): ItemAddress | undefined {
  const match = /^\/(?:root|items\/([^/:]+))(.*)$/.exec(path);
  if (!match) return undefined;
  let rest = match[2] ?? '';
  let segments: string[] = [];
  if (rest.startsWith(':')) {
    const end = rest.indexOf(':', 1);
    segments = decodeSegments(end === -1 ? rest.slice(1) : rest.slice(1, end));
    rest = end === -1 ? '' : rest.slice(end + 1);
  }
  const action = ACTIONS[rest];
  return action && { baseId: match[1] ?? 'root', segments, action };
}

function decodeSegments(path: string): string[] {
  try {
    return path
      .split('/')
      .filter((segment) => segment !== '')
      .map(decodeURIComponent);
  } catch {
    throw new GraphError(400, 'invalidRequest', 'The item path is not validly percent-encoded.');
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req, JSON_LIMIT);
  if (!body) throw new GraphError(413, 'invalidRequest', 'The request body exceeds 1 MB.');
  if (body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (isObject(value)) return value;
  } catch {
    // Answered below, like any other body that is not a JSON object.
  }
  throw new GraphError(400, 'invalidRequest', 'The request body must be a JSON object.');
}

function checkName(name: unknown): string {
  if (typeof name !== 'string') throw new GraphError(400, 'invalidRequest', 'The item needs a name.');
  const reason = invalidNameReason(name);
  if (reason) throw new GraphError(400, 'invalidRequest', reason);
  return name;
}

/** Graph reads the behaviour from the body, or from the query string as documented for some SDKs. */
function conflictBehavior(fromBody: unknown, url: URL): ConflictBehavior {
  const value = fromBody ?? url.searchParams.get(CONFLICT_BEHAVIOR) ?? 'fail';
  if (!isConflictBehavior(value)) throw new GraphError(400, 'invalidRequest', `${CONFLICT_BEHAVIOR} must be fail, rename or replace.`);
  return value;
}

/** `$select` as a set of property names; Graph always returns `id`. */
function selection(url: URL): ReadonlySet<string> | undefined {
  const select = url.searchParams.get('$select');
  return select ? new Set(select.split(',').map((name) => name.trim())) : undefined;
}

function pageSize(url: URL): number {
  const top = url.searchParams.get('$top');
  if (top === null) return DEFAULT_PAGE_SIZE;
  if (!/^\d+$/.test(top) || Number(top) < 1) throw new GraphError(400, 'invalidRequest', `Invalid $top value '${top}'.`);
  return Math.min(Number(top), MAX_PAGE_SIZE);
}

/** The skip token is the lower-cased name of the previous page's last item: stable while items come and go. */
function pageCursor(url: URL): string | undefined {
  const token = url.searchParams.get('$skiptoken');
  if (token === null) return undefined;
  const cursor = Buffer.from(token, 'base64url').toString('utf8');
  if (Buffer.from(cursor, 'utf8').toString('base64url') !== token) throw new GraphError(400, 'invalidRequest', 'Invalid $skiptoken.');
  return cursor;
}

/** Keeps the caller's query options (`$top`, `$select`) with `$` unescaped, as Graph writes them. */
function nextLink(baseUrl: string, url: URL, cursor: string): string {
  const params = [...url.searchParams].filter(([name]) => name !== '$skiptoken');
  params.push(['$skiptoken', Buffer.from(cursor, 'utf8').toString('base64url')]);
  const query = params.map(([name, value]) => `${encodeURIComponent(name).replace(/^%24/, '$')}=${encodeURIComponent(value)}`);
  return `${baseUrl}${url.pathname}?${query.join('&')}`;
}

function notServed(method: string, path: string): GraphError {
  return new GraphError(
    400,
    'invalidRequest',
    `${method} ${path} is not served by the local Graph double (tools/microsoft); it serves only the OneDrive routes the app uses.`,
  );
}

export class Graph {
  constructor(
    private readonly config: GraphConfig,
    private readonly entra: Entra,
    private readonly transfers: Transfers,
  ) {}

  /** A `/v1.0/...` request, throttling already applied. Failures are thrown as GraphError. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const authentication = this.entra.authenticate(req.headers.authorization);
    if (!authentication.ok) {
      throw new GraphError(401, 'InvalidAuthenticationToken', authentication.message, {
        'WWW-Authenticate': `Bearer realm="", authorization_uri="${this.config.baseUrl}/organizations/oauth2/v2.0/authorize"`,
      });
    }
    const { account } = authentication;
    const method = req.method ?? 'GET';
    const path = url.pathname.slice('/v1.0'.length);
    if (path === '/me/drive' && method === 'GET') return sendGraph(req, res, 200, driveResource(account));
    const address = path.startsWith('/me/drive/') ? parseItemAddress(path.slice('/me/drive'.length)) : undefined;
    if (!address) throw notServed(method, url.pathname);
    switch (`${method} ${address.action}`) {
      case 'GET item':
        return sendGraph(req, res, 200, this.#present(account, this.#item(account, address.baseId, address.segments), selection(url)));
      case 'GET children':
        return sendGraph(req, res, 200, this.#listChildren(account, address, url));
      case 'POST children':
        return this.#createFolder(req, res, account, address, url);
      case 'POST createUploadSession':
        return this.#createUploadSession(req, res, account, address, url);
      case 'DELETE item':
        return this.#delete(req, res, account, address);
      case 'PATCH item':
        return this.#update(req, res, account, address, url);
      default:
        throw notServed(method, url.pathname);
    }
  }

  #item(account: Account, baseId: string, segments: readonly string[]): DriveItem {
    const base = account.drive.get(baseId);
    const item = base && account.drive.resolve(base, segments);
    if (!item) throw new GraphError(404, 'itemNotFound', 'The resource could not be found.');
    return item;
  }

  #folder(account: Account, baseId: string, segments: readonly string[]): FolderItem {
    const item = this.#item(account, baseId, segments);
    if (item.kind !== 'folder') throw new GraphError(400, 'invalidRequest', `"${item.name}" is a file, not a folder.`);
    return item;
  }

  /** The resource with a fresh download URL for files, cut down to `$select` (plus id) when given. */
  #present(account: Account, item: DriveItem, select: ReadonlySet<string> | undefined): Record<string, unknown> {
    const resource = account.drive.resource(item);
    if (item.kind === 'file' && (!select || select.has(DOWNLOAD_URL))) resource[DOWNLOAD_URL] = this.transfers.downloadUrl(account, item);
    if (!select) return resource;
    return Object.fromEntries(Object.entries(resource).filter(([name]) => name === 'id' || select.has(name)));
  }

  #listChildren(account: Account, address: ItemAddress, url: URL): Record<string, unknown> {
    const folder = this.#folder(account, address.baseId, address.segments);
    const top = pageSize(url);
    const cursor = pageCursor(url);
    const remaining = account.drive.children(folder).filter((child) => cursor === undefined || child.name.toLowerCase() > cursor);
    const page = remaining.slice(0, top);
    const select = selection(url);
    const body: Record<string, unknown> = { value: page.map((child) => this.#present(account, child, select)) };
    const last = page.at(-1);
    if (remaining.length > top && last) body['@odata.nextLink'] = nextLink(this.config.baseUrl, url, last.name.toLowerCase());
    return body;
  }

  async #createFolder(req: IncomingMessage, res: ServerResponse, account: Account, address: ItemAddress, url: URL): Promise<void> {
    const parent = this.#folder(account, address.baseId, address.segments);
    const body = await readJsonObject(req);
    const name = checkName(body.name);
    if (!isObject(body.folder)) {
      throw new GraphError(
        400,
        'invalidRequest',
        'The local Graph double creates only folders here: send "folder": {} (upload files through createUploadSession).',
      );
    }
    const behavior = conflictBehavior(body[CONFLICT_BEHAVIOR], url);
    const placed = placeOrConflict(() => account.drive.createFolder(parent, name, behavior, this.config.now()));
    sendGraph(req, res, placed.created ? 201 : 200, account.drive.resource(placed.item));
  }

  /** Graph answers 204 and the item goes to the recycle bin; a second delete finds nothing (404). */
  #delete(req: IncomingMessage, res: ServerResponse, account: Account, address: ItemAddress): void {
    const item = this.#item(account, address.baseId, address.segments);
    if (item === account.drive.root) throw new GraphError(403, 'accessDenied', 'The drive root cannot be deleted.');
    account.drive.recycle(item, this.config.now());
    res.writeHead(204, { 'request-id': randomUUID(), 'client-request-id': req.headers['client-request-id'] ?? randomUUID() });
    res.end();
  }

  /**
   * An update of `name` and/or `parentReference.id` (a move; other properties are not served).
   * Graph documents the conflict behaviour of a move in the query string; the body's is taken too.
   */
  async #update(req: IncomingMessage, res: ServerResponse, account: Account, address: ItemAddress, url: URL): Promise<void> {
    const item = this.#item(account, address.baseId, address.segments);
    const body = await readJsonObject(req);
    const unserved = Object.keys(body).filter((name) => name !== 'name' && name !== 'parentReference' && name !== CONFLICT_BEHAVIOR);
    if (unserved.length > 0) {
      throw new GraphError(
        400,
        'invalidRequest',
        `The local Graph double updates only name and parentReference, not ${unserved.join(', ')}.`,
      );
    }
    const reference = body.parentReference;
    if (reference !== undefined && !(isObject(reference) && typeof reference.id === 'string')) {
      throw new GraphError(400, 'invalidRequest', 'parentReference needs the id of the new parent folder.');
    }
    const parentId = reference?.id as string | undefined;
    if (item.parentId === undefined) throw new GraphError(403, 'accessDenied', 'The drive root cannot be moved or renamed.');
    const parent = parentId === undefined ? this.#folder(account, item.parentId, []) : this.#folder(account, parentId, []);
    const name = body.name === undefined ? item.name : checkName(body.name);
    const behavior = conflictBehavior(body[CONFLICT_BEHAVIOR], url);
    const moved = placeOrConflict(() => {
      try {
        return account.drive.move(item, parent, name, behavior, this.config.now());
      } catch (error) {
        if (error instanceof MoveRefusedError) throw new GraphError(400, 'invalidRequest', error.message);
        throw error;
      }
    });
    sendGraph(req, res, 200, this.#present(account, moved, undefined));
  }

  /** `items/{parentId}:/{fileName}:/createUploadSession` or `root:/{folder path}/{fileName}:/createUploadSession`. */
  async #createUploadSession(req: IncomingMessage, res: ServerResponse, account: Account, address: ItemAddress, url: URL): Promise<void> {
    const fileName = address.segments.at(-1);
    if (fileName === undefined) {
      throw new GraphError(
        400,
        'invalidRequest',
        'The local Graph double needs the parent and file name: items/{parentId}:/{fileName}:/createUploadSession.',
      );
    }
    const name = checkName(fileName);
    const parent = this.#folder(account, address.baseId, address.segments.slice(0, -1));
    const body = await readJsonObject(req);
    const item = isObject(body.item) ? body.item : {};
    const behavior = conflictBehavior(item[CONFLICT_BEHAVIOR], url);
    sendGraph(req, res, 200, this.transfers.createSession(account, parent, name, behavior));
  }
}

function driveResource(account: Account): Record<string, unknown> {
  return { id: account.drive.id, driveType: 'business', owner: { user: { id: account.id, displayName: account.displayName } } };
}
