import { describe, expect, it } from 'vitest';
import { SCIM_REQUEST_LIMIT } from '../../shared/scim/discovery.js';
import type { Services } from '../../shared/services.js';
import { freshTenant, individual } from '../helpers/fixtures.js';
import { api, lastCosmosRequests, type Person } from '../helpers/roger.js';
import { scimTestHost, scimToken } from '../helpers/scim.js';
import type { TestHost } from '../helpers/test-host.js';

/**
 * The HTTP side of SCIM (docs/api.md#scim), as a stock client sees it over a real socket: the
 * media type, the SCIM error schema, the SCIM token and its rate limit, the discovery
 * documents, attributes/excludedAttributes.
 */
const admin: Person = { email: 'sia@scim-http.test', username: 'sia', fullName: 'Sia Admin', password: 'sia-password-12' };
const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

interface ScimAnswer {
  status: number;
  headers: Headers;
  contentType: string;
  body: Record<string, unknown> & { Resources?: Record<string, unknown>[] };
}

/** What `curl -H 'Content-Type: application/scim+json'` would send: the body as bytes, the type as given. */
async function scim(
  host: TestHost,
  token: string | undefined,
  method: string,
  path: string,
  body?: string | object,
  contentType = 'application/scim+json',
): Promise<ScimAnswer> {
  const response = await fetch(`${host.url}/scim/v2${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': contentType } : {}),
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    contentType: response.headers.get('content-type') ?? '',
    body: text ? JSON.parse(text) : undefined,
  };
}

/** A SCIM error as RFC 7644 §3.12 shapes it, in application/scim+json. */
function expectScimError(answer: ScimAnswer, status: number, scimType?: string) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  expect(answer.contentType).toBe('application/scim+json');
  expect(answer.body).toEqual({
    schemas: [ERROR_SCHEMA],
    status: String(status),
    ...(scimType ? { scimType } : {}),
    detail: expect.any(String),
  });
}

describe('SCIM over HTTP', () => {
  let host: TestHost;
  let services: Services;
  scimTestHost((started) => ({ host, services } = started));

  /** A fresh tenant and a SCIM token an admin of it created. */
  async function tenantWithToken(expiresInDays?: number) {
    const t = await freshTenant(host, 'scimhttp', individual(admin));
    const { token, tokenId } = await scimToken(host, t, expiresInDays ? { expiresInDays } : {});
    return { tenant: t, token, tokenId };
  }

  it('answers in application/scim+json: ServiceProviderConfig states the features and limits', async () => {
    const { token } = await tenantWithToken();
    const answer = await scim(host, token, 'GET', '/ServiceProviderConfig');
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('application/scim+json');
    expect(answer.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      bulk: { supported: false, maxOperations: 0, maxPayloadSize: 65_536 },
      filter: { supported: true, maxResults: 100 },
      changePassword: { supported: false },
      sort: { supported: false },
      etag: { supported: false },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken', primary: true })],
      meta: { resourceType: 'ServiceProviderConfig', location: `${host.url}/scim/v2/ServiceProviderConfig` },
    });
    const scheme = (answer.body.authenticationSchemes as { description: string }[])[0]!.description;
    expect(scheme).toContain(`${SCIM_REQUEST_LIMIT.limit} requests per ${SCIM_REQUEST_LIMIT.windowSeconds} seconds`);
  });

  it('serves ResourceTypes and Schemas as ListResponses, one by id, and refuses a filter there with 403', async () => {
    const { token } = await tenantWithToken();
    const types = await scim(host, token, 'GET', '/ResourceTypes');
    expect(types.status).toBe(200);
    expect(types.contentType).toBe('application/scim+json');
    expect(types.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 2, startIndex: 1 });
    expect(types.body.Resources!.map((r) => [r.id, r.endpoint, r.schema])).toEqual([
      ['User', '/Users', 'urn:ietf:params:scim:schemas:core:2.0:User'],
      ['Group', '/Groups', 'urn:ietf:params:scim:schemas:core:2.0:Group'],
    ]);
    expect(types.body.Resources![0]!.schemaExtensions).toEqual([
      { schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', required: false },
    ]);
    const user = await scim(host, token, 'GET', '/ResourceTypes/User');
    expect(user.body.meta).toEqual({ resourceType: 'ResourceType', location: `${host.url}/scim/v2/ResourceTypes/User` });
    expectScimError(await scim(host, token, 'GET', '/ResourceTypes/Printer'), 404);

    const schemas = await scim(host, token, 'GET', '/Schemas');
    expect(schemas.body.Resources!.map((r) => r.id)).toEqual([
      'urn:ietf:params:scim:schemas:core:2.0:User',
      'urn:ietf:params:scim:schemas:core:2.0:Group',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    ]);
    const userSchema = await scim(host, token, 'GET', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User');
    expect(userSchema.status).toBe(200);
    const attributes = userSchema.body.attributes as { name: string; required: boolean; uniqueness: string; mutability: string }[];
    expect(attributes.map((a) => a.name)).toEqual(['userName', 'name', 'displayName', 'emails', 'active']);
    expect(attributes[0]).toMatchObject({ name: 'userName', required: true, uniqueness: 'server', mutability: 'readWrite' });
    // Only what Roger keeps: no password, phone numbers, addresses, roles.
    expect(JSON.stringify(userSchema.body)).not.toMatch(/password|phoneNumbers|addresses|"roles"/);
    const enterprise = await scim(host, token, 'GET', '/Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User');
    expect((enterprise.body.attributes as { name: string }[]).map((a) => a.name)).toEqual(['employeeNumber', 'costCenter', 'department']);
    expectScimError(await scim(host, token, 'GET', '/Schemas/urn:example:nothing'), 404);

    expectScimError(await scim(host, token, 'GET', '/Schemas?filter=id%20eq%20%22x%22'), 403);
    expectScimError(await scim(host, token, 'GET', '/ResourceTypes?filter=id%20eq%20%22User%22'), 403);
  });

  it('attributes keeps only what it names, excludedAttributes drops what it names; schemas and meta stay', async () => {
    const { token } = await tenantWithToken();
    const only = await scim(host, token, 'GET', '/ServiceProviderConfig?attributes=patch,FILTER');
    expect(Object.keys(only.body).sort()).toEqual(['filter', 'meta', 'patch', 'schemas']);
    const without = await scim(host, token, 'GET', '/ServiceProviderConfig?excludedAttributes=authenticationSchemes,bulk');
    expect(without.body.authenticationSchemes).toBeUndefined();
    expect(without.body.bulk).toBeUndefined();
    expect(without.body.patch).toEqual({ supported: true });
    const qualified = await scim(host, token, 'GET', '/ResourceTypes/User?attributes=urn:ietf:params:scim:schemas:core:2.0:User:name');
    expect(Object.keys(qualified.body).sort()).toEqual(['id', 'meta', 'name', 'schemas']);
  });

  it('refuses a missing, unknown, forged or revoked token with a SCIM 401 and the SCIM realm', async () => {
    const { tenant, token, tokenId } = await tenantWithToken();
    const missing = await scim(host, undefined, 'GET', '/ServiceProviderConfig');
    expectScimError(missing, 401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="roger-scim"');

    const secret = token.split('.')[3]!;
    const forged = `${token.slice(0, -secret.length)}${secret.startsWith('A') ? 'B' : 'A'}${secret.slice(1)}`;
    for (const wrong of [forged, 'scim1.x.y.z', tenant.admin.token]) {
      const answer = await scim(host, wrong, 'GET', '/Schemas');
      expectScimError(answer, 401);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="roger-scim", error="invalid_token"');
    }

    expect((await api(host, tenant.admin.token, 'DELETE', `/api/tenant/scim-tokens/${tokenId}`)).status).toBe(204);
    const revoked = await scim(host, token, 'GET', '/ServiceProviderConfig');
    expectScimError(revoked, 401);
    expect(revoked.headers.get('www-authenticate')).toBe('Bearer realm="roger-scim", error="invalid_token"');
  });

  it('past the per-token limit answers 429 with Retry-After as a SCIM error; another token of the tenant is not held', async () => {
    const { token, tokenId, tenant } = await tenantWithToken();
    expect((await scim(host, token, 'GET', '/ServiceProviderConfig')).status).toBe(200);
    // The shared count (rate-limit.ts) of this window and the next, brought to the limit as
    // 1,200 requests would: the next request is the one over it.
    const window = Math.floor(services.now().getTime() / (SCIM_REQUEST_LIMIT.windowSeconds * 1000));
    for (const w of [window, window + 1]) {
      const id = `scim:${tokenId}@${w}`;
      await services.store.container('rateLimits').items.upsert({ id, count: SCIM_REQUEST_LIMIT.limit, ttl: 120 });
    }
    const refused = await scim(host, token, 'GET', '/ServiceProviderConfig');
    expectScimError(refused, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(SCIM_REQUEST_LIMIT.windowSeconds);

    const other = await api(host, tenant.admin.token, 'POST', '/api/tenant/scim-tokens', {});
    expect((await scim(host, other.body.token, 'GET', '/ServiceProviderConfig')).status).toBe(200);
  });

  it('what no SCIM route takes is the catch-all’s: 404 and 405 as RFC 9457 problems', async () => {
    const { token } = await tenantWithToken();
    const unknown = await scim(host, token, 'GET', '/Printers');
    expect(unknown.status).toBe(404);
    expect(unknown.contentType).toBe('application/problem+json');
    const wrongMethod = await scim(host, token, 'DELETE', '/ServiceProviderConfig');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.contentType).toBe('application/problem+json');
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD');
  });

  const megan = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
    userName: 'megan@scim-http.test',
    externalId: 'ext-megan',
    name: { givenName: 'Megan', familyName: 'Bowen' },
    displayName: 'Megan Bowen',
    emails: [{ value: 'megan@scim-http.test', type: 'work', primary: true }],
    active: true,
  };

  it('a stock client: POST /Users as application/scim+json is 201 with Location, then GET, filter, attributes, DELETE', async () => {
    const { token } = await tenantWithToken();
    const created = await scim(host, token, 'POST', '/Users', megan);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.contentType).toBe('application/scim+json');
    const id = created.body.id as string;
    const location = `${host.url}/scim/v2/Users/${id}`;
    expect(created.headers.get('location')).toBe(location);
    expect(created.body.meta).toMatchObject({ resourceType: 'User', location });
    expect(created.body.userName).toBe(megan.userName);

    const read = await scim(host, token, 'GET', `/Users/${id}`);
    expect(read.status).toBe(200);
    expect(read.contentType).toBe('application/scim+json');
    expect(read.body.meta).toMatchObject({ location });

    const filtered = await scim(host, token, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${megan.userName}"`)}`);
    expect(filtered.contentType).toBe('application/scim+json');
    expect(filtered.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 1,
      itemsPerPage: 1,
    });
    expect(filtered.body.Resources![0]).toMatchObject({ id, meta: { location } });

    const excluded = await scim(host, token, 'GET', `/Users/${id}?excludedAttributes=emails,name`);
    expect(excluded.body.emails).toBeUndefined();
    expect(excluded.body.name).toBeUndefined();
    expect(excluded.body.userName).toBe(megan.userName);
    const only = await scim(host, token, 'GET', `/Users?filter=${encodeURIComponent(`externalId eq "ext-megan"`)}&attributes=userName`);
    expect(Object.keys(only.body.Resources![0]!).sort()).toEqual(['id', 'meta', 'schemas', 'userName']);

    expectScimError(await scim(host, token, 'GET', `/Users?filter=${encodeURIComponent('title eq "x"')}`), 400, 'invalidFilter');
    expectScimError(await scim(host, token, 'POST', '/Users', megan), 409, 'uniqueness');

    const deleted = await fetch(`${host.url}/scim/v2/Users/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    expectScimError(await scim(host, token, 'GET', `/Users/${id}`), 404);
    expectScimError(await scim(host, token, 'DELETE', `/Users/${id}`), 404);
  });

  it('Groups: 201 with Location, excludedAttributes=members as Entra asks, a PATCH of members answers the group, DELETE 204', async () => {
    const { token, tenant } = await tenantWithToken();
    const created = await scim(host, token, 'POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: 'Printing people',
      externalId: 'group-ext-1',
      members: [{ value: tenant.admin.id }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.contentType).toBe('application/scim+json');
    const id = created.body.id as string;
    const location = `${host.url}/scim/v2/Groups/${id}`;
    expect(created.headers.get('location')).toBe(location);
    expect(created.body.meta).toMatchObject({ resourceType: 'Group', location });

    const lean = await scim(host, token, 'GET', `/Groups/${id}?excludedAttributes=members`);
    expect(lean.status).toBe(200);
    expect(lean.body.members).toBeUndefined();
    expect(lean.body.displayName).toBe('Printing people');
    const found = await scim(
      host,
      token,
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName eq "printing PEOPLE"')}&excludedAttributes=members`,
    );
    expect(found.body).toMatchObject({ totalResults: 1, Resources: [{ id, meta: { location } }] });
    expect(found.body.Resources![0]!.members).toBeUndefined();

    const patched = await scim(host, token, 'PATCH', `/Groups/${id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Replace', value: { displayName: 'Printing folk' } }],
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.contentType).toBe('application/scim+json');
    expect(patched.body).toMatchObject({ id, displayName: 'Printing folk', members: [{ value: tenant.admin.id }] });

    const deleted = await fetch(location, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    expect(deleted.status).toBe(204);
    expectScimError(await scim(host, token, 'GET', `/Groups/${id}`), 404);
  });

  it('takes application/json bodies too; any other media type is a SCIM 415 naming both', async () => {
    const { token } = await tenantWithToken();
    const json = await scim(
      host,
      token,
      'POST',
      '/Users',
      { ...megan, userName: 'json@scim-http.test', externalId: 'ext-json', emails: [] },
      'application/json; charset=utf-8',
    );
    expect(json.status, JSON.stringify(json.body)).toBe(201);
    expect(json.contentType).toBe('application/scim+json');
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/scim+json; charset=utf-16', 'application/scim']) {
      const refused = await scim(host, token, 'POST', '/Users', { ...megan, userName: 'other@scim-http.test' }, type);
      expectScimError(refused, 415);
      expect(refused.headers.get('accept')).toBe('application/scim+json, application/json');
    }
  });

  it('a body over the limit is a SCIM 413, broken JSON a 400 invalidSyntax; a query value of the wrong type a 400 invalidValue', async () => {
    const { token } = await tenantWithToken();
    const big = JSON.stringify({ ...megan, displayName: 'x'.repeat(70_000) });
    expectScimError(await scim(host, token, 'POST', '/Users', big), 413);
    expectScimError(await scim(host, token, 'POST', '/Users', '{"schemas":'), 400, 'invalidSyntax');
    expectScimError(await scim(host, token, 'GET', '/Users?count=ten'), 400, 'invalidValue');
    const page = await scim(host, token, 'GET', '/Users?startIndex=-5&count=0');
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ startIndex: 1, itemsPerPage: 0, Resources: [] });
  });

  it('startIndex and count beyond 32 bits are clamped, not refused (RFC 7644 §3.4.2.4)', async () => {
    const { token } = await tenantWithToken();
    for (const groupsOrUsers of ['/Users', '/Groups']) {
      const far = await scim(host, token, 'GET', `${groupsOrUsers}?startIndex=2147483648&count=99999999999`);
      expect(far.status, JSON.stringify(far.body)).toBe(200);
      expect(far.body).toMatchObject({ startIndex: 2_147_483_647, itemsPerPage: 0, Resources: [] });
      const all = await scim(host, token, 'GET', `${groupsOrUsers}?startIndex=-99999999999&count=2147483648`);
      expect(all.status, JSON.stringify(all.body)).toBe(200);
      expect(all.body).toMatchObject({ startIndex: 1 });
      expect(all.body.itemsPerPage).toBe(all.body.totalResults);
    }
  });

  it('an unauthenticated write is refused before anything is read or written', async () => {
    const { tenant } = await tenantWithToken();
    const answer = await scim(host, undefined, 'POST', '/Users', { ...megan, userName: 'nobody@scim-http.test' });
    expectScimError(answer, 401);
    const users = (await api(host, tenant.admin.token, 'GET', '/api/users')).body.items as { email: string }[];
    expect(users.map((u) => u.email)).not.toContain('nobody@scim-http.test');
  });

  it('costs the token read and the rate-limit count on top of the resource: a GET by id is 3 Cosmos requests', async () => {
    const { token, tenant } = await tenantWithToken();
    await scim(host, token, 'GET', '/ServiceProviderConfig'); // marks lastUsedAt (once a minute)
    expect(lastCosmosRequests(host, '/scim/v2/ServiceProviderConfig')).toBe(3);
    await scim(host, token, 'GET', '/ServiceProviderConfig');
    expect(lastCosmosRequests(host, '/scim/v2/ServiceProviderConfig')).toBe(2);
    expect((await scim(host, token, 'GET', `/Users/${tenant.admin.id}`)).status).toBe(200);
    expect(lastCosmosRequests(host, '/scim/v2/Users/{id}')).toBe(3);
    await scim(host, undefined, 'GET', `/Users/${tenant.admin.id}`);
    expect(lastCosmosRequests(host, '/scim/v2/Users/{id}')).toBe(0);
  });

  it('the OpenAPI document says SCIM bodies take both media types and SCIM errors are the SCIM schema', async () => {
    type Operation = { requestBody: { content: object }; responses: Record<string, { content: object }> };
    const document = (await (await fetch(`${host.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Operation>>;
      components: { schemas: Record<string, { required: string[] }> };
    };
    const create = document.paths['/scim/v2/Users']!.post!;
    expect(Object.keys(create.requestBody.content)).toEqual(['application/scim+json', 'application/json']);
    expect(create.responses['201']?.content).toHaveProperty(['application/scim+json']);
    expect(create.responses.default?.content).toEqual({ 'application/scim+json': { schema: { $ref: '#/components/schemas/ScimError' } } });
    expect(document.components.schemas.ScimError!.required).toEqual(['schemas', 'status']);
  });

  // Last: it moves the host's clock two days on.
  it('refuses an expired token', async () => {
    const { token } = await tenantWithToken(1);
    expect((await scim(host, token, 'GET', '/ServiceProviderConfig')).status).toBe(200);
    host.advanceClock(2 * 86_400);
    const expired = await scim(host, token, 'GET', '/ServiceProviderConfig');
    expectScimError(expired, 401);
    expect(expired.headers.get('www-authenticate')).toBe('Bearer realm="roger-scim", error="invalid_token"');
  });
});
