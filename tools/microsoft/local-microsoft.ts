/**
 * A local stand-in for Microsoft Entra ID (v2.0 authorize and token endpoints, OpenID Connect
 * discovery, keys and id_tokens, admin consent, several tenants) and the Microsoft Graph OneDrive
 * routes our app uses, on plain node:http (or node:https), for development and tests. The app's
 * real code (the Graph SDK, MSAL and its token requests) talks to it over HTTP as it would to
 * Microsoft; point its authority at `authority` and its Graph base URL at `graphUrl`. See README.md.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Directory, type Account, type AccountDetails } from './accounts.js';
import { invalidNameReason } from './drive-store.js';
import { Entra, type TokenEndpointFault } from './entra.js';
import { Graph } from './graph.js';
import { GraphError, sendGraphError, sendJson, sendText } from './http.js';
import { Oidc } from './oidc.js';
import { Transfers } from './transfers.js';

export interface LocalMicrosoftOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  hostname?: string;
  /** The only client accepted. */
  clientId: string;
  /** Checked at the token endpoint (client_secret in the form body). */
  clientSecret: string;
  /** Millisecond clock, default Date.now; tests move it to expire codes, tokens and URLs. */
  now?: () => number;
  /** Default 3600. */
  accessTokenLifetimeSeconds?: number;
  /** Default 3600. */
  downloadUrlLifetimeSeconds?: number;
  /**
   * Serve HTTPS with this key and certificate (PEM) instead of HTTP. MSAL refuses an authority
   * that is not https; its process must trust the certificate (NODE_EXTRA_CA_CERTS).
   */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /**
   * Also serve HTTPS with this key and certificate on a second port (`secureUrl`): the same
   * Entra, whose discovery documents and id_tokens there name `secureUrl` as their issuer. The
   * plain listener stays as it is (Graph, and clients that post to the token endpoint with `fetch`),
   * so one stand-in serves MSAL, which needs https, and the rest over http side by side.
   */
  secure?: { key: string | Buffer; cert: string | Buffer; port?: number };
  /**
   * The tenant accounts join unless told otherwise; default 'Contoso (local)' with a random id.
   * A fixed id lets a host print and configure the same `tid` on every run.
   */
  defaultTenant?: { id?: string; displayName?: string };
}

export interface LocalMicrosoftStats {
  tokenRequests: number;
  /** Token requests answered by failTokenNext instead of being served. */
  failedTokenRequests: number;
  graphRequests: number;
  throttled: number;
  /** Graph requests held back by slowNext. */
  slowed: number;
  uploadedBytes: number;
  /** Upload fragments whose connection dropUploadNext destroyed. */
  droppedUploads: number;
  /** Upload fragments taken in whose answer loseUploadAnswerNext dropped. */
  lostUploadAnswers: number;
  /** Upload fragments answered 429/503 by failUploadNext. */
  failedUploads: number;
  downloadedBytes: number;
}

export interface RequestRecord {
  readonly method: string;
  /** Without the query string; upload and download tokens are replaced by placeholders. */
  readonly path: string;
  readonly status: number;
}

