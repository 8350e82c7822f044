import type { Config } from '../config/load-config.js';
import { Conflict, DomainError, Invalid, Unavailable, UpstreamFailed } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import type { Store } from '../store/store.js';
import type { Drive } from './graph-drive.js';
import { graphAccessToken, migrateRefreshToken, OneDriveConsentGone, type LinkedAccount } from './graph-tokens.js';
import { linkOwner, markReconnectRequired, readLink, storeMigratedLink, type OneDriveLinkDoc } from './links.js';
import { TokenUnreadable } from './token-cipher.js';

/**
 * OneDrive for Business (docs/flows.md#onedrive-for-business): Graph as a given user, with the
 * user's Microsoft tokens from their sealed MSAL cache (graph-tokens.ts). Opened once per
 * process, on first use.
 *
 * The host decides the endpoints (`MicrosoftApp`): Microsoft's, as configuration names them, or
 * a local stand-in the local host started (tools/local/). The code below is the same for both.
 */
export interface OneDrive {
  /**
   * Graph as the link's user. Every call either succeeds or throws a DomainError: a Conflict
   * `onedrive-reconnect-required` when consent is gone, Unavailable (with the retry hint) when
   * Microsoft is throttling or down, UpstreamFailed for any other answer from Graph.
   * `fresh`: the access token just redeemed (connecting), used before anything is stored.
   */
  driveOf(services: OneDriveServices, link: OneDriveLinkDoc, log: Logger, fresh?: string): Promise<Drive>;
  /** Endpoints in use, for the start-up banner. */
  readonly endpoints: { readonly authority: string; readonly graph: string };
  close(): Promise<void>;
}

/** What Graph as a user needs: the store (the link, the user's MSAL cache), MSAL, the clock. */
export type OneDriveServices = Pick<Services, 'config' | 'store' | 'now' | 'microsoft' | 'telemetry'>;

export { CALLBACK_PATH } from './graph-tokens.js';
/** Within one request, an access token MSAL gave is used again until this long before its expiry. */
const TOKEN_EXPIRY_MARGIN_MS = 120_000;

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

/** What a failed Graph or Entra call means to the API's caller. */
async function asProblem(error: unknown): Promise<unknown> {
  if (error instanceof DomainError) return error;
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
    deleteItem: wrap(drive.deleteItem),
    ensureChildFolder: wrap(drive.ensureChildFolder),
    moveItem: wrap(drive.moveItem),
  };
}

/** Where Graph answers, and the Entra authority (for the banner). The app registration and MSAL are Sign in with Microsoft's (services.microsoft()). */
export interface MicrosoftApp {
  readonly authority: string;
  readonly graphBaseUrl: string;
}

/** The endpoints ENTRA_AUTHORITY and GRAPH_BASE_URL name, for the registration ENTRA_CLIENT_ID and ENTRA_CLIENT_SECRET name. */
export function configuredMicrosoftApp(config: Config): MicrosoftApp {
  const { clientId, clientSecret, authority, graphBaseUrl } = config.microsoft;
  if (!clientId || !clientSecret)
    throw new Error('ENTRA_CLIENT_ID is not set: there is no app registration to sign users in to OneDrive with');
  return { authority, graphBaseUrl };
}

export async function openOneDrive(config: Config, now: () => Date, app: MicrosoftApp = configuredMicrosoftApp(config)): Promise<OneDrive> {
  const { authority, graphBaseUrl } = app;

  /**
   * An access token for the link's account. Within one request (one drive), the one MSAL gave is
   * used again while valid; otherwise MSAL is asked (its cache is the user's, read from the
   * store each time: another instance may have refreshed it). A link from before MSAL holds a
   * bare refresh token: it is migrated into the user's MSAL cache on first use.
   */
  function tokenSource(services: OneDriveServices, initial: OneDriveLinkDoc, log: Logger, fresh: string | undefined) {
    let link = initial;
    const owner = { tenantId: link.tenantId, userId: link.userId };
    let held = fresh ? { token: fresh, expiresAt: Number.POSITIVE_INFINITY } : undefined;
    return async (renew: boolean): Promise<string> => {
      if (!renew && held && held.expiresAt - TOKEN_EXPIRY_MARGIN_MS > now().getTime()) return held.token;
      held = undefined;
      if (renew) link = (await readLink(services.store, link.tenantId, link.userId)) ?? link;
      if (link.status !== 'connected' || (!link.account && !link.refreshToken)) throw reconnectProblem();
      try {
        let account: LinkedAccount | undefined = link.account;
        if (!account) {
          const microsoft = await services.microsoft();
          const refreshToken = microsoft.cipher.open(link.refreshToken!, linkOwner(link.tenantId, link.userId));
          account = await migrateRefreshToken(services, owner, refreshToken, log);
          link = (await storeMigratedLink(services.store, link, account, now())) ?? { ...link, account };
          log.info('onedrive-link-migrated', { userId: link.userId });
        }
        held = await graphAccessToken(services, owner, account, renew, log);
        return held.token;
      } catch (error) {
        if (!(error instanceof OneDriveConsentGone) && !(error instanceof TokenUnreadable)) throw error;
        log.warn('onedrive-reconnect-required', { userId: link.userId, reason: error.name });
        await markReconnectRequired(services.store, link, now());
        throw reconnectProblem();
      }
    };
  }

  let graphModule: Promise<typeof import('./graph-drive.js')> | undefined;
  return {
    endpoints: { authority, graph: graphBaseUrl },
    async driveOf(services, link, log, fresh) {
      graphModule ??= import('./graph-drive.js');
      const { openDrive } = await graphModule;
      const source = tokenSource(services, link, log, fresh);
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
    async close() {},
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
