import type { Config } from '../config/load-config.js';
import { Conflict, DomainError, Invalid, Unavailable, UpstreamFailed } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Store } from '../store/store.js';
import { createEntraClient, EntraGrantRejected, EntraUnavailable, type EntraClient, type EntraTokens } from './entra.js';
import type { Drive } from './graph-drive.js';
import { linkOwner, markReconnectRequired, readLink, storeRotatedToken, type OneDriveLinkDoc } from './links.js';
import { createTokenCipher, generatedTokenKeys, TokenUnreadable, type TokenCipher } from './token-cipher.js';

/**
 * OneDrive for Business (docs/flows.md#onedrive-for-business): the Entra client, the token cipher, and Graph as a
 * given user. Opened once per process, on first use.
 *
 * The host decides the endpoints (`MicrosoftApp`): Microsoft's, as configuration names them, or
 * a local stand-in the local host started (tools/local/). The code below is the same for both.
 */
export interface OneDrive {
  readonly entra: EntraClient;
  readonly cipher: TokenCipher;
  /**
   * Graph as the link's user. Every call either succeeds or throws a DomainError: a Conflict
   * `onedrive-reconnect-required` when consent is gone, Unavailable (with the retry hint) when
   * Microsoft is throttling or down, UpstreamFailed for any other answer from Graph.
   * `fresh`: tokens just redeemed (connecting), used before anything is stored.
   */
  driveOf(store: Store, link: OneDriveLinkDoc, log: Logger, fresh?: EntraTokens): Promise<Drive>;
  /** Endpoints in use, for the start-up banner. */
  readonly endpoints: { readonly authority: string; readonly graph: string };
  close(): Promise<void>;
}

export const CALLBACK_PATH = '/api/onedrive/callback';
/** Renew access tokens this long before Entra's stated expiry (clock skew, slow requests). */
const TOKEN_EXPIRY_MARGIN_MS = 120_000;
/** Cached access tokens per instance; oldest dropped first. */
const MAX_CACHED_TOKENS = 1000;

export function reconnectProblem(): Conflict {
  return new Conflict(
    'OneDrive no longer accepts this app for you; connect OneDrive again',
    { connect: '/api/onedrive/connect' },
    'onedrive-reconnect-required',
  );
}

export function notConnectedProblem(): Conflict {
  return new Conflict('connect OneDrive first', { connect: '/api/onedrive/connect' }, 'onedrive-not-connected');
}

/**
 * The region runs without OneDrive: the app registration's client secret is not there (a first
 * deployment before anyone stored it, or a Key Vault reference App Service could not resolve).
 * Not the caller's doing and not over in seconds; everything else keeps working.
 */
export function notConfiguredProblem(): Unavailable {
  return new Unavailable(
    300,
    'OneDrive is not available in this region yet: its Microsoft app registration is not configured. Everything else works; ask your administrator.',
    {},
    'onedrive-not-configured',
  );
}

/** Entra down, throttling or refusing our client: Unavailable with Entra's Retry-After, or 30 s. */
export function entraUnavailableProblem(
  error: EntraUnavailable,
  detail = 'Microsoft sign-in is not available right now; try again',
): Unavailable {
  return new Unavailable(Math.ceil(error.retryAfterSeconds ?? 30), detail);
}

/** What a failed Graph or Entra call means to the API's caller. */
async function asProblem(error: unknown): Promise<unknown> {
  if (error instanceof DomainError) return error;
  if (error instanceof EntraUnavailable) return entraUnavailableProblem(error);
  const { FolderBlockedByFile, GraphError, InvalidSkipToken } = await import('./graph-drive.js');
  if (error instanceof FolderBlockedByFile) {
    return new Conflict(
      `a file named "${error.fileName}" is in the top folder of your OneDrive, where Roger needs its folder "${error.folderName}"; rename or move that file, then connect OneDrive again`,
      { folder: error.folderName, connect: '/api/onedrive/connect' },
      'onedrive-folder-blocked',
    );
  }
  if (error instanceof InvalidSkipToken) {
    return new Invalid('the continuation token is not one this list gave out; start again from the first page', {
      errors: [{ pointer: '/query/continuationToken', detail: 'is not a valid continuation token' }],
    });
  }
  if (error instanceof GraphError) {
    if (error.statusCode === 401) return reconnectProblem();
    // -1: no HTTP answer at all (the SDK wraps network errors so, with the error's name as code).
    if (error.statusCode <= 0 && error.code === 'TimeoutError') {
      return new Unavailable(10, 'OneDrive did not answer in time; try again');
    }
    if (error.statusCode <= 0) return new Unavailable(30, 'OneDrive cannot be reached; try again');
    if (error.statusCode === 429 || error.statusCode === 503 || error.statusCode === 504) {
      const retryAfter = Number(error.headers?.get('retry-after'));
      return new Unavailable(
        Number.isFinite(retryAfter) && retryAfter > 0 ? Math.ceil(retryAfter) : 10,
        'OneDrive is busy; try again shortly',
      );
    }
    return new UpstreamFailed(`OneDrive answered ${error.statusCode}${error.code ? ` (${error.code})` : ''}`);
  }
  return error;
}