export interface LocalMicrosoft {
  /** e.g. http://127.0.0.1:PORT */
  readonly url: string;
  /** `${url}/organizations`; `common` and a tenant id are served too (a tenant id signs in only its own accounts). */
  readonly authority: string;
  /** With `secure`: the HTTPS listener, e.g. https://127.0.0.1:PORT, and its `organizations` authority. */
  readonly secureUrl?: string;
  readonly secureAuthority?: string;
  /** `${url}`: Graph lives at `${graphUrl}/v1.0/...`. */
  readonly graphUrl: string;
  /** The tenant that accounts join unless told otherwise ('Contoso (local)' unless `defaultTenant` names it). */
  readonly defaultTenantId: string;
  /** The `iss` of a tenant's id_tokens: `${url}/${tenantId}/v2.0`. */
  issuer(tenantId: string): string;
  /** A simulated Entra tenant (directory); returns its id (`tid`), a random GUID unless given. */
  addTenant(displayName: string, tenantId?: string): string;
  /** Whether the tenant's admin has granted admin consent (GET /{tenant}/adminconsent). */
  adminConsented(tenantId: string): boolean;
  /**
   * Accounts are created on first sign-in (by login_hint, in the default tenant) or explicitly,
   * with their tenant, name, email, app roles, groups and admin flag; details given for an existing
   * account replace its own. Returns the account's object id (`oid`).
   */
  addAccount(upn: string, details?: AccountDetails): string;
  /** Sign-ins (and admin consents) without login_hint use this account (default 'user@contoso.example'). */
  setDefaultAccount(upn: string): void;
  /**
   * The user (or an admin) withdraws consent: the account's refresh tokens answer invalid_grant
   * (AADSTS65001), its access tokens 401 InvalidAuthenticationToken, and its sign-ins redirect
   * with error=consent_required until restoreConsent. Tokens issued before stay dead.
   */
  revokeConsent(upn: string): void;
  restoreConsent(upn: string): void;
  /**
   * The next `count` Graph requests (under /v1.0; not uploads or downloads) answer `status`
   * (429 activityLimitReached, or 503 serviceNotAvailable) with `Retry-After`, before auth.
   */
  throttleNext(count: number, retryAfterSeconds: number, status?: 429 | 503): void;
  /**
   * The next `count` Graph requests (under /v1.0) wait `delayMs` before they are handled (then
   * answered as usual, throttling included): a slow or hanging Graph. A request whose client
   * gives up meanwhile is dropped. `slowNext(0, 0)` ends it; so does close().
   */
  slowNext(count: number, delayMs: number): void;
  /**
   * The next `count` token requests fail without being looked at (no code redeemed, no refresh
   * token used): `429`/`503` with `Retry-After: retryAfterSeconds` (default 1), `invalid_client`
   * (401, the client secret expired), or `silent` (never answered; dropped when the client gives
   * up). `failTokenNext(0, …)` ends it.
   */
  failTokenNext(count: number, fault: TokenEndpointFault, retryAfterSeconds?: number): void;
  /**
   * The next `count` token requests wait `delayMs` before they are handled (then answered as
   * usual): a slow Entra. A request whose client gives up meanwhile is dropped, unanswered and
   * unredeemed. `slowTokenNext(0, 0)` ends it; so does close().
   */
  slowTokenNext(count: number, delayMs: number): void;
  /** The next `count` id_tokens minted for a sign-in carry another nonce than the one it sent (a swapped or replayed token). */
  wrongNonceNext(count: number): void;
  /** The next `count` requests for the signing keys (JWKS) answer 503 with `Retry-After: retryAfterSeconds` (default 1). */
  failKeysNext(count: number, retryAfterSeconds?: number): void;
  /**
   * The next `count` PUTs on upload URLs lose their connection: the socket is destroyed before
   * any answer and the fragment is not accepted, as a dropped mobile connection would. A client
   * resumes by asking the upload URL for nextExpectedRanges. (A browser silently sends a request
   * again once when a reused connection drops: drop two to make it see the failure.)
   */
  dropUploadNext(count: number): void;
  /**
   * The next `count` PUTs on upload URLs wait, unanswered, until releaseUploads() (or close()):
   * an upload caught mid-way, for a test to look at it. Set dropUploadNext meanwhile to drop a held one.
   */
  holdUploadNext(count: number): void;
  releaseUploads(): void;
  /**
   * The next `count` PUTs on upload URLs are carried out (the fragment taken in; the last one
   * creates the file and closes the session), then their connection is destroyed instead of
   * answered: the answer lost on its way back.
   */
  loseUploadAnswerNext(count: number): void;
  /**
   * The next `count` PUTs on upload URLs are read but not taken in, and answered `status` (429
   * activityLimitReached or 503 serviceNotAvailable) with `Retry-After: retryAfterSeconds`. A
   * browser does not send such a request again by itself, so the client's own resume is what runs.
   * Like Graph, the upload URL's CORS answers do not expose Retry-After to a page's script.
   */
  failUploadNext(count: number, status: 429 | 503, retryAfterSeconds?: number): void;
  /** A file's bytes by path in the account's drive (e.g. 'Print/report.pdf'), undefined if missing. */
  fileBytes(upn: string, path: string): Buffer | undefined;
  /** The names in a folder of the account's drive ('' for the root); throws if there is no such folder. */
  listFolder(upn: string, path: string): string[];
  /** Puts a file directly (test setup), creating the account and missing parent folders; returns the driveItem id. */
  putFile(upn: string, path: string, bytes: Buffer): string;
  /** Takes the file or folder at `path` out of the account's drive, as the user moving or deleting it; throws if there is none. */
  removeItem(upn: string, path: string): void;
  /** What Graph deleted from the account's drive, oldest first: name and the folder path it was in ('' for the root). */
  recycleBin(upn: string): Array<{ name: string; deletedFrom: string }>;
  /** Counters, for tests that prove where bytes flowed. */
  readonly stats: Readonly<LocalMicrosoftStats>;
  /** Every request seen: method, path (without query), status; never tokens. */
  readonly requests: ReadonlyArray<RequestRecord>;
  close(): Promise<void>;
}

