import { Type } from '@sinclair/typebox';
import { cacheableJson } from '../shared/http/etag.js';
import { defineRoute } from '../shared/http/route.js';
import { authorizationServerMetadata } from '../shared/oauth/metadata.js';

export const oauthMetadata = defineRoute({
  name: 'oauth-metadata',
  methods: ['GET'],
  route: '.well-known/oauth-authorization-server',
  authLevel: 'anonymous',
  summary: 'Authorization server metadata (RFC 8414).',
  tags: ['oauth'],
  responses: { 200: { description: 'RFC 8414 metadata', schema: Type.Object({ issuer: Type.String() }, { additionalProperties: true }) } },
  handler: async ({ headers }, { config }) =>
    cacheableJson(headers, authorizationServerMetadata(config), config.discovery.cacheMaxAgeSeconds),
});
