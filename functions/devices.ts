import { Type } from '@sinclair/typebox';
import {
  changePrinter,
  DeviceLocationSchema,
  DeviceNameSchema,
  listDevices,
  publicDevice,
  PublicDeviceSchema,
} from '../shared/devices/devices.js';
import { disconnectPrinter } from '../shared/devices/disconnect.js';
import { IdParams } from '../shared/http/id-params.js';
import { PageOf, PageQuery } from '../shared/http/paging.js';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { printerCredentials } from '../shared/messaging/printer-credentials.js';

export const devicesAmqpToken = defineRoute({
  name: 'devices-amqp-token',
  methods: ['POST'],
  route: 'api/devices/me/amqp-token',
  summary: "A printer's Service Bus credentials: a Listen-only SAS token scoped to its own subscription, 20 minutes.",
  tags: ['devices'],
  auth: { kinds: ['device'], anyScope: ['device'] },
  responses: {
    200: {
      description: 'Where to connect and with what',
      schema: Type.Object({
        amqpUrl: Type.String(),
        amqpWebSocketUrl: Type.String({
          description:
            'The same namespace over AMQP over WebSockets (port 443), for networks that allow nothing else; the same token works there.',
        }),
        topic: Type.String({ description: 'The release topic the printer was given at enrollment (`releases-NN`).' }),
        entityPath: Type.String({ description: 'Its own subscription: `<topic>/subscriptions/<printerId>`.' }),
        sasToken: Type.String(),
        expiresOn: Type.String({ format: 'date-time' }),
      }),
    },
    403: { description: 'The printer is disconnected' },
  },
  handler: async (_input, services, context) => {
    const caller = callerOf(context, 'device');
    const { expiresOn, ...credentials } = await printerCredentials(services, caller.tenantId, caller.deviceId);
    return { status: 200, body: { ...credentials, expiresOn: expiresOn.toISOString() } };
  },
});

export const devicesDelete = defineRoute({
  name: 'devices-delete',
  methods: ['DELETE'],
  route: 'api/devices/{id}',
  summary: 'Disconnect a printer at once (admin): its refresh tokens stop working and its release subscription is deleted.',
  tags: ['devices'],
  auth: { kinds: ['user'], anyRole: ['admin'] },
  request: { params: IdParams },
  responses: { 204: { description: 'Disconnected (also when it already was)' }, 404: { description: 'No such printer in this tenant' } },
  handler: async ({ params }, services, context) => {
    await disconnectPrinter(services, callerOf(context, 'user'), params.id, context.log);
    return { status: 204 };
  },
});

const admins = { kinds: ['user'], anyRole: ['admin'] } as const;

export const devicesList = defineRoute({
  name: 'devices-list',
  methods: ['GET'],
  route: 'api/devices',
  summary: 'The tenant’s printers by name: location, status, last seen (admins); paged.',
  tags: ['devices'],
  auth: admins,
  request: {
    query: PageQuery(25),
  },
  responses: {
    200: { description: 'A page of printers', schema: PageOf(PublicDeviceSchema) },
  },
  handler: async ({ query }, { store }, context) => {
    const page = await listDevices(store, callerOf(context, 'user').tenantId, {
      limit: query.limit ?? 25,
      ...(query.continuationToken ? { continuationToken: query.continuationToken } : {}),
    });
    return { status: 200, body: { items: page.items.map(publicDevice), continuationToken: page.continuationToken } };
  },
});

export const devicesUpdate = defineRoute({
  name: 'devices-update',
  methods: ['PATCH'],
  route: 'api/devices/{id}',
  summary: 'Rename or move a printer (admins). Audited.',
  tags: ['devices'],
  auth: admins,
  request: {
    params: IdParams,
    body: Type.Object(
      { name: Type.Optional(DeviceNameSchema), location: Type.Optional(DeviceLocationSchema) },
      { additionalProperties: false, minProperties: 1 },
    ),
  },
  responses: { 200: { description: 'Changed', schema: PublicDeviceSchema }, 404: { description: 'No such printer in this tenant' } },
  handler: async ({ params, body }, services, context) => ({
    status: 200,
    body: publicDevice(await changePrinter(services, callerOf(context, 'user'), params.id, body, context.log)),
  }),
});
