import { Type } from '@sinclair/typebox';
import { IdParams } from '../shared/http/id-params.js';
import { defineRoute } from '../shared/http/route.js';
import {
  createScimToken,
  CreatedScimTokenSchema,
  listScimTokens,
  publicScimToken,
  revokeScimToken,
  ScimTokenRequestSchema,
  ScimTokenSchema,
} from '../shared/scim/tokens.js';

/**
 * The tenant's SCIM tokens (docs/security.md#scim-tokens): admins, as the user item says now,
 * create, list and revoke the bearer tokens their identity provider provisions users with.
 */
const admins = { kinds: ['user'], anyRole: ['admin'] } as const;

export const scimTokensCreate = defineRoute({
  name: 'scim-tokens-create',
  methods: ['POST'],
  route: 'api/tenant/scim-tokens',
  summary:
    'Create a SCIM token for the tenant (admins). The token is in this answer only; it expires after `expiresInDays` (365 by default).',
  tags: ['tenant'],
  auth: admins,
  request: { body: ScimTokenRequestSchema },
  responses: {
    201: { description: 'Created: keep `token`, it is not shown again', schema: CreatedScimTokenSchema },
    403: { description: 'Not an admin (as the user item says now)' },
    409: { description: 'The tenant has 10 live (neither revoked nor expired) SCIM tokens already' },
  },
  handler: async ({ body }, services, context) => {
    const { doc, token } = await createScimToken(services, await context.currentUser().then(actorOf), body, context.log);
    return { status: 201, body: { id: doc.tokenId, token, name: doc.name, createdAt: doc.createdAt, expiresAt: doc.expiresAt } };
  },
});

export const scimTokensList = defineRoute({
  name: 'scim-tokens-list',
  methods: ['GET'],
  route: 'api/tenant/scim-tokens',
  summary: "The tenant's SCIM tokens (admins), newest first, revoked and expired ones too; never the token itself.",
  tags: ['tenant'],
  auth: admins,
  responses: {
    200: { description: 'The tokens', schema: Type.Object({ items: Type.Array(ScimTokenSchema) }) },
    403: { description: 'Not an admin (as the user item says now)' },
  },
  handler: async (_input, { store }, context) => {
    const { tenantId } = actorOf(await context.currentUser());
    return { status: 200, body: { items: (await listScimTokens(store, tenantId)).map(publicScimToken) } };
  },
});

export const scimTokensRevoke = defineRoute({
  name: 'scim-tokens-revoke',
  methods: ['DELETE'],
  route: 'api/tenant/scim-tokens/{id}',
  summary: "Revoke one of the tenant's SCIM tokens (admins); it is refused from then on. Idempotent.",
  tags: ['tenant'],
  auth: admins,
  request: { params: IdParams },
  responses: {
    204: { description: 'Revoked (or was already, or there is no such token in this tenant)' },
    403: { description: 'Not an admin (as the user item says now)' },
  },
  handler: async ({ params }, services, context) => {
    await revokeScimToken(services, actorOf(await context.currentUser()), params.id, context.log);
    return { status: 204 };
  },
});

const actorOf = (user: { readonly tenantId: string; readonly id: string }) => ({ tenantId: user.tenantId, userId: user.id });
