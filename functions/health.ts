import { Type } from '@sinclair/typebox';
import { HttpProblem } from '../shared/http/problem.js';
import { defineRoute } from '../shared/http/route.js';
import type { Config } from '../shared/config/load-config.js';
import { appVersion } from '../shared/version.js';

const STORE_TIMEOUT_MS = 3000;

/**
 * OneDrive off (no client secret) is reported, not failed: the region serves everything else,
 * and a probe that failed for it would take the whole region out of Front Door.
 */
const oneDriveState = (config: Config) => (config.microsoft.disabledBecause ? 'disabled' : 'configured');

export const health = defineRoute({
  name: 'health',
  methods: ['GET'],
  route: 'health',
  summary: 'Liveness and store reachability, for probes and the deployment smoke test.',
  tags: ['operations'],
  responses: {
    200: {
      description: 'Healthy',
      schema: Type.Object({
        status: Type.Literal('ok'),
        version: Type.String(),
        region: Type.String(),
        checks: Type.Object({
          store: Type.Literal('ok'),
          onedrive: Type.Union([Type.Literal('configured'), Type.Literal('disabled')], {
            description:
              '`disabled`: the app registration has no client secret here; OneDrive routes answer 503 `onedrive-not-configured`.',
          }),
        }),
      }),
    },
    503: { description: 'The store did not answer' },
  },
  handler: async (_input, { config, store }, { log }) => {
    try {
      await store.ping(AbortSignal.timeout(STORE_TIMEOUT_MS));
    } catch (error) {
      log.warn('health-store-failed', { error: (error as Error)?.name });
      throw new HttpProblem(
        'service-unavailable',
        'the data store did not answer',
        { version: appVersion, region: config.region.id, checks: { store: 'failed', onedrive: oneDriveState(config) } },
        { 'Retry-After': '5' },
      );
    }
    return {
      status: 200,
      body: { status: 'ok', version: appVersion, region: config.region.id, checks: { store: 'ok', onedrive: oneDriveState(config) } },
    };
  },
});
