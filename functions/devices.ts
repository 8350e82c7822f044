import { Type } from '@sinclair/typebox';
import { audit } from '../shared/audit/audit.js';
import { DeviceLocationSchema, DeviceNameSchema, listDevices, publicDevice, PublicDeviceSchema, readDevice, updateDevice } from '../shared/devices/devices.js';
import { disconnectDevice } from '../shared/devices/disconnect.js';
import { IdParams } from '../shared/http/id-params.js';
import { PageOf, PageQuery } from '../shared/http/paging.js';
import { HttpProblem } from '../shared/http/problem.js';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { mintSasToken } from '../shared/messaging/sas.js';

const AMQP_TOKEN_LIFETIME_SECONDS = 20 * 60;

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
        entityPath: Type.String(),
        sasToken: Type.String(),
        expiresOn: Type.String({ format: 'date-time' }),
      }),
    },
    403: { description: 'The printer is disconnected' },
  },
  handler: async (_input, services, context) => {
    const caller = callerOf(context, 'device');
    const device = await readDevice(services.store, caller.tenantId, caller.deviceId);
    if (!device || device.status !== 'connected') throw new HttpProblem('forbidden', 'this printer is disconnected; enroll it again');
    const messaging = await services.messaging();
    const entityPath = `${device.topic}/subscriptions/${device.id}`;
    const expiresOn = new Date(services.now().getTime() + AMQP_TOKEN_LIFETIME_SECONDS * 1000);
    const { name, key } = messaging.listenRule;
    return {
      status: 200,
      body: {
        amqpUrl: messaging.amqpUrl,
        entityPath,
        sasToken: mintSasToken(`${messaging.resourceBase}${entityPath}`, name, key, expiresOn),
        expiresOn: expiresOn.toISOString(),
      },
    };
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
    const caller = callerOf(context, 'user');
    const device = await readDevice(services.store, caller.tenantId, params.id);
    if (!device) throw new HttpProblem('not-found', 'no such printer');
    await disconnectDevice(services, device, context.log);
    await audit(services.store, context.log, { tenantId: caller.tenantId, actorId: caller.userId, action: 'device.disconnected', targetId: device.id, at: services.now() });
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
    body: Type.Object({ name: Type.Optional(DeviceNameSchema), location: Type.Optional(DeviceLocationSchema) }, { additionalProperties: false, minProperties: 1 }),
  },
  responses: { 200: { description: 'Changed', schema: PublicDeviceSchema }, 404: { description: 'No such printer in this tenant' } },
  handler: async ({ params, body }, { store, now }, context) => {
    const caller = callerOf(context, 'user');
    const device = await readDevice(store, caller.tenantId, params.id);
    if (!device) throw new HttpProblem('not-found', 'no such printer');
    // Applied on top of whatever the printer's own refresh wrote meanwhile (its token, when it was seen).
    const updated = await updateDevice(store, device, (current) => ({ ...current, ...body }));
    if (!updated) throw new HttpProblem('not-found', 'no such printer');
    await audit(store, context.log, { tenantId: caller.tenantId, actorId: caller.userId, action: 'device.changed', targetId: device.id, details: { fields: Object.keys(body) }, at: now() });
    return { status: 200, body: publicDevice(updated) };
  },
});
