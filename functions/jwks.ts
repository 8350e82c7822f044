import { Type } from '@sinclair/typebox';
import { cacheableJson } from '../shared/http/etag.js';
import { defineRoute } from '../shared/http/route.js';

export const jwks = defineRoute({
  name: 'jwks',
  methods: ['GET'],
  route: '.well-known/jwks.json',
  authLevel: 'anonymous',
  summary: 'Public keys that verify access tokens (all configured keys, for rotation without downtime).',
  tags: ['oauth'],
  responses: { 200: { description: 'JWK Set', schema: Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true })) }) } },
  handler: async ({ headers }, { keys, config }) => cacheableJson(headers, keys.publicJwks, config.discovery.cacheMaxAgeSeconds),
});
