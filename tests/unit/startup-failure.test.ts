import { HttpRequest, InvocationContext } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { failedSettings, startupFailureFunctions } from '../../functions/startup-failure.js';
import { ConfigError, loadConfig } from '../../shared/config/load-config.js';
import { problemTypeUri } from '../../shared/http/problem.js';

/**
 * What the Functions entry serves when its settings are bad (functions/index.ts): `/health` and
 * a catch-all, both 503 problem+json naming the settings and never their values. Called here as
 * the host calls them, with @azure/functions' own request and context.
 */
function configErrorOf(env: Record<string, string>): unknown {
  try {
    loadConfig(env);
  } catch (error) {
    return error;
  }
  throw new Error('loadConfig accepted the settings');
}

async function call(error: unknown, name: string, method: string, path: string) {
  const registration = startupFailureFunctions(error).find((f) => f.name === name)!;
  const request = new HttpRequest({ method, url: `https://roger-eu-api.azurewebsites.net${path}` });
  const response = await registration.options.handler(request, new InvocationContext({ functionName: name }));
  return response as { status: number; headers: Record<string, string>; body?: string };
}

describe('the app that cannot start', () => {
  const operatorKey = 'an-operator-key-that-is-long-enough-0123456789';
  const error = configErrorOf({
    PORT: 'abc',
    ROGER_SIGNING_KEYS: '@Microsoft.KeyVault(VaultName=rogereukv;SecretName=roger-signing-keys)',
    ROGER_OPERATOR_KEY: operatorKey,
    HTTP_BODY_LIMIT_BYTES: 'lots',
  });

  it('registers /health and a catch-all for every method, both anonymous', () => {
    const registered = startupFailureFunctions(error).map(({ name, options }) => ({
      name,
      route: options.route,
      methods: options.methods,
      authLevel: options.authLevel,
    }));
    expect(registered).toEqual([
      { name: 'health', route: 'health', methods: ['GET', 'HEAD'], authLevel: 'anonymous' },
      {
        name: 'not-configured',
        route: '{*path}',
        methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'],
        authLevel: 'anonymous',
      },
    ]);
  });

  it('/health answers 503 problem+json naming the settings, never a value', async () => {
    const response = await call(error, 'health', 'GET', '/health');
    expect(response.status).toBe(503);
    expect(response.headers['Content-Type']).toBe('application/problem+json');
    expect(response.headers['Retry-After']).toBe('60');
    const body = JSON.parse(response.body!);
    expect(body).toEqual({
      type: problemTypeUri('app-not-configured'),
      title: 'The app is not configured',
      status: 503,
      detail:
        'the app cannot start: these settings are missing or not valid: HTTP_BODY_LIMIT_BYTES, PORT, ROGER_SIGNING_KEYS (the host log has one line for each)',
      instance: '/health',
      settings: ['HTTP_BODY_LIMIT_BYTES', 'PORT', 'ROGER_SIGNING_KEYS'],
    });
    expect(response.body).not.toMatch(/abc|lots|rogereukv|KeyVault/);
    expect(response.body).not.toContain(operatorKey);
  });

  it('every other path and method answers the same 503, HEAD without a body', async () => {
    const post = await call(error, 'not-configured', 'POST', '/oauth/token');
    expect(post.status).toBe(503);
    expect(JSON.parse(post.body!)).toMatchObject({
      instance: '/oauth/token',
      settings: ['HTTP_BODY_LIMIT_BYTES', 'PORT', 'ROGER_SIGNING_KEYS'],
    });
    const head = await call(error, 'not-configured', 'HEAD', '/regions');
    expect(head.status).toBe(503);
    expect(head.body).toBeUndefined();
  });

  it('a failure that is not about settings names none', async () => {
    expect(failedSettings(new TypeError('x is not a function'))).toEqual([]);
    expect(failedSettings(new ConfigError(['COSMOS_ENDPOINT: is not set', 'COSMOS_ENDPOINT: again']))).toEqual(['COSMOS_ENDPOINT']);
    const response = await call(new TypeError('boom'), 'health', 'GET', '/health');
    expect(JSON.parse(response.body!)).toMatchObject({ detail: 'the app cannot start (the host log says why)', settings: [] });
  });
});
