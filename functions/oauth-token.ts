import { Type } from '@sinclair/typebox';
import { defineRoute } from '../shared/http/route.js';
import { clientById, grantTypeOf } from '../shared/oauth/clients.js';
import { OAuthError } from '../shared/oauth/errors.js';
import { deviceCodeGrant } from '../shared/oauth/grants/device-code.js';
import { passwordGrant } from '../shared/oauth/grants/password.js';
import { refreshTokenGrant } from '../shared/oauth/grants/refresh-token.js';
import { clientIp } from '../shared/http/client-ip.js';

const Param = Type.String({ maxLength: 2048 });

export const oauthToken = defineRoute({
  name: 'oauth-token',
  methods: ['POST'],
  route: 'oauth/token',
  authLevel: 'anonymous',
  summary: 'Token endpoint (RFC 6749 §3.2): device_code, password (printers and the mobile app only), refresh_token.',
  tags: ['oauth'],
  errorFormat: 'oauth',
  request: {
    form: Type.Object(
      {
        grant_type: Type.Optional(Param),
        client_id: Type.Optional(Param),
        device_code: Type.Optional(Param),
        refresh_token: Type.Optional(Param),
        username: Type.Optional(Type.String({ maxLength: 254 })),
        password: Type.Optional(Type.String({ maxLength: 128 })),
        scope: Type.Optional(Param),
        tenant: Type.Optional(Type.String({ maxLength: 63 })),
      },
      { additionalProperties: true },
    ),
  },
  responses: {
    200: {
      description: 'RFC 6749 §5.1 access token response',
      schema: Type.Object({
        access_token: Type.String(),
        token_type: Type.Literal('Bearer'),
        expires_in: Type.Integer(),
        scope: Type.String(),
        refresh_token: Type.Optional(Type.String()),
      }),
    },
    400: { description: 'RFC 6749 §5.2 error', schema: Type.Object({ error: Type.String(), error_description: Type.String() }) },
  },
  handler: async ({ form, headers }, services, { log }) => {
    if (!form.grant_type) throw new OAuthError('invalid_request', 'grant_type is required');
    if (!form.client_id) throw new OAuthError('invalid_request', 'client_id is required');
    const client = clientById(form.client_id);
    if (!client) throw new OAuthError('invalid_client', 'unknown client');
    const grant = grantTypeOf(form.grant_type);
    if (!grant) throw new OAuthError('unsupported_grant_type', 'supported: device_code, password, refresh_token');
    if (!client.grants.includes(grant)) throw new OAuthError('unauthorized_client', `this client may not use ${form.grant_type}`);

    const body =
      grant === 'device_code'
        ? await deviceCodeGrant(services, client.id, form.device_code)
        : grant === 'password'
          ? await passwordGrant(services, client.id, form, headers, clientIp(headers, services.config.http.trustedProxyHops))
          : await refreshTokenGrant(services, client.id, form, log);
    return { status: 200, body, headers: { Pragma: 'no-cache' } };
  },
});
