import { Type } from '@sinclair/typebox';
import { IdParams } from '../shared/http/id-params.js';
import { PageOf, PageQuery } from '../shared/http/paging.js';
import { HttpProblem } from '../shared/http/problem.js';
import { callerOf, defineRoute, type AuthRequirement, type RequestContext } from '../shared/http/route.js';
import {
  assertTransition,
  FileNameSchema,
  JobOptionsSchema,
  JobSchema,
  JobStateSchema,
  listJobs,
  publicJob,
  registerJob,
  requireJob,
  transitionJob,
  type JobState,
} from '../shared/jobs/jobs.js';
import { isNameOfUpload, isOneDriveName } from '../shared/onedrive/file-names.js';
import { readLink } from '../shared/onedrive/links.js';
import { reconnectProblem, requireConnectedLink } from '../shared/onedrive/onedrive.js';
import { releaseJobs, sessionTarget } from '../shared/release/release.js';
import { readTenant } from '../shared/tenants/tenants.js';
import type { Services } from '../shared/services.js';
import { readUser } from '../shared/users/users.js';

/** The mobile app and desktop (`jobs`) and a session at a printer (`jobs:submit`, `jobs:release`). */
const jobOwners: AuthRequirement = { kinds: ['user', 'session'], anyScope: ['jobs', 'jobs:submit', 'jobs:release'] };
const MAX_FILE_SIZE = 2 * 1024 ** 3;

const UploadSchema = Type.Object({
  url: Type.String({ format: 'uri', description: 'PUT the bytes here in ranges (Content-Range); no Authorization header: the URL is the credential.' }),
  expiresAt: Type.String({ format: 'date-time' }),
});

/**
 * A Microsoft Graph drive item id (opaque; letters, digits and a few punctuation marks). Not
 * `.` or `..`: in the Graph URL (`/me/drive/items/<id>`) those are path steps, not ids.
 */
export const DriveItemIdSchema = Type.String({ pattern: '^(?!\\.{1,2}$)[A-Za-z0-9!._-]{1,200}$' });

/** The caller's own job `id` (404 if it is not theirs, or expired). */
function callersJob({ store, now }: Services, context: RequestContext, id: string) {
  const caller = callerOf(context, 'user', 'session');
  return requireJob(store, caller.tenantId, caller.userId, id, now());
}

export const jobsCreate = defineRoute({
  name: 'jobs-create',
  methods: ['POST'],
  route: 'api/jobs',
  summary: 'Register a print job (metadata only; the document goes to OneDrive, never here).',
  tags: ['jobs'],
  auth: { kinds: ['user', 'session'], anyScope: ['jobs', 'jobs:submit'] },
  request: {
    body: Type.Object(
      {
        fileName: FileNameSchema,
        size: Type.Integer({ minimum: 1, maximum: MAX_FILE_SIZE, description: 'Bytes.' }),
        options: Type.Optional(Type.Partial(JobOptionsSchema, { additionalProperties: false })),
      },
      { additionalProperties: false },
    ),
  },
  responses: {
    201: {
      description: 'Registered. With OneDrive connected, `upload` is where the client sends the document (a Graph upload session in the user’s Print folder).',
      schema: Type.Intersect([JobSchema, Type.Object({ upload: Type.Optional(UploadSchema) })]),
    },
    409: { description: 'OneDrive must be connected again' },
    503: { description: 'OneDrive is busy or unreachable (Retry-After)' },
  },
  handler: async ({ body }, services, context) => {
    const caller = callerOf(context, 'user', 'session');
    const [tenant, user, link] = await Promise.all([
      readTenant(services.store, caller.tenantId),
      readUser(services.store, caller.tenantId, caller.userId),
      readLink(services.store, caller.tenantId, caller.userId),
    ]);
    if (!tenant || !user) throw new HttpProblem('forbidden', 'this account no longer exists');
    if (link && link.status !== 'connected') throw reconnectProblem();
    if (link && !isOneDriveName(body.fileName)) {
      throw new HttpProblem('validation-failed', 'OneDrive does not accept this file name', {
        errors: [{ pointer: '/body/fileName', detail: 'is blank, "." or "..", or longer than OneDrive allows' }],
      });
    }
    // The upload session first: if OneDrive fails, no job is left behind.
    const upload = link
      ? await (await services.onedrive()).driveOf(services.store, link, context.log).then((drive) => drive.createUploadSession(link.printFolderId, body.fileName, 'rename'))
      : undefined;
    const job = await registerJob(
      services,
      { tenantId: tenant.id, userId: user.id, email: user.email, username: user.username },
      tenant.policy.jobRetentionDays,
      body,
      upload ? { upload: true } : undefined,
    );
    return {
      status: 201,
      body: { ...publicJob(job), ...(upload ? { upload: { url: upload.uploadUrl, expiresAt: upload.expiresAt } } : {}) },
      headers: { Location: `/api/jobs/${job.id}` },
    };
  },
});

export const jobsList = defineRoute({
  name: 'jobs-list',
  methods: ['GET'],
  route: 'api/jobs',
  summary: "The caller's own jobs, newest first, paged with continuation tokens.",
  tags: ['jobs'],
  auth: jobOwners,
  request: {
    query: Type.Object({ ...PageQuery(25).properties, state: Type.Optional(JobStateSchema) }, { additionalProperties: false }),
  },
  responses: {
    200: {
      description: 'A page of jobs',
      schema: PageOf(JobSchema),
    },
  },
  handler: async ({ query }, { store, now }, context) => {
    const caller = callerOf(context, 'user', 'session');
    const page = await listJobs(store, caller.tenantId, caller.userId, now(), {
      limit: query.limit ?? 25,
      ...(query.continuationToken ? { continuationToken: query.continuationToken } : {}),
      ...(query.state ? { state: query.state as JobState } : {}),
    });
    return { status: 200, body: { items: page.items.map(publicJob), continuationToken: page.continuationToken } };
  },
});