/**
 * Every method of the drive, with its failures turned into the problems above. The Graph
 * client wraps anything thrown inside its middleware in a GraphError without keeping it, so
 * a failure to get a token (consent gone, Entra down) is kept aside and reported instead.
 */
function guarded(drive: Drive, tokenFailure: () => unknown): Drive {
  const wrap =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await call(...args);
      } catch (error) {
        throw await asProblem(tokenFailure() ?? error);
      }
    };
  return {
    ensureFolder: wrap(drive.ensureFolder),
    createUploadSession: wrap(drive.createUploadSession),
    item: wrap(drive.item),
    downloadUrl: wrap(drive.downloadUrl),
    children: wrap(drive.children),
  };
}

/** The app registration OneDrive signs users in with, and where Entra ID and Graph answer. */
export interface MicrosoftApp {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly authority: string;
  readonly graphBaseUrl: string;
}

/** The registration ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET name, at ENTRA_AUTHORITY and GRAPH_BASE_URL. */
export function configuredMicrosoftApp(config: Config): MicrosoftApp {
  const { clientId, clientSecret, authority, graphBaseUrl } = config.microsoft;
  if (!clientId || !clientSecret)
    throw new Error('ENTRA_CLIENT_ID is not set: there is no app registration to sign users in to OneDrive with');
  return { clientId, clientSecret, authority, graphBaseUrl };
}

export async function openOneDrive(config: Config, now: () => Date, app: MicrosoftApp = configuredMicrosoftApp(config)): Promise<OneDrive> {
  const { clientId, clientSecret, authority, graphBaseUrl } = app;
  const entra = createEntraClient({ authority, clientId, clientSecret, redirectUri: `${config.oauth.issuer}${CALLBACK_PATH}` }, now);
  const cipher = createTokenCipher(config.microsoft.tokenKeys ?? generatedTokenKeys());
  const tokens = new Map<string, { token: string; expiresAt: number }>();

  function remember(owner: string, token: string, expiresAt: number) {
    tokens.delete(owner);
    tokens.set(owner, { token, expiresAt });
    if (tokens.size > MAX_CACHED_TOKENS) tokens.delete(tokens.keys().next().value!);
  }

  /** An access token for the link's user: cached, else from the stored refresh token (stored again, rotated). */
  function tokenSource(store: Store, initial: OneDriveLinkDoc, log: Logger) {
    let link = initial;
    const owner = linkOwner(link.tenantId, link.userId);
    return async (renew: boolean): Promise<string> => {
      const cached = tokens.get(owner);
      if (!renew && cached && cached.expiresAt - TOKEN_EXPIRY_MARGIN_MS > now().getTime()) return cached.token;
      tokens.delete(owner);
      if (renew) link = (await readLink(store, link.tenantId, link.userId)) ?? link;
      if (link.status !== 'connected' || !link.refreshToken) throw reconnectProblem();
      try {
        const fresh = await entra.refresh(cipher.open(link.refreshToken, owner));
        if (fresh.refreshToken) link = (await storeRotatedToken(store, link, cipher.seal(fresh.refreshToken, owner), now())) ?? link;
        remember(owner, fresh.accessToken, fresh.expiresAt);
        return fresh.accessToken;
      } catch (error) {
        if (!(error instanceof EntraGrantRejected) && !(error instanceof TokenUnreadable)) throw error;
        log.warn('onedrive-reconnect-required', { userId: link.userId, reason: error.name });
        await markReconnectRequired(store, link, now());
        throw reconnectProblem();
      }
    };
  }

  let graphModule: Promise<typeof import('./graph-drive.js')> | undefined;
  return {
    entra,
    cipher,
    endpoints: { authority, graph: graphBaseUrl },
    async driveOf(store, link, log, fresh) {
      if (fresh) remember(linkOwner(link.tenantId, link.userId), fresh.accessToken, fresh.expiresAt);
      graphModule ??= import('./graph-drive.js');
      const { openDrive } = await graphModule;
      const source = tokenSource(store, link, log);
      let failure: unknown;
      const drive = openDrive(graphBaseUrl, async (renew) => {
        try {
          return await source(renew);
        } catch (error) {
          failure = error;
          throw error;
        }
      });
      return guarded(drive, () => failure);
    },
    async close() {
      tokens.clear();
    },
  };
}

/** Why a link cannot be used: not there, or consent gone (undefined: it can be used). */
export function linkProblem(link: OneDriveLinkDoc | undefined): Conflict | undefined {
  if (!link) return notConnectedProblem();
  return link.status === 'connected' ? undefined : reconnectProblem();
}

/** The link, or 409 telling the user to connect (again). */
export function connectedLink(link: OneDriveLinkDoc | undefined): OneDriveLinkDoc {
  const problem = linkProblem(link);
  if (problem) throw problem;
  return link!;
}

export async function requireConnectedLink(store: Store, tenantId: string, userId: string): Promise<OneDriveLinkDoc> {
  return connectedLink(await readLink(store, tenantId, userId));
}
