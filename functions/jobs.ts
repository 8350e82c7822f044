import { Type } from '@sinclair/typebox';
import { Invalid } from '../shared/errors.js';
import { IdParams, IdSchema } from '../shared/http/id-params.js';
import { PageOf, PageQuery } from '../shared/http/paging.js';
import { callerOf, defineRoute, type AuthRequirement } from '../shared/http/route.js';
import {
  FailureReasonSchema,
  FileNameSchema,
  JobOptionsSchema,
  JobSchema,
  JobStateSchema,
  listJobs,
  PrintedCountsSchema,
  publicJob,
  requireJob,
  type JobState,
} from '../shared/jobs/jobs.js';
import { printReportOf } from '../shared/jobs/printed-report.js';
import { cancelJob, confirmUpload, releaseJob, reportPrinted, reportPrintedByPrinter, submitJob } from '../shared/jobs/printing.js';
import { sessionTarget } from '../shared/release/release.js';

/** The mobile app and desktop (`jobs`) and a session at a printer (`jobs:submit`, `jobs:release`). */
const jobOwners: AuthRequirement = { kinds: ['user', 'session'], anyScope: ['jobs', 'jobs:submit', 'jobs:release'] };
const MAX_FILE_SIZE = 2 * 1024 ** 3;

const UploadSchema = Type.Object({
  url: Type.String({
    format: 'uri',
    description: 'PUT the bytes here in ranges (Content-Range); no Authorization header: the URL is the credential.',
  }),
  expiresAt: Type.String({ format: 'date-time' }),
});

/**
 * A Microsoft Graph drive item id (opaque; letters, digits and a few punctuation marks). Not
 * `.` or `..`: in the Graph URL (`/me/drive/items/<id>`) those are path steps, not ids.
 */
export const DriveItemIdSchema = Type.String({ pattern: '^(?!\\.{1,2}$)[A-Za-z0-9!._-]{1,200}$' });

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
      description:
        'Registered. With OneDrive connected, `upload` is where the client sends the document (a Graph upload session in the user’s Print folder).',
      schema: Type.Intersect([JobSchema, Type.Object({ upload: Type.Optional(UploadSchema) })]),
    },
    409: { description: 'OneDrive must be connected again' },
    503: { description: 'OneDrive is busy or unreachable (Retry-After)' },
  },
  handler: async ({ body }, services, context) => {
    const { job, upload } = await submitJob(services, callerOf(context, 'user', 'session'), body, context.log);
    return { status: 201, body: { ...publicJob(job), ...(upload ? { upload } : {}) }, headers: { Location: `/api/jobs/${job.id}` } };
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
  handler: async ({ params }, { store, now }, context) => {
    const caller = callerOf(context, 'user', 'session');
    return { status: 200, body: publicJob(await requireJob(store, caller.tenantId, caller.userId, params.id, now())) };
  },
});

export const jobsCancel = defineRoute({
  name: 'jobs-cancel',
  methods: ['DELETE'],
  route: 'api/jobs/{id}',
  summary: 'Cancel a job that has not been released yet, or that the printer could not print (failed).',
  tags: ['jobs'],
  auth: jobOwners,
  request: { params: IdParams },
  responses: {
    204: { description: 'Cancelled' },
    404: { description: 'No such job' },
    409: { description: 'Released, printed or cancelled' },
  },
  handler: async ({ params }, services, context) => {
    await cancelJob(services, callerOf(context, 'user', 'session'), params.id, context.log);
    return { status: 204 };
  },
});

export const jobsReady = defineRoute({
  name: 'jobs-ready',
  methods: ['POST'],
  route: 'api/jobs/{id}/ready',
  summary:
    'The document is uploaded: the job joins the queue. For a OneDrive job send the drive item id the upload returned; the server checks the file is in the Print folder with the registered size and name. Without it (the last range’s answer was lost), the server looks for the newest such file written since the job was registered.',
  tags: ['jobs'],
  auth: jobOwners,
  request: {
    params: IdParams,
    body: Type.Object({ itemId: Type.Optional(DriveItemIdSchema) }, { additionalProperties: false }),
    bodyOptional: true,
  },
  responses: {
    200: { description: 'Queued', schema: JobSchema },
    404: { description: 'No such job, or no such file in the OneDrive Print folder (without `itemId`: the upload did not finish)' },
    409: { description: 'Not in the registered state, or the uploaded file does not match' },
  },
  handler: async ({ params, body }, services, context) => ({
    status: 200,
    body: publicJob(await confirmUpload(services, callerOf(context, 'user', 'session'), params.id, body?.itemId, context.log)),
  }),
});

