import { Type } from '@sinclair/typebox';
import { defineRoute } from '../shared/http/route.js';
import { clientIp } from '../shared/http/client-ip.js';
import { startDeviceAuthorization } from '../shared/oauth/device-authorization.js';

const Param = Type.String({ maxLength: 512 });

export const oauthDeviceAuthorization = defineRoute({
  name: 'oauth-device-authorization',
  methods: ['POST'],
  route: 'oauth/device_authorization',
  authLevel: 'anonymous',
  summary: 'Device authorization request (RFC 8628 §3.1): printer enrollment, session QR code, desktop sign-in.',
  tags: ['oauth'],
  errorFormat: 'oauth',
  // RFC 6749 §3.2: unknown parameters are ignored, hence additionalProperties.
  request: { form: Type.Object({ client_id: Type.Optional(Param), scope: Type.Optional(Param) }, { additionalProperties: true }) },
  responses: {
    200: {
      description: 'RFC 8628 §3.2 device authorization response',
      schema: Type.Object({
        device_code: Type.String(),
        user_code: Type.String(),
        verification_uri: Type.String(),
        verification_uri_complete: Type.String(),
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
