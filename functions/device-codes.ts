import { Type } from '@sinclair/typebox';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { approveUserCode, denyUserCode, describeUserCode } from '../shared/oauth/approval.js';
import { DeviceLocationSchema, DeviceNameSchema } from '../shared/devices/devices.js';
import { IdSchema } from '../shared/http/id-params.js';
import { MAX_JOBS_PER_RELEASE } from '../shared/release/release.js';

/** Case-insensitive, with or without the dash (RFC 8628 §6.1); checked against the alphabet in code. */
const UserCodeSchema = Type.String({ minLength: 8, maxLength: 12, pattern: '^[A-Za-z -]+$' });
const userAuth = { kinds: ['user'] as const };

export const deviceCodesGet = defineRoute({
  name: 'device-codes-get',
  methods: ['GET'],
  route: 'api/device-codes/{user_code}',
  summary: 'What is asking for this user code: client, scope, printer name and location (RFC 8628 §5.4).',
  tags: ['oauth'],
  auth: userAuth,
  request: { params: Type.Object({ user_code: UserCodeSchema }) },
  responses: {
    200: {
      description: 'The pending request',
      schema: Type.Object({
        clientId: Type.String(),
        scope: Type.String(),
        expiresAt: Type.String({ format: 'date-time' }),
        printer: Type.Union([Type.Object({ id: Type.String(), name: Type.String(), location: Type.String() }), Type.Null()]),
      }),
    },
    404: { description: 'Unknown, expired, answered, or not the caller’s to answer' },
    429: { description: 'Too many wrong codes' },
  },
  handler: async ({ params }, services, context) => ({
    status: 200,
    body: await describeUserCode(services, callerOf(context, 'user'), params.user_code),
  }),
});

export const deviceCodesApprove = defineRoute({
  name: 'device-codes-approve',
  methods: ['POST'],
  route: 'api/device-codes/approve',
  summary:
    'Approve a user code: enroll a printer (admin; name required), start a session at a printer (releasing the queued jobs, or those named in `jobIds`), or sign in a desktop client.',
  tags: ['oauth'],
  auth: userAuth,
  request: {
    body: Type.Object(
      {
        user_code: UserCodeSchema,
        name: Type.Optional(DeviceNameSchema),
        location: Type.Optional(DeviceLocationSchema),
        jobIds: Type.Optional(
          Type.Array(IdSchema, {
            minItems: 1,
            maxItems: MAX_JOBS_PER_RELEASE,
            uniqueItems: true,
            description:
              'A session only: release just these of the caller’s queued jobs (default: all of them). An id that is not one of them is skipped and counted (`release.skipped`).',
          }),
        ),
      },
      { additionalProperties: false },
    ),
  },
  responses: {
    200: {
      description: 'Approved; `deviceId` for an enrollment; for a session, what happened to the queued jobs',
      schema: Type.Object({
        deviceId: Type.Optional(Type.String()),
        release: Type.Optional(
          Type.Object({
            released: Type.Integer({ description: 'Jobs sent to the printer.' }),
            queued: Type.Integer({
              description:
                'Jobs still queued: the printer could not be reached, the document could not be had now, or print rights hold them.',
            }),
            dispatched: Type.Boolean(),
            held: Type.Optional(Type.Integer({ description: 'Of `queued`, jobs held by print rights (each job says why: `heldReason`).' })),
            failed: Type.Optional(
              Type.Integer({ description: 'Jobs whose OneDrive file is gone, now `failed` with `failedReason: document-missing`.' }),
            ),
            skipped: Type.Optional(Type.Integer({ description: 'Ids in `jobIds` that are not the caller’s queued jobs.' })),
          }),
        ),
      }),
    },
    400: { description: '`jobIds` malformed, or sent with a code that is not a session at a printer' },
    404: { description: 'Unknown, expired, answered, or not the caller’s to answer' },
    409: { description: 'Answered concurrently' },
  },
  handler: async ({ body }, services, context) => ({
    status: 200,
    body: await approveUserCode(services, callerOf(context, 'user'), body.user_code, body, context.log),
  }),
});

export const deviceCodesDeny = defineRoute({
  name: 'device-codes-deny',
  methods: ['POST'],
  route: 'api/device-codes/deny',
  summary: 'Deny a user code; the asking client gets access_denied.',
  tags: ['oauth'],
  auth: userAuth,
  request: { body: Type.Object({ user_code: UserCodeSchema }, { additionalProperties: false }) },
  responses: { 204: { description: 'Denied' }, 404: { description: 'Unknown, expired or answered' } },
  handler: async ({ body }, services, context) => {
    await denyUserCode(services, callerOf(context, 'user'), body.user_code);
    return { status: 204 };
  },
});
