import { Type } from '@sinclair/typebox';
import { defineRoute } from '../shared/http/route.js';
import { revokeToken } from '../shared/oauth/revocation.js';

const Param = Type.String({ maxLength: 2048 });

export const oauthRevoke = defineRoute({
  name: 'oauth-revoke',
  methods: ['POST'],
  route: 'oauth/revoke',
  authLevel: 'anonymous',
  summary: 'Token revocation (RFC 7009): a refresh token revokes its whole family.',
  tags: ['oauth'],
  errorFormat: 'oauth',
  request: {
    form: Type.Object(
      { token: Type.Optional(Param), token_type_hint: Type.Optional(Param), client_id: Type.Optional(Param) },
      { additionalProperties: true },
    ),
  },
  responses: { 200: { description: 'Revoked, or nothing to revoke (RFC 7009 §2.2)' } },
  handler: async ({ form }, services) => {
    await revokeToken(services, form);
    return { status: 200 };
  },
});
