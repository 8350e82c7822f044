import { Type } from '@sinclair/typebox';
import { IdParams } from '../shared/http/id-params.js';
import { HttpProblem } from '../shared/http/problem.js';
import { callerOf, defineRoute } from '../shared/http/route.js';
import {
  createProfile,
  deleteProfile,
  isAdmin,
  listProfiles,
  mayUse,
  publicProfile,
  requireProfile,
  ScanProfileSchema,
  ScanSettingsSchema,
  updateProfile,
} from '../shared/scans/profiles.js';

/** Managing profiles: the tenant's admins, with their own (user) token. */
const admins = { kinds: ['user'], anyRole: ['admin'] } as const;

export const scanProfilesList = defineRoute({
  name: 'scan-profiles-list',
  methods: ['GET'],
  route: 'api/scan-profiles',
  summary: 'The scan profiles the caller may use (the printer panel’s list); admins get every profile of the tenant with who may use it.',
  tags: ['scan'],
  auth: { kinds: ['user', 'session'] },
  responses: {
    200: {
      description: 'Profiles, by name',
      schema: Type.Object({ items: Type.Array(ScanProfileSchema), continuationToken: Type.Null() }),
    },
  },
  handler: async (_input, { store }, context) => {
    const caller = callerOf(context, 'user', 'session');
    const [profiles, user] = await Promise.all([listProfiles(store, caller.tenantId), context.currentUser()]);
    const admin = isAdmin(caller, user);
    const visible = admin ? profiles : profiles.filter((profile) => mayUse(profile, user.id, user.role));
    return { status: 200, body: { items: visible.map((profile) => publicProfile(profile, admin)), continuationToken: null } };
  },
});

export const scanProfilesCreate = defineRoute({
  name: 'scan-profiles-create',
  methods: ['POST'],
  route: 'api/scan-profiles',
  summary: 'Create a scan profile (admins).',
  tags: ['scan'],
  auth: admins,
  request: { body: ScanSettingsSchema },
  responses: {
    201: { description: 'Created', schema: ScanProfileSchema },
    409: { description: 'The tenant has the most profiles it may have' },
  },
  handler: async ({ body }, services, context) => {
    const profile = await createProfile(services, callerOf(context, 'user'), body, context.log);
    return { status: 201, body: publicProfile(profile, true), headers: { Location: `/api/scan-profiles/${profile.profileId}` } };
  },
});

export const scanProfilesGet = defineRoute({
  name: 'scan-profiles-get',
  methods: ['GET'],
  route: 'api/scan-profiles/{id}',
  summary: 'One scan profile (admins, or a user who may use it).',
  tags: ['scan'],
  auth: { kinds: ['user', 'session'] },
  request: { params: IdParams },
  responses: {
    200: { description: 'The profile', schema: ScanProfileSchema },
    404: { description: 'No such profile (or not for this user)' },
  },
  handler: async ({ params }, { store }, context) => {
    const caller = callerOf(context, 'user', 'session');
    const [profile, user] = await Promise.all([requireProfile(store, caller.tenantId, params.id), context.currentUser()]);
    const admin = isAdmin(caller, user);
    if (!admin && !mayUse(profile, user.id, user.role)) throw new HttpProblem('not-found', 'no such scan profile');
    return { status: 200, body: publicProfile(profile, admin) };
  },
});

export const scanProfilesUpdate = defineRoute({
  name: 'scan-profiles-update',
  methods: ['PATCH'],
  route: 'api/scan-profiles/{id}',
  summary: 'Change a scan profile (admins); only the fields sent change.',
  tags: ['scan'],
  auth: admins,
  request: { params: IdParams, body: Type.Partial(ScanSettingsSchema, { additionalProperties: false, minProperties: 1 }) },
  responses: { 200: { description: 'Changed', schema: ScanProfileSchema }, 404: { description: 'No such profile' } },
  handler: async ({ params, body }, services, context) => {
    const profile = await updateProfile(services, callerOf(context, 'user'), params.id, body, context.log);
    return { status: 200, body: publicProfile(profile, true) };
  },
});

export const scanProfilesDelete = defineRoute({
  name: 'scan-profiles-delete',
  methods: ['DELETE'],
  route: 'api/scan-profiles/{id}',
  summary: 'Delete a scan profile (admins). Idempotent.',
  tags: ['scan'],
  auth: admins,
  request: { params: IdParams },
  responses: { 204: { description: 'Deleted (or there was none)' } },
  handler: async ({ params }, services, context) => {
    await deleteProfile(services, callerOf(context, 'user'), params.id, context.log);
    return { status: 204 };
  },
});
