import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/load-config.js';
import { oauthClients } from '../../shared/oauth/clients.js';
import { grantOf, supportedGrantTypes } from '../../shared/oauth/grants/index.js';
import { authorizationServerMetadata } from '../../shared/oauth/metadata.js';

/**
 * The token endpoint's grants are listed once (shared/oauth/grants/index.ts); the metadata,
 * the clients and the endpoint's dispatch must all read that list, or a grant could be
 * published and refused, or allowed to a client and unknown.
 */
describe('the grant registry', () => {
  it('names each grant by its grant_type value, in the order the metadata publishes them', () => {
    expect(supportedGrantTypes).toEqual([
      'urn:ietf:params:oauth:grant-type:device_code',
      'password',
      'refresh_token',
      'authorization_code',
      'urn:roger:params:oauth:grant-type:badge',
      'urn:roger:params:oauth:grant-type:pin',
    ]);
    const metadata = authorizationServerMetadata(loadConfig({}));
    expect(metadata.grant_types_supported).toEqual(supportedGrantTypes);
    for (const grantType of supportedGrantTypes) expect(grantOf(grantType)?.grantType).toBe(grantType);
  });

  it('gives every grant a client may use a handler', () => {
    for (const client of Object.values(oauthClients)) {
      for (const grantType of client.grants) expect(typeof grantOf(grantType)?.handler, `${client.id}: ${grantType}`).toBe('function');
    }
  });

  it('knows nothing else: short names, other RFCs, inherited property names', () => {
    for (const name of ['device_code', 'client_credentials', 'constructor', '__proto__', 'toString', '']) {
      expect(grantOf(name), name).toBeUndefined();
    }
  });
});
