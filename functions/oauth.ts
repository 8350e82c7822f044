import { Type } from '@sinclair/typebox';
import { cacheableJson } from '../shared/http/etag.js';
import { defineRoute } from '../shared/http/route.js';
import { authorizationServerMetadata } from '../shared/oauth/metadata.js';
import { clientIp } from '../shared/http/client-ip.js';
import { startDeviceAuthorization } from '../shared/oauth/device-authorization.js';
import { clientById } from '../shared/oauth/clients.js';
import { OAuthError } from '../shared/oauth/errors.js';
import { grantOf, supportedGrantTypes } from '../shared/oauth/grants/index.js';
import { revokeToken } from '../shared/oauth/revocation.js';

/** Form parameters of the OAuth endpoints: bounded, like every input (device authorization asks for less). */
const Param = Type.String({ maxLength: 2048 });
const ShortParam = Type.String({ maxLength: 512 });

export const oauthMetadata = defineRoute({
  name: 'oauth-metadata',
  methods: ['GET'],
  route: '.well-known/oauth-authorization-server',
  summary: 'Authorization server metadata (RFC 8414).',
  tags: ['oauth'],
  responses: { 200: { description: 'RFC 8414 metadata', schema: Type.Object({ issuer: Type.String() }, { additionalProperties: true }) } },
  handler: async ({ headers }, { config }) =>
    cacheableJson(headers, authorizationServerMetadata(config), config.discovery.cacheMaxAgeSeconds),
});

export const jwks = defineRoute({
  name: 'jwks',
  methods: ['GET'],
  route: '.well-known/jwks.json',
  summary: 'Public keys that verify access tokens (all configured keys, for rotation without downtime).',
  tags: ['oauth'],
  responses: {
    200: { description: 'JWK Set', schema: Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true })) }) },
  },
  handler: async ({ headers }, { keys, config }) => cacheableJson(headers, keys.publicJwks, config.discovery.cacheMaxAgeSeconds),
});

export const oauthDeviceAuthorization = defineRoute({
  name: 'oauth-device-authorization',
  methods: ['POST'],
  route: 'oauth/device_authorization',
  summary: 'Device authorization request (RFC 8628 §3.1): printer enrollment, session QR code, desktop sign-in.',
  tags: ['oauth'],
  errorFormat: 'oauth',
  // RFC 6749 §3.2: unknown parameters are ignored, hence additionalProperties.
  request: {
    form: Type.Object({ client_id: Type.Optional(ShortParam), scope: Type.Optional(ShortParam) }, { additionalProperties: true }),
  },
  responses: {
    200: {
      description: 'RFC 8628 §3.2 device authorization response',
      schema: Type.Object({
        device_code: Type.String(),
        user_code: Type.String(),
        verification_uri: Type.String({ description: 'The no-JavaScript page where the code is typed: {issuer}/device' }),
        verification_uri_complete: Type.String({
          description:
            'Shown as a QR code, the code filled in: the web app approve screen {issuer}/app/approve?code={user_code} where the issuer serves the web app (WEB_APP_SERVED), else {issuer}/device?user_code={user_code}',
        }),
        expires_in: Type.Integer(),
        interval: Type.Integer(),
      }),
    },
    400: { description: 'RFC 6749 error', schema: Type.Object({ error: Type.String(), error_description: Type.String() }) },
  },
  handler: async ({ form, headers }, services) => ({
    status: 200,
    body: await startDeviceAuthorization(services, form, headers, clientIp(headers, services.config.http.trustedProxyHops)),
    headers: { Pragma: 'no-cache' },
  }),
});

export const oauthToken = defineRoute({
  name: 'oauth-token',
  methods: ['POST'],
  route: 'oauth/token',
  summary:
    'Token endpoint (RFC 6749 §3.2): authorization_code (with the PKCE code_verifier), device_code, password (printers and the mobile app only), refresh_token, and two extension grants (RFC 6749 §4.5) for an enrolled printer with its Bearer device token: urn:roger:params:oauth:grant-type:badge (`badge`, and `pin` where the tenant policy is badge+pin: docs/flows.md#badge-sign-in) and urn:roger:params:oauth:grant-type:pin (`pin` alone, where the tenant policy has pinOnly: docs/flows.md#pin-only-sign-in).',
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
        code: Type.Optional(ShortParam),
        redirect_uri: Type.Optional(Param),
        // RFC 7636 §4.1: at most 128 characters.
        code_verifier: Type.Optional(Type.String({ maxLength: 128 })),
        badge: Type.Optional(
          Type.String({
            maxLength: 128,
            description: 'Badge grant: the card number the printer read (4 to 64 letters and digits, trimmed).',
          }),
        ),
        pin: Type.Optional(
          Type.String({ maxLength: 128, description: 'The person’s PIN: badge grant under badge+pin, and the PIN-only grant.' }),
        ),
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
    const grant = grantOf(form.grant_type);
    if (!grant) throw new OAuthError('unsupported_grant_type', `supported: ${supportedGrantTypes.join(', ')}`);
    if (!client.grants.includes(grant.grantType)) throw new OAuthError('unauthorized_client', `this client may not use ${form.grant_type}`);

    const ip = clientIp(headers, services.config.http.trustedProxyHops);
    const body = await grant.handler(services, { clientId: client.id, parameters: form, headers, ip, log });
    return { status: 200, body, headers: { Pragma: 'no-cache' } };
  },
});

export const oauthRevoke = defineRoute({
  name: 'oauth-revoke',
  methods: ['POST'],
  route: 'oauth/revoke',
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