export type { AccountDetails, TokenEndpointFault };

/** Long enough to outlast any client's patience; setTimeout's ceiling. */
const SILENT_MS = 2 ** 31 - 1;

const ENTRA_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/(authorize|token)$/;
const DISCOVERY_PATH = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/;
const KEYS_PATH = /^(?:\/[^/]+)?\/discovery\/v2\.0\/keys$/;
const ADMIN_CONSENT_PATH = /^\/([^/]+)(\/v2\.0)?\/adminconsent$/;

/** Upload and download URLs carry their authority in the path; the request log must not. */
function loggablePath(path: string): string {
  return path.replace(/^\/(upload|download)\/[^/]+/, (_match, kind: string) => `/${kind}/{${kind === 'upload' ? 'session' : 'token'}}`);
}

function splitPath(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

interface Throttle {
  remaining: number;
  retryAfterSeconds: number;
  status: 429 | 503;
}

export async function startLocalMicrosoft(options: LocalMicrosoftOptions): Promise<LocalMicrosoft> {
  const now = options.now ?? Date.now;
  const hostname = options.hostname ?? '127.0.0.1';
  const server = options.tls ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }) : createServer();
  server.listen(options.port ?? 0, hostname);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const url = `${options.tls ? 'https' : 'http'}://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
  const oidc = new Oidc(url);
  const secureServer = options.secure ? createTlsServer({ key: options.secure.key, cert: options.secure.cert }) : undefined;
  let secureUrl: string | undefined;
  if (secureServer) {
    secureServer.listen(options.secure?.port ?? 0, hostname);
    await once(secureServer, 'listening');
    secureUrl = `https://${hostname.includes(':') ? `[${hostname}]` : hostname}:${(secureServer.address() as AddressInfo).port}`;
  }

  const stats: LocalMicrosoftStats = {
    tokenRequests: 0,
    failedTokenRequests: 0,
    graphRequests: 0,
    throttled: 0,
    slowed: 0,
    uploadedBytes: 0,
    droppedUploads: 0,
    lostUploadAnswers: 0,
    failedUploads: 0,
    downloadedBytes: 0,
  };
  const requests: RequestRecord[] = [];
  const throttle: Throttle = { remaining: 0, retryAfterSeconds: 0, status: 429 };
  const slow = { remaining: 0, delayMs: 0 };
  const slowToken = { remaining: 0, delayMs: 0 };
  const keysFault = { remaining: 0, retryAfterSeconds: 1 };
  const tokenFault: { remaining: number; fault: TokenEndpointFault; retryAfterSeconds: number } = {
    remaining: 0,
    fault: 503,
    retryAfterSeconds: 1,
  };
  /** Requests waiting out slowNext or a silent token endpoint: released (and dropped) by close(). */
  const waiting = new Set<() => void>();
  const directory = new Directory(now, options.defaultTenant);
  const entra = new Entra(
    {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      now,
      accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? 3600,
    },
    directory,
    oidc,
  );
  const transfers = new Transfers({
    baseUrl: url,
    now,
    downloadUrlLifetimeSeconds: options.downloadUrlLifetimeSeconds ?? 3600,
    counters: stats,
  });
  const graph = new Graph({ baseUrl: url, now }, entra, transfers);

  async function dispatch(req: IncomingMessage, res: ServerResponse, target: URL, at: Oidc): Promise<void> {
    const path = target.pathname;
    if (path === '/v1.0' || path.startsWith('/v1.0/')) {
      stats.graphRequests += 1;
      if (slow.remaining > 0) {
        slow.remaining -= 1;
        stats.slowed += 1;
        if (!(await waitOrGiveUp(res, slow.delayMs))) return;
      }
      if (throttle.remaining > 0) return answerThrottled();
      return graph.handle(req, res, target);
    }
    const [, tenantSegment = '', entraRoute] = ENTRA_PATH.exec(path) ?? [];
    if (entraRoute === 'authorize' && req.method === 'GET') return entra.authorize(res, target.searchParams, tenantSegment);
    if (entraRoute === 'token') {
      stats.tokenRequests += 1;
      if (slowToken.remaining > 0) {
        slowToken.remaining -= 1;
        if (!(await waitOrGiveUp(res, slowToken.delayMs))) return;
      }
      if (tokenFault.remaining > 0) return failTokenRequest(req, res);
      return entra.token(req, res, at);
    }
    if (req.method === 'GET' && serveOpenId(res, target, at)) return;
    const transfer = /^\/(upload|download)\/([^/]+)$/.exec(path);
    if (transfer?.[1] === 'upload') return transfers.upload(req, res, transfer[2] ?? '');
    if (transfer?.[1] === 'download') return transfers.download(req, res, transfer[2] ?? '');
    sendText(res, 404, `${req.method} ${path} is not served by the local Microsoft double.`);
  }

  /** Discovery, keys, MSAL's instance discovery and admin consent; false for any other path. */
  function serveOpenId(res: ServerResponse, target: URL, oidc: Oidc): boolean {
    const path = target.pathname;
    const discovery = DISCOVERY_PATH.exec(path)?.[1];
    if (discovery) sendJson(res, 200, oidc.discovery(discovery));
    else if (KEYS_PATH.test(path) && keysFault.remaining > 0) {
      keysFault.remaining -= 1;
      sendJson(res, 503, { error: 'temporarily_unavailable' }, { 'Retry-After': String(keysFault.retryAfterSeconds) });
    } else if (KEYS_PATH.test(path)) sendJson(res, 200, oidc.jwks());
    else if (path === '/common/discovery/instance') {
      // The tenant segment of the authority MSAL asks about, as in its authorization_endpoint.
      const endpoint = target.searchParams.get('authorization_endpoint') ?? '';
      const segment = URL.canParse(endpoint) ? new URL(endpoint).pathname.split('/')[1] : undefined;
      sendJson(res, 200, oidc.instanceDiscovery(segment || 'common'));
    } else {
      const consent = ADMIN_CONSENT_PATH.exec(path);
      if (!consent?.[1]) return false;
      entra.adminConsent(res, target.searchParams, consent[1], consent[2] !== undefined);
    }
    return true;
  }

  /** Waits `ms`; false when the client went away (or the server closes) meanwhile. */
  function waitOrGiveUp(res: ServerResponse, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (answer: boolean) => {
        clearTimeout(timer);
        res.off('close', gone);
        waiting.delete(gone);
        resolve(answer);
      };
      const gone = () => done(false);
      const timer = setTimeout(() => done(!res.destroyed), ms);
      res.on('close', gone);
      waiting.add(gone);
    });
  }

  async function failTokenRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    tokenFault.remaining -= 1;
    stats.failedTokenRequests += 1;
    const { fault, retryAfterSeconds } = tokenFault;
    if (fault !== 'silent') return entra.fail(req, res, fault, retryAfterSeconds);
    if (await waitOrGiveUp(res, SILENT_MS)) res.destroy();
  }

  function answerThrottled(): never {
    throttle.remaining -= 1;
    stats.throttled += 1;
    const [code, message] =
      throttle.status === 429
        ? ['activityLimitReached', 'The app or user has been throttled (local Graph double, throttleNext).']
        : ['serviceNotAvailable', 'The service is temporarily unavailable (local Graph double, throttleNext).'];
    throw new GraphError(throttle.status, code, message, { 'Retry-After': String(throttle.retryAfterSeconds) });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, base: string, at: Oidc): Promise<void> {
    // Origin-form only: a request target like `//host/x` must not be read as another authority.
    const target = req.url?.startsWith('/') ? new URL(`${base}${req.url}`) : undefined;
    res.on('finish', () =>
      requests.push({ method: req.method ?? '', path: loggablePath(target?.pathname ?? '?'), status: res.statusCode }),
    );
    if (!target) return sendText(res, 400, 'Bad request target.');
    try {
      await dispatch(req, res, target, at);
    } catch (error) {
      if (res.headersSent) res.destroy();
      else if (error instanceof GraphError) sendGraphError(req, res, error, now());
      else sendJson(res, 500, { error: { code: 'generalException', message: `Local Microsoft double failed: ${String(error)}` } });
    }
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => void handle(req, res, url, oidc));
  if (secureServer && secureUrl) {
    const secureOidc = oidc.at(secureUrl);
    const base = secureUrl;
    secureServer.on('request', (req: IncomingMessage, res: ServerResponse) => void handle(req, res, base, secureOidc));
  }

  function account(upn: string): Account {
    const found = directory.find(upn);
    if (!found) throw new Error(`No account ${upn} in the local Entra.`);
    return found;
  }

  return {
    url,
    authority: `${url}/organizations`,
    ...(secureUrl ? { secureUrl, secureAuthority: `${secureUrl}/organizations` } : {}),
    graphUrl: url,
    defaultTenantId: directory.defaultTenantId,
    issuer: (tenantId) => oidc.issuer(tenantId),
    addTenant: (displayName, tenantId) => directory.addTenant(displayName, tenantId).id,
    adminConsented: (tenantId) => directory.tenant(tenantId)?.adminConsented ?? false,
    stats,
    requests,
    addAccount: (upn, details) => directory.ensure(upn, details).id,
    setDefaultAccount: (upn) => {
      directory.defaultUpn = upn;
    },
    revokeConsent: (upn) => directory.revokeConsent(upn),
    restoreConsent: (upn) => directory.restoreConsent(upn),
    throttleNext: (count, retryAfterSeconds, status = 429) => {
      Object.assign(throttle, { remaining: count, retryAfterSeconds, status });
    },
    slowNext: (count, delayMs) => {
      Object.assign(slow, { remaining: count, delayMs });
    },
    slowTokenNext: (count, delayMs) => {
      Object.assign(slowToken, { remaining: count, delayMs });
    },
    wrongNonceNext: (count) => {
      entra.wrongNonces = count;
    },
    failKeysNext: (count, retryAfterSeconds = 1) => {
      Object.assign(keysFault, { remaining: count, retryAfterSeconds });
    },
    failTokenNext: (count, fault, retryAfterSeconds = 1) => {
      Object.assign(tokenFault, { remaining: count, fault, retryAfterSeconds });
    },
    dropUploadNext: (count) => {
      transfers.dropPuts = count;
    },
    holdUploadNext: (count) => {
      transfers.holdPuts = count;
    },
    releaseUploads: () => transfers.releaseHeld(),
    loseUploadAnswerNext: (count) => {
      transfers.loseAnswers = count;
    },
    failUploadNext: (count, status, retryAfterSeconds = 1) => {
      Object.assign(transfers.failPuts, { remaining: count, status, retryAfterSeconds });
    },
    fileBytes: (upn, path) => {
      const drive = directory.find(upn)?.drive;
      const item = drive?.resolve(drive.root, splitPath(path));
      return item?.kind === 'file' ? Buffer.from(item.bytes) : undefined;
    },
    listFolder: (upn, path) => {
      const { drive } = account(upn);
      const folder = drive.resolve(drive.root, splitPath(path));
      if (folder?.kind !== 'folder') throw new Error(`No folder '${path}' in ${upn}'s drive.`);
      return drive.children(folder).map((child) => child.name);
    },
    putFile: (upn, path, bytes) => {
      const { drive } = directory.ensure(upn);
      const segments = splitPath(path);
      const reason = segments.length === 0 ? 'putFile needs a file path.' : segments.map(invalidNameReason).find(Boolean);
      if (reason) throw new Error(reason);
      const name = segments.pop() ?? '';
      const parent = drive.ensureFolders(segments, now());
      return drive.writeFile(parent, name, Buffer.from(bytes), 'replace', now()).item.id;
    },
    recycleBin: (upn) => account(upn).drive.recycleBin.map(({ name, deletedFrom }) => ({ name, deletedFrom })),
    removeItem: (upn, path) => {
      const { drive } = account(upn);
      const item = drive.resolve(drive.root, splitPath(path));
      if (!item || item === drive.root) throw new Error(`No item '${path}' in ${upn}'s drive.`);
      drive.remove(item);
    },
    close: async () => {
      slow.remaining = 0;
      slowToken.remaining = 0;
      tokenFault.remaining = 0;
      transfers.holdPuts = 0;
      transfers.releaseHeld();
      for (const giveUp of [...waiting]) giveUp();
      const closing = [server, ...(secureServer ? [secureServer] : [])].map((listener) => {
        const closed = new Promise<void>((resolve, reject) => listener.close((error) => (error ? reject(error) : resolve())));
        listener.closeAllConnections();
        return closed;
      });
      await Promise.all(closing);
    },
  };
}
