import { Type } from '@sinclair/typebox';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { JobOptionsSchema, JobSchema, publicJob } from '../shared/jobs/jobs.js';
import { printFromOneDrive } from '../shared/jobs/printing.js';
import { Unavailable } from '../shared/errors.js';
import { callbackRefused, connectOneDrive, disconnectOneDrive, startConnect } from '../shared/onedrive/connect.js';
import { MicrosoftTokensUnavailable, OneDriveConsentGone } from '../shared/onedrive/graph-tokens.js';
import { requireConnectedLink } from '../shared/onedrive/onedrive.js';
import { sessionTarget } from '../shared/release/release.js';
import { DriveItemIdSchema } from './jobs.js';

/** The user's own OneDrive link: the mobile app or desktop client (`jobs` scope). */
const linkOwner = { kinds: ['user'], anyScope: ['jobs'] } as const;
/** At the printer, in a session: browse the Print folder and print from it. */
const atThePanel = { kinds: ['session'], anyScope: ['jobs:release', 'jobs:submit'] } as const;

export const onedriveConnect = defineRoute({
  name: 'onedrive-connect',
  methods: ['GET'],
  route: 'api/onedrive/connect',
  summary:
    'Start connecting OneDrive: the Microsoft Entra ID authorization URL (code + PKCE) to open in a browser. Valid 10 minutes, once.',
  tags: ['onedrive'],
  auth: linkOwner,
  responses: {
    200: {
      description: 'Open `authorizationUrl`; Entra ID returns the browser to `/api/onedrive/callback`.',
      schema: Type.Object({ authorizationUrl: Type.String({ format: 'uri' }), expiresAt: Type.String({ format: 'date-time' }) }),
    },
    401: { description: 'No valid token, or it names an account that no longer exists' },
    503: { description: 'OneDrive is not configured in this region (`onedrive-not-configured`)' },
  },
  handler: async (_input, services, context) => ({ status: 200, body: await startConnect(services, await context.currentUser()) }),
});

