import { Type } from '@sinclair/typebox';
import { IdSchema } from '../shared/http/id-params.js';
import { callerOf, defineRoute } from '../shared/http/route.js';
import {
  addBadgeAsAdmin,
  BadgeLabelSchema,
  BadgeNumberSchema,
  listBadgesOf,
  publicBadge,
  PublicBadgeSchema,
  removeBadgeAsAdmin,
} from '../shared/users/badges.js';
import { registerBadgeAtPrinter } from '../shared/users/badge-self-registration.js';

// ID badges (docs/security.md#badges): an admin registers, lists and removes a person's badges;
// at a printer, the person signed in there registers the badge they tap. The number goes in,
// never out: answers name a badge by its own id.

const admins = { kinds: ['user'], anyRole: ['admin'] } as const;

const BadgeBody = Type.Object({ number: BadgeNumberSchema, label: Type.Optional(BadgeLabelSchema) }, { additionalProperties: false });
const SelfBody = Type.Object(
  {
    number: BadgeNumberSchema,
    label: Type.Optional(BadgeLabelSchema),
    pin: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'The person’s PIN: required, checked as the PIN command checks it.' }),
    ),
  },
  { additionalProperties: false },
);
const taken = {
  description:
    '`badge-taken`: the number is registered in this organization already (the same answer whoever holds it); or the person has 10 badges already',
};

export const badgesList = defineRoute({
  name: 'badges-list',
  methods: ['GET'],
  route: 'api/users/{id}/badges',
  summary: 'A user’s ID badges, oldest first, deactivated users’ too (admins). Never the numbers.',
  tags: ['users'],
  auth: admins,
  request: { params: Type.Object({ id: IdSchema }) },
  responses: {
    200: { description: 'The badges', schema: Type.Object({ items: Type.Array(PublicBadgeSchema) }) },
    404: { description: 'No such user in this tenant' },
  },
  handler: async ({ params }, { store }, context) => {
    const badges = await listBadgesOf(store, callerOf(context, 'user').tenantId, params.id);
    return { status: 200, body: { items: badges.map(publicBadge) } };
  },
});

export const badgesCreate = defineRoute({
  name: 'badges-create',
  methods: ['POST'],
  route: 'api/users/{id}/badges',
  summary: 'Register an ID badge for a user by its number, stored only as a keyed hash (admins). At most 10 a person. Audited.',
  tags: ['users'],
  auth: admins,
  request: { params: Type.Object({ id: IdSchema }), body: BadgeBody },
  responses: {
    201: { description: 'Registered', schema: PublicBadgeSchema },
    404: { description: 'No such user in this tenant' },
    409: taken,
  },
  handler: async ({ params, body }, services, context) => {
    const badge = await addBadgeAsAdmin(services, callerOf(context, 'user'), params.id, body, context.log);
    return { status: 201, body: publicBadge(badge), headers: { Location: `/api/users/${params.id}/badges/${badge.badgeId}` } };
  },
});

export const badgesDelete = defineRoute({
  name: 'badges-delete',
  methods: ['DELETE'],
  route: 'api/users/{id}/badges/{badgeId}',
  summary: 'Remove one of a user’s ID badges (admins): it signs nobody in any more. Audited.',
  tags: ['users'],
  auth: admins,
  request: { params: Type.Object({ id: IdSchema, badgeId: IdSchema }) },
  responses: { 204: { description: 'Removed' }, 404: { description: 'No such user, or no such badge of theirs' } },
  handler: async ({ params }, services, context) => {
    await removeBadgeAsAdmin(services, callerOf(context, 'user'), params.id, params.badgeId, context.log);
    return { status: 204 };
  },
});

export const meBadgesCreate = defineRoute({
  name: 'me-badges-create',
  methods: ['POST'],
  route: 'api/me/badges',
  summary:
    'At a printer, during a session: register the badge the person just tapped as theirs (the session token of the PIN command or a sign-in there), confirmed with their PIN. At most 10 a person; audited.',
  tags: ['users'],
  auth: { kinds: ['session'] },
  request: { body: SelfBody },
  responses: {
    201: { description: 'Registered', schema: PublicBadgeSchema },
    400: { description: 'Not a badge number, or no `pin`' },
    403: {
      description: 'Badge sign-in is off in this organization, the printer is no longer connected, or a wrong PIN (counts toward lockout)',
    },
    409: {
      description: `${taken.description}; or the person has no PIN (an admin registers their badge)`,
    },
    429: {
      description: 'Too many registrations by this person this hour, or too many failed sign-ins (taken badges count) at this printer',
    },
  },
  handler: async ({ body }, services, context) => {
    const session = callerOf(context, 'session');
    // The session's user must still exist and be active (a deactivated one is refused with 401).
    const user = await context.currentUser();
    const badge = await registerBadgeAtPrinter(services, session, user, body, context.log);
    return { status: 201, body: publicBadge(badge) };
  },
});