export const jobsRelease = defineRoute({
  name: 'jobs-release',
  methods: ['POST'],
  route: 'api/jobs/{id}/release',
  summary:
    'Send one queued job, or one the printer could not print (failed), to the printer of this session. If the dispatch fails the job stays as it was (503). A failed job goes out only this way, never with a session’s queued jobs.',
  tags: ['jobs'],
  auth: { kinds: ['session'], anyScope: ['jobs:release', 'jobs:submit'] },
  request: { params: IdParams },
  responses: {
    200: { description: 'Released', schema: JobSchema },
    409: { description: 'Not queued or failed' },
    503: { description: 'Messaging unavailable: the job is still queued (or failed); retry' },
  },
  handler: async ({ params }, services, context) => ({
    status: 200,
    body: publicJob(await releaseJob(services, sessionTarget(callerOf(context, 'session')), params.id, context.log)),
  }),
});

/**
 * The printed report's body: all optional here, so that printReportOf can say which field is
 * missing or out of place (`{ failed }` alone, all five figures, or nothing).
 */
const PrintedBodySchema = Type.Object(
  {
    failed: Type.Optional(FailureReasonSchema),
    ...Type.Partial(PrintedCountsSchema).properties,
  },
  { additionalProperties: false },
);

export const jobsPrinted = defineRoute({
  name: 'jobs-printed',
  methods: ['POST'],
  route: 'api/jobs/{id}/printed',
  summary:
    'The printer reports a released job printed, with what it printed (`pages`, `sheets`, `colorPages`, `duplex`, `paperSize`: all five, checked against the options the printer was sent), or with no body or `{}` (an agent that counts nothing); or that it could not print it (`{ "failed": reason }`: the job becomes `failed` until its owner releases it again or cancels it). With the session token of the printer the job was released to, or, once that session has ended, with that printer’s device token and `?user=` (the release message’s `user.id`).',
  tags: ['jobs'],
  auth: { kinds: ['session', 'device'] },
  request: {
    params: IdParams,
    query: Type.Object(
      {
        user: Type.Optional({
          ...IdSchema,
          description: 'With a device token, required: the job’s owner (the release message’s `user.id`). Not with a session token.',
        }),
      },
      { additionalProperties: false },
    ),
    body: PrintedBodySchema,
    bodyOptional: true,
  },
  responses: {
    200: { description: 'Printed, or failed', schema: JobSchema },
    400: {
      description:
        'Figures missing, beside `failed`, or not possible for the options the job was sent with; `user` missing with a device token',
    },
    403: { description: 'The printer is disconnected' },
    404: { description: 'No such job; with a device token also a job not released to this printer' },
    409: { description: 'Not released, or (session token) released to another printer' },
  },
  handler: async ({ params, query, body }, services, context) => {
    const caller = callerOf(context, 'session', 'device');
    const report = printReportOf(body);
    if (caller.kind === 'session') {
      if (query.user !== undefined) throw new Invalid('/query/user is only for a device token', { errors: [userNotHere] });
      return { status: 200, body: publicJob(await reportPrinted(services, sessionTarget(caller), params.id, report, context.log)) };
    }
    if (query.user === undefined) throw new Invalid('/query/user is required with a device token', { errors: [userRequired] });
    const printer = { tenantId: caller.tenantId, deviceId: caller.deviceId, userId: query.user };
    return { status: 200, body: publicJob(await reportPrintedByPrinter(services, printer, params.id, report, context.log)) };
  },
});

const userRequired = { pointer: '/query/user', detail: 'is required with a device token: the job’s owner (the release message’s user.id)' };
const userNotHere = { pointer: '/query/user', detail: 'is only for a device token: a session token names its user' };