const htmlPage = (title: string, text: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head><body><main><h1>${title}</h1><p>${text}</p></main></body></html>`;

export const onedriveCallback = defineRoute({
  name: 'onedrive-callback',
  methods: ['GET'],
  route: 'api/onedrive/callback',
  summary:
    'Where Entra ID returns the browser after consent (OAuth redirect URI). The one-time `state` names the user; MSAL redeems the code with the PKCE verifier into the user’s sealed Microsoft token cache.',
  tags: ['onedrive'],
  request: {
    query: Type.Object(
      {
        state: Type.String({ minLength: 1, maxLength: 256 }),
        code: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
        error: Type.Optional(Type.String({ maxLength: 256 })),
        error_description: Type.Optional(Type.String({ maxLength: 4096 })),
        error_uri: Type.Optional(Type.String({ maxLength: 2048 })),
        session_state: Type.Optional(Type.String({ maxLength: 256 })),
      },
      // Entra may add parameters of its own; they are ignored.
      { additionalProperties: true },
    ),
  },
  responses: {
    200: { description: 'Connected: a page telling the user to return to the app', contentType: 'text/html' },
    400: { description: 'Declined, expired or already used' },
    403: { description: 'The account that asked to connect no longer exists' },
    409: { description: 'A file named Print or Scan is where the folder must be: the user renames or moves it, then connects again' },
    503: { description: 'Microsoft is unavailable (Retry-After); the same URL may be loaded again. Or OneDrive is not configured here' },
  },
  handler: async ({ query }, services, context) => {
    if (!query.code)
      throw callbackRefused(query.error === 'access_denied' ? 'consent was declined' : 'Microsoft returned no authorization code');
    try {
      await connectOneDrive(services, query.state, query.code, context.log);
    } catch (error) {
      if (error instanceof OneDriveConsentGone) throw callbackRefused('the authorization code was not accepted; start again from the app');
      // The state is not spent: the browser's reload of this very URL finishes the connection.
      if (error instanceof MicrosoftTokensUnavailable)
        throw new Unavailable(
          error.retryAfterSeconds,
          'Microsoft sign-in is not available right now; reload this page shortly to finish connecting OneDrive',
        );
      throw error;
    }
    return {
      status: 200,
      contentType: 'text/html; charset=utf-8',
      body: htmlPage(
        'OneDrive is connected',
        'Roger can now use the Print and Scan folders in your OneDrive. You can close this window and return to the app.',
      ),
    };
  },
});

export const onedriveDisconnect = defineRoute({
  name: 'onedrive-disconnect',
  methods: ['DELETE'],
  route: 'api/onedrive',
  summary:
    'Forget the OneDrive link: its Microsoft account leaves the user’s token cache, unless it is the one the user signs in with. Idempotent.',
  tags: ['onedrive'],
  auth: linkOwner,
  responses: { 204: { description: 'Forgotten (or there was none)' } },
  handler: async (_input, services, context) => {
    const caller = callerOf(context, 'user');
    await disconnectOneDrive(services, caller, context.log);
    context.log.info('onedrive-disconnected', { userId: caller.userId });
    return { status: 204 };
  },
});

const PrintFileSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  size: Type.Integer(),
  lastModifiedAt: Type.Optional(Type.String({ format: 'date-time' })),
});

export const onedrivePrintList = defineRoute({
  name: 'onedrive-print-list',
  methods: ['GET'],
  route: 'api/onedrive/print',
  summary: 'The files in the user’s OneDrive Print folder, for the printer panel; paged.',
  tags: ['onedrive'],
  auth: atThePanel,
  request: {
    query: Type.Object(
      {
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 25 })),
        continuationToken: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9!._~%=+/-]{1,2048}$' })),
      },
      { additionalProperties: false },
    ),
  },
  responses: {
    200: {
      description: 'A page of files',
      schema: Type.Object({ items: Type.Array(PrintFileSchema), continuationToken: Type.Union([Type.String(), Type.Null()]) }),
    },
    409: { description: 'OneDrive not connected, or must be connected again' },
    503: { description: 'OneDrive is busy or unreachable (Retry-After), or not configured in this region (`onedrive-not-configured`)' },
  },
  handler: async ({ query }, services, context) => {
    const caller = callerOf(context, 'session');
    // First: in a region without OneDrive, 503 onedrive-not-configured, not "connect OneDrive".
    const onedrive = await services.onedrive();
    const link = await requireConnectedLink(services.store, caller.tenantId, caller.userId);
    const drive = await onedrive.driveOf(services, link, context.log);
    const page = await drive.children(link.printFolderId, {
      limit: query.limit ?? 25,
      ...(query.continuationToken ? { skipToken: query.continuationToken } : {}),
    });
    return {
      status: 200,
      body: {
        items: page.items
          .filter((item) => item.isFile)
          .map(({ id, name, size, lastModifiedAt }) => ({ id, name, size, ...(lastModifiedAt ? { lastModifiedAt } : {}) })),
        continuationToken: page.skipToken,
      },
    };
  },
});

export const onedrivePrintFile = defineRoute({
  name: 'onedrive-print-file',
  methods: ['POST'],
  route: 'api/onedrive/print',
  summary: 'Print a file from the Print folder at this session’s printer: creates a job and releases it at once.',
  tags: ['onedrive'],
  auth: atThePanel,
  request: {
    body: Type.Object(
      { itemId: DriveItemIdSchema, options: Type.Optional(Type.Partial(JobOptionsSchema, { additionalProperties: false })) },
      { additionalProperties: false },
    ),
  },
  responses: {
    201: { description: 'Released to this printer', schema: JobSchema },
    404: { description: 'No such file in the Print folder' },
    409: { description: 'OneDrive not connected, or must be connected again' },
    503: { description: 'The printer or OneDrive could not be reached: the job is queued (Retry-After)' },
  },
  handler: async ({ body }, services, context) => {
    const released = await printFromOneDrive(services, sessionTarget(callerOf(context, 'session')), body.itemId, body.options, context.log);
    return { status: 201, body: publicJob(released), headers: { Location: `/api/jobs/${released.id}` } };
  },
});
