import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../shared/config/load-config.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig', () => {
  it('has a local default for everything', () => {
    const config = loadConfig({});
    expect(config.port).toBe(7071);
    expect(config.region.id).toBe('eu');
    expect(config.regions.map((r) => r.id)).toEqual(['eu', 'us']);
    expect(config.regions[0]!.apiUrl).toBe('http://localhost:7071');
    expect(config.cosmos).toEqual({ endpoint: undefined, key: undefined, database: 'roger' });
    expect(config.directory.database).toBe('roger-directory');
    expect(config.http.bodyLimitBytes).toBe(65536);
  });

  it('points the local regions at the configured port', () => {
    expect(loadConfig({ PORT: '8080' }).regions[1]!.apiUrl).toBe('http://localhost:8080');
  });

  it('names a non-numeric PORT', () => {
    expect(problemsOf({ PORT: 'abc' })).toEqual(['PORT: must be a whole number (got "abc")']);
  });

  it('names an out-of-range PORT', () => {
    expect(problemsOf({ PORT: '70000' })[0]).toMatch(/^PORT: must be <= 65535/);
  });

  it('names ROGER_REGIONS that is not JSON', () => {
    expect(problemsOf({ ROGER_REGIONS: '[{' })[0]).toMatch(/^ROGER_REGIONS: is not valid JSON/);
  });

  it('names ROGER_REGIONS entries that break the schema, with the place', () => {
    const [problem] = problemsOf({ ROGER_REGIONS: '[{"id":"eu","name":"Europe","apiUrl":"ftp://x","amqpUrl":"amqps://x"}]' });
    expect(problem).toMatch(/^ROGER_REGIONS: .* at \/0\/apiUrl$/);
  });

  it('gives each region an amqpWebSocketUrl: the one ROGER_REGIONS names, or one derived from amqpUrl for catalogs without it', () => {
    // Local default: the broker takes WebSockets on its AMQP port.
    expect(loadConfig({}).regions[0]!.amqpWebSocketUrl).toBe('ws://localhost:5672/$servicebus/websocket');
    const catalog = [
      { id: 'eu', name: 'Europe', apiUrl: 'https://eu.example', amqpUrl: 'amqps://eu-bus.example:5671' },
      {
        id: 'us',
        name: 'US',
        apiUrl: 'https://us.example',
        amqpUrl: 'amqps://us-bus.example',
        amqpWebSocketUrl: 'wss://us-ws.example/$servicebus/websocket',
      },
      { id: 'dev', name: 'Dev', apiUrl: 'http://localhost:7071', amqpUrl: 'amqp://127.0.0.1:5800' },
    ];
    const regions = loadConfig({ ROGER_REGIONS: JSON.stringify(catalog) }).regions;
    expect(regions.map((r) => r.amqpWebSocketUrl)).toEqual([
      'wss://eu-bus.example/$servicebus/websocket', // Azure takes WebSockets on 443 whatever port AMQPS uses
      'wss://us-ws.example/$servicebus/websocket',
      'ws://127.0.0.1:5800/$servicebus/websocket',
    ]);
    // The SDK connects at no other path.
    const [problem] = problemsOf({ ROGER_REGIONS: JSON.stringify([{ ...catalog[1], amqpWebSocketUrl: 'wss://us-ws.example/ws' }]) });
    expect(problem).toMatch(/^ROGER_REGIONS: .* at \/0\/amqpWebSocketUrl$/);
  });

  it('rejects duplicate region ids and a ROGER_REGION outside the catalog', () => {
    const region = { name: 'X', apiUrl: 'https://x.example', amqpUrl: 'amqps://x.example' };
    expect(
      problemsOf({
        ROGER_REGIONS: JSON.stringify([
          { id: 'eu', ...region },
          { id: 'eu', ...region },
        ]),
      }),
    ).toEqual(['ROGER_REGIONS: region id "eu" appears twice']);
    expect(problemsOf({ ROGER_REGION: 'ap' })[0]).toMatch(/^ROGER_REGION: "ap" is not one of the region ids/);
  });

  it('reports every problem at once, one line each', () => {
    const problems = problemsOf({ PORT: 'x', HTTP_BODY_LIMIT_BYTES: '1', COSMOS_ENDPOINT: 'not a url' });
    expect(problems.map((p) => p.split(':')[0])).toEqual(['COSMOS_ENDPOINT', 'HTTP_BODY_LIMIT_BYTES', 'PORT']);
  });

  it('validates signing keys without echoing them', () => {
    const key = { kty: 'EC', crv: 'P-256', kid: 'k1', x: 'x', y: 'y', d: 'private-part' };
    const problems = problemsOf({ ROGER_SIGNING_KEYS: JSON.stringify({ keys: [key, { ...key }] }) });
    expect(problems).toEqual(['ROGER_SIGNING_KEYS: two keys share a kid']);
    const missingD = problemsOf({ ROGER_SIGNING_KEYS: JSON.stringify({ keys: [{ ...key, d: undefined }] }) });
    expect(missingD[0]).toMatch(/^ROGER_SIGNING_KEYS: must have required property 'd' at \/keys\/0$/);
    expect([...problems, ...missingD].join()).not.toContain('private-part');
    expect(problemsOf({ ROGER_SIGNING_KEYS: '{"keys": [' })).toEqual(['ROGER_SIGNING_KEYS: is not valid JSON']);
  });

  it('never echoes a secret setting', () => {
    const problems = problemsOf({ COSMOS_KEY: 'super-secret-key' });
    expect(problems.join('\n')).not.toContain('super-secret-key');
    expect(problems).toEqual(['COSMOS_KEY: is set without COSMOS_ENDPOINT']);
  });

  it('refuses to fall back to the in-memory store inside Azure', () => {
    expect(problemsOf({ WEBSITE_SITE_NAME: 'roger-eu' })).toEqual([
      'COSMOS_ENDPOINT: is required when running in Azure (WEBSITE_SITE_NAME is set)',
      'ROGER_SIGNING_KEYS: is required when running in Azure (WEBSITE_SITE_NAME is set)',
      'SERVICEBUS_NAMESPACE: is required when running in Azure (WEBSITE_SITE_NAME is set)',
      'SERVICEBUS_LISTEN_KEY: is required when running in Azure (WEBSITE_SITE_NAME is set)',
      'ENTRA_CLIENT_ID: is required when running in Azure (WEBSITE_SITE_NAME is set)',
      'ONEDRIVE_TOKEN_KEYS: is required when running in Azure (WEBSITE_SITE_NAME is set)',
      'ROGER_LOOKUP_KEYS: is required when running in Azure (WEBSITE_SITE_NAME is set)',
    ]);
  });

  it('needs the token keys with an Entra app registration, and never echoes them', () => {
    expect(problemsOf({ ENTRA_CLIENT_ID: 'a1b2c3' })).toEqual(['ONEDRIVE_TOKEN_KEYS: is required with ENTRA_CLIENT_ID']);
    const secretKey = Buffer.alloc(32, 'k').toString('base64');
    const bad = problemsOf({ ONEDRIVE_TOKEN_KEYS: `{"keys":[{"kid":"a","key":"${secretKey}"},{"kid":"a","key":"${secretKey}"}]}` });
    expect(bad).toEqual(['ONEDRIVE_TOKEN_KEYS: two keys share a kid']);
    const tooShort = problemsOf({ ONEDRIVE_TOKEN_KEYS: `{"keys":[{"kid":"a","key":"${secretKey.slice(4)}"}]}` });
    expect(tooShort).toHaveLength(1);
    expect(tooShort[0]).toMatch(/^ONEDRIVE_TOKEN_KEYS: /);
    expect(tooShort[0]).not.toContain(secretKey.slice(4, 20));
  });

  it('refuses a Key Vault reference App Service left unresolved, instead of using its text as the value', () => {
    // An unresolved reference would otherwise be a 60-character "operator key" anyone can read in Bicep.
    const reference = '@Microsoft.KeyVault(SecretUri=https://roger-eu-kv.vault.azure.net/secrets/operator-key/)';
    expect(problemsOf({ ROGER_OPERATOR_KEY: reference, HTTP_BODY_LIMIT_BYTES: '@Microsoft.KeyVault(VaultName=v;SecretName=s)' })).toEqual([
      "HTTP_BODY_LIMIT_BYTES: is a Key Vault reference that App Service could not resolve (does the secret exist, and may the app's identity read it?)",
      "ROGER_OPERATOR_KEY: is a Key Vault reference that App Service could not resolve (does the secret exist, and may the app's identity read it?)",
    ]);
  });

  describe('an app registration without its client secret: OneDrive off, the app starts', () => {
    const tokenKeys = JSON.stringify({ keys: [{ kid: 'a', key: Buffer.alloc(32, 'k').toString('base64') }] });
    const registration = { ENTRA_CLIENT_ID: 'a1b2c3', ONEDRIVE_TOKEN_KEYS: tokenKeys };

    it('unset, in Azure too (the first deployment has no secret to put in its new vault)', () => {
      const azure = {
        ...registration,
        WEBSITE_SITE_NAME: 'roger-eu-api',
        COSMOS_ENDPOINT: 'https://eu.documents.azure.com:443/',
        ROGER_SIGNING_KEYS: JSON.stringify({ keys: [{ kty: 'EC', crv: 'P-256', kid: 'k1', x: 'x', y: 'y', d: 'd' }] }),
        SERVICEBUS_NAMESPACE: 'roger-eu.servicebus.windows.net',
        SERVICEBUS_LISTEN_KEY: 'listen-key-0123456789',
        ROGER_LOOKUP_KEYS: tokenKeys,
      };
      expect(loadConfig(azure).microsoft).toMatchObject({ clientId: 'a1b2c3', disabledBecause: 'ENTRA_CLIENT_SECRET is not set' });
      expect(loadConfig({ ...azure, ENTRA_CLIENT_SECRET: '  ' }).microsoft.disabledBecause).toBe('ENTRA_CLIENT_SECRET is not set');
    });

    it('a Key Vault reference App Service could not resolve reads as unset, and is not used as the secret', () => {
      const reference = '@Microsoft.KeyVault(SecretUri=https://roger-eu-kv.vault.azure.net/secrets/entra-client-secret/)';
      const { microsoft } = loadConfig({ ...registration, ENTRA_CLIENT_SECRET: reference });
      expect(microsoft.clientSecret).toBeUndefined();
      expect(microsoft.disabledBecause).toBe('ENTRA_CLIENT_SECRET is a Key Vault reference App Service could not resolve');
      expect(microsoft.disabledBecause).not.toContain('vault.azure.net');
    });

    it('on with a secret, and with the local stand-in (no registration); a bad secret still stops start-up', () => {
      expect(loadConfig({ ...registration, ENTRA_CLIENT_SECRET: 'client-secret-0123' }).microsoft.disabledBecause).toBeUndefined();
      expect(loadConfig({}).microsoft.disabledBecause).toBeUndefined();
      expect(problemsOf({ ...registration, ENTRA_CLIENT_SECRET: 'short' })).toEqual([
        'ENTRA_CLIENT_SECRET: must NOT have fewer than 8 characters',
      ]);
    });
  });

  it('passes the managed identity client id to the Azure SDK credentials', () => {
    const clientId = '0b9f1e1c-3a44-4d1e-9a5b-2f7d1c0e8a11';
    expect(loadConfig({ AZURE_CLIENT_ID: clientId }).managedIdentityClientId).toBe(clientId);
    expect(loadConfig({}).managedIdentityClientId).toBeUndefined();
    expect(problemsOf({ AZURE_CLIENT_ID: 'not-a-guid' })[0]).toMatch(/^AZURE_CLIENT_ID: must match pattern/);
  });

  it('treats blank settings as unset', () => {
    expect(loadConfig({ PORT: '  ', COSMOS_ENDPOINT: '' }).port).toBe(7071);
  });

  it('uses the regional account for the directory unless one is configured', () => {
    const config = loadConfig({ COSMOS_ENDPOINT: 'https://eu.documents.azure.com:443/' });
    expect(config.directory.endpoint).toBe('https://eu.documents.azure.com:443/');
    const split = loadConfig({
      COSMOS_ENDPOINT: 'https://eu.documents.azure.com:443/',
      DIRECTORY_COSMOS_ENDPOINT: 'https://global.documents.azure.com:443/',
    });
    expect(split.directory.endpoint).toBe('https://global.documents.azure.com:443/');
  });
});