export const jobsGet = defineRoute({
  name: 'jobs-get',
  methods: ['GET'],
  route: 'api/jobs/{id}',
  summary: 'One of the caller’s jobs.',
  tags: ['jobs'],
  auth: jobOwners,
  request: { params: IdParams },
  responses: { 200: { description: 'The job', schema: JobSchema }, 404: { description: 'No such job (or expired)' } },
  handler: async ({ params }, services, context) => ({ status: 200, body: publicJob(await callersJob(services, context, params.id)) }),
});

export const jobsCancel = defineRoute({
  name: 'jobs-cancel',
  methods: ['DELETE'],
  route: 'api/jobs/{id}',
  summary: 'Cancel a job that has not been released yet.',
  tags: ['jobs'],
  auth: jobOwners,
  request: { params: IdParams },
  responses: { 204: { description: 'Cancelled' }, 404: { description: 'No such job' }, 409: { description: 'Already released or done' } },
  handler: async ({ params }, services, context) => {
    await transitionJob(services.store, await callersJob(services, context, params.id), 'cancel', services.now());
    return { status: 204 };
  },
});

export const jobsReady = defineRoute({
  name: 'jobs-ready',
  methods: ['POST'],
  route: 'api/jobs/{id}/ready',
  summary:
    'The document is uploaded: the job joins the queue. For a OneDrive job send the drive item id the upload returned; the server checks the file is in the Print folder with the registered size and name.',
  tags: ['jobs'],
  auth: jobOwners,
  request: {
    params: IdParams,
    body: Type.Object({ itemId: Type.Optional(DriveItemIdSchema) }, { additionalProperties: false }),
    bodyOptional: true,
  },
  responses: {
    200: { description: 'Queued', schema: JobSchema },
    400: { description: 'A OneDrive job without `itemId`' },
    409: { description: 'Not in the registered state, or the uploaded file does not match' },
  },
  handler: async ({ params, body }, services, context) => {
    const job = await callersJob(services, context, params.id);
    assertTransition(job, 'ready');
    if (!job.onedrive) return { status: 200, body: publicJob(await transitionJob(services.store, job, 'ready', services.now())) };
    if (!body?.itemId) {
      throw new HttpProblem('validation-failed', 'this job’s document goes through OneDrive: send the uploaded item’s id', {
        errors: [{ pointer: '/itemId', detail: 'is required for a OneDrive job' }],
      });
    }
    const link = await requireConnectedLink(services.store, job.tenantId, job.userId);
    const drive = await (await services.onedrive()).driveOf(services.store, link, context.log);
    const item = await drive.item(body.itemId);
    if (!item || !item.isFile || item.parentId !== link.printFolderId) {
      throw new HttpProblem('conflict', 'no such file in your OneDrive Print folder; upload it first');
    }
    if (item.size !== job.size || !isNameOfUpload(item.name, job.fileName)) {
      throw new HttpProblem('conflict', 'the file in OneDrive does not match the job (size or name differ)', { size: item.size });
    }
    const queued = await transitionJob(services.store, job, 'ready', services.now(), { onedrive: { itemId: item.id } });
    return { status: 200, body: publicJob(queued) };
  },
});

export const jobsRelease = defineRoute({
  name: 'jobs-release',
  methods: ['POST'],
  route: 'api/jobs/{id}/release',
  summary: 'Send one queued job to the printer of this session. If the dispatch fails the job stays queued (503).',
  tags: ['jobs'],
  auth: { kinds: ['session'], anyScope: ['jobs:release', 'jobs:submit'] },
  request: { params: IdParams },
  responses: {
    200: { description: 'Released', schema: JobSchema },
    409: { description: 'Not queued' },
    503: { description: 'Messaging unavailable: the job is still queued; retry' },
  },
  handler: async ({ params }, services, context) => {
    const caller = callerOf(context, 'session');
    const job = await callersJob(services, context, params.id);
    assertTransition(job, 'release'); // before sending: a job that is not queued must not go out
    const { outcome, releasedJobs, heldBack, unrecorded } = await releaseJobs(services, sessionTarget(caller), [job], context.log);
    if (heldBack) throw heldBack;
    if (!outcome.dispatched) {
      throw new HttpProblem('service-unavailable', 'the printer could not be reached; the job is still queued', { state: 'queued' }, { 'Retry-After': '10' });
    }
    const released = releasedJobs[0];
    // Sent but not recorded (the store failed): its 503 says retry, and a retry is not printed twice.
    if (!released && unrecorded) throw unrecorded;
    if (!released) throw new HttpProblem('conflict', 'the job changed while it was released; read it again');
    return { status: 200, body: publicJob(released) };
  },
});

export const jobsPrinted = defineRoute({
  name: 'jobs-printed',
  methods: ['POST'],
  route: 'api/jobs/{id}/printed',
  summary: 'The printer reports a released job printed (session token of the printer it was released to).',
  tags: ['jobs'],
  auth: { kinds: ['session'] },
  request: { params: IdParams },
  responses: { 200: { description: 'Printed', schema: JobSchema }, 409: { description: 'Not released, or released to another printer' } },
  handler: async ({ params }, services, context) => {
    const job = await callersJob(services, context, params.id);
    if (job.state === 'released' && job.releasedTo !== callerOf(context, 'session').deviceId) {
      throw new HttpProblem('conflict', 'this job was released to another printer');
    }
    const time = services.now();
    return { status: 200, body: publicJob(await transitionJob(services.store, job, 'printed', time, { printedAt: time.toISOString() })) };
  },
});
