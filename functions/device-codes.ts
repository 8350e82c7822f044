import { Type } from '@sinclair/typebox';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { approveUserCode, denyUserCode, describeUserCode } from '../shared/oauth/approval.js';
import { DeviceLocationSchema, DeviceNameSchema } from '../shared/devices/devices.js';

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
  summary: 'Approve a user code: enroll a printer (admin; name required), start a session at a printer, or sign in a desktop client.',
  tags: ['oauth'],
  auth: userAuth,
  request: {
    body: Type.Object(
      { user_code: UserCodeSchema, name: Type.Optional(DeviceNameSchema), location: Type.Optional(DeviceLocationSchema) },
      { additionalProperties: false },
    ),
  },
  responses: {
    200: {
      description: 'Approved; `deviceId` for an enrollment; for a session, what happened to the queued jobs',
      schema: Type.Object({
        deviceId: Type.Optional(Type.String()),
        release: Type.Optional(Type.Object({ released: Type.Integer(), queued: Type.Integer(), dispatched: Type.Boolean() })),
      }),
    },
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
