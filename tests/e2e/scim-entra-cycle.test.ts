import { randomUUID } from 'node:crypto';
import * as oauth from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshTenant, individual, uniqueTag, type FreshTenant } from '../helpers/fixtures.js';
import { api, mobileSignIn, oauthClient, oauthEnv, oauthErrorOf, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * docs/provisioning.md: SCIM 2.0 as Microsoft Entra ID's provisioning service speaks it. The
 * requests are shaped as Microsoft's published examples of what its provisioning service sends
 * (learn.microsoft.com: "Develop and plan provisioning for a SCIM endpoint", and the SCIM
 * compliance known issues), rewritten with data of our own: a whole cycle first, then one test per
 * habit of Entra's that docs/provisioning.md#what-entra-sends lists. Every answer but a 204 is
 * checked to be application/scim+json.
 */
const SCIM_JSON = 'application/scim+json';
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CORE_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
/** Entra lists this schema of its own beside the core Group one when it creates a group. */
const ENTRA_GROUP = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group';

const admin: Person = { email: 'ilse@northwind.test', username: 'ilse', fullName: 'Ilse Admin', password: 'ilse-password-12' };

interface ScimAnswer {
  status: number;
  headers: Headers;
  body: any; // SCIM JSON, read field by field
}

/** A person of the directory: their Entra object id and user principal name, unique on the host. */
function directoryPerson(given: string, family: string) {
  const tag = uniqueTag();
  const upn = `${given}.${family}-${tag}@northwind.test`.toLowerCase();
  return { oid: randomUUID(), upn, given, family, display: `${given} ${family}` };
}
type DirectoryPerson = ReturnType<typeof directoryPerson>;

/** POST /Users as Entra sends it with its default mappings (objectId as externalId, as docs/provisioning.md says to map it). */
function entraCreateUser(p: DirectoryPerson, extra: Record<string, unknown> = {}) {
  return {
    schemas: [CORE_USER, ENTERPRISE],
    externalId: p.oid,
    userName: p.upn,
    active: true,
    displayName: p.display,
    emails: [{ primary: true, type: 'work', value: p.upn }],
    meta: { resourceType: 'User' },
    name: { formatted: p.display, familyName: p.family, givenName: p.given },
    title: 'Print coordinator',
    phoneNumbers: [{ type: 'work', value: '+358 9 000 1234' }],
    addresses: [{ type: 'work', locality: 'Espoo', country: 'FI' }],
    preferredLanguage: 'fi-FI',
    roles: [],
    [ENTERPRISE]: { employeeNumber: `NW-${p.oid.slice(0, 6)}`, department: 'Facilities', manager: { value: randomUUID() } },
    ...extra,
  };
}

const patchOf = (...Operations: unknown[]) => ({ schemas: [PATCH_OP], Operations });
const filterOf = (expression: string) => `filter=${encodeURIComponent(expression)}`;

describe('SCIM provisioning as Microsoft Entra ID runs it', () => {
  let host: TestHost;

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
  });
  afterAll(() => host.close());

  /** One SCIM request; any answer with a body must say application/scim+json. */
  async function scim(token: string, method: string, path: string, body?: unknown, contentType = SCIM_JSON): Promise<ScimAnswer> {
    const response = await fetch(`${host.url}/scim/v2${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: SCIM_JSON,
        ...(body !== undefined ? { 'content-type': contentType } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    if (text) expect(response.headers.get('content-type'), `${method} ${path}`).toMatch(/^application\/scim\+json/);
    return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
  }

  /** A tenant with its admin, and a SCIM token the admin created for Entra. */
  async function provisionedTenant(): Promise<FreshTenant & { scimToken: string; scimTokenId: string }> {
    const tenant = await freshTenant(host, 'northwind', individual(admin));
    const created = await api(host, tenant.admin.token, 'POST', '/api/tenant/scim-tokens', { name: 'Entra provisioning' });
    expect(created.status).toBe(201);
    return { ...tenant, scimToken: created.body.token, scimTokenId: created.body.id };
  }

  /** What Entra does for each assigned person: look for them by userName, create them if nobody answers. */
  async function provision(token: string, p: DirectoryPerson, extra: Record<string, unknown> = {}) {
    const found = await scim(token, 'GET', `/Users?${filterOf(`userName eq "${p.upn}"`)}`);
    expect(found.status).toBe(200);
    expect(found.body.totalResults).toBe(0);
    const created = await scim(token, 'POST', '/Users', entraCreateUser(p, extra));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.id as string;
  }

  const userInRoger = async (t: FreshTenant, id: string) => api(host, t.admin.token, 'GET', `/api/users/${id}`);
  const auditActions = async (t: FreshTenant) =>
    (await api(host, t.admin.token, 'GET', '/api/audit?limit=100')).body.items as { action: string; actorId: string; targetId?: string }[];

  it('a whole cycle: discovery, find, create, read, update, deactivate, reactivate, admin group add and remove, delete', async () => {
    const t = await provisionedTenant();
    const aino = directoryPerson('Aino', 'Virtanen');

    // Entra reads what the endpoint supports.
    const config = await scim(t.scimToken, 'GET', '/ServiceProviderConfig');
    expect(config.status).toBe(200);
    expect(config.body).toMatchObject({
      patch: { supported: true },
      bulk: { supported: false },
      filter: { supported: true, maxResults: 100 },
    });
    expect(config.body.authenticationSchemes.map((s: { type: string }) => s.type)).toContain('oauthbearertoken');
    const types = await scim(t.scimToken, 'GET', '/ResourceTypes');
    expect(types.status).toBe(200);
    const typeList = (types.body.Resources ?? types.body) as { name: string; endpoint: string; schemaExtensions?: { schema: string }[] }[];
    expect(typeList.map((r) => r.name).sort()).toEqual(['Group', 'User']);
    expect(typeList.find((r) => r.name === 'User')!.schemaExtensions!.map((e) => e.schema)).toEqual([ENTERPRISE]);
    const schemas = await scim(t.scimToken, 'GET', '/Schemas');
    expect(schemas.status).toBe(200);
    const schemaIds = ((schemas.body.Resources ?? schemas.body) as { id: string }[]).map((s) => s.id);
    expect(schemaIds).toEqual(expect.arrayContaining([CORE_USER, CORE_GROUP, ENTERPRISE]));
    const userSchema = await scim(t.scimToken, 'GET', `/Schemas/${CORE_USER}`);
    expect(userSchema.status).toBe(200);
    const userNameAttribute = userSchema.body.attributes.find((a: { name: string }) => a.name === 'userName');
    expect(userNameAttribute).toMatchObject({ uniqueness: 'server', required: true });

    // Find (nobody), create, read.
    const none = await scim(t.scimToken, 'GET', `/Users?${filterOf(`userName eq "${aino.upn}"`)}`);
    expect(none.status).toBe(200);
    expect(none.body).toMatchObject({ schemas: [LIST], totalResults: 0 });
    expect(none.body.Resources ?? []).toEqual([]);
    const created = await scim(t.scimToken, 'POST', '/Users', entraCreateUser(aino));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    expect(created.headers.get('location')).toBe(`${host.url}/scim/v2/Users/${id}`);
    expect(created.body).toMatchObject({
      id,
      externalId: aino.oid,
      userName: aino.upn,
      displayName: aino.display,
      active: true,
      name: { givenName: 'Aino', familyName: 'Virtanen' },
      emails: [{ value: aino.upn, type: 'work', primary: true }],
      [ENTERPRISE]: { department: 'Facilities' },
      meta: { resourceType: 'User', location: `${host.url}/scim/v2/Users/${id}` },
    });
    expect(created.body.schemas).toEqual(expect.arrayContaining([CORE_USER, ENTERPRISE]));
    // Accepted and dropped: nothing Roger does not keep comes back.
    for (const dropped of ['title', 'phoneNumbers', 'addresses', 'preferredLanguage', 'roles', 'password']) {
      expect(created.body[dropped], dropped).toBeUndefined();
    }
    expect(created.body[ENTERPRISE].manager).toBeUndefined();
    const read = await scim(t.scimToken, 'GET', `/Users/${id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    const inRoger = await userInRoger(t, id);
    expect(inRoger.body).toMatchObject({ role: 'user', email: aino.upn, fullName: aino.display, active: true, provisioned: true });

    // Found by each filter Entra may match on.
    for (const filter of [
      `userName eq "${aino.upn}"`,
      `externalId eq "${aino.oid}"`,
      `emails[type eq "work"].value eq "${aino.upn}"`,
      `id eq "${id}"`,
    ]) {
      const found = await scim(t.scimToken, 'GET', `/Users?${filterOf(filter)}`);
      expect(found.status, filter).toBe(200);
      expect(found.body.totalResults, filter).toBe(1);
      expect(found.body.Resources[0].id, filter).toBe(id);
    }

    // Update, as Microsoft's multi-valued example: Replace, capitalised, through a value filter.
    const renamed = `aino.korhonen-${uniqueTag()}@northwind.test`;
    const updated = await scim(
      t.scimToken,
      'PATCH',
      `/Users/${id}`,
      patchOf(
        { op: 'Replace', path: 'emails[type eq "work"].value', value: renamed },
        { op: 'Replace', path: 'name.familyName', value: 'Korhonen' },
      ),
    );
    expect(updated.status, JSON.stringify(updated.body)).toBe(200);
    expect(updated.body.emails).toEqual([{ value: renamed, type: 'work', primary: true }]);
    expect(updated.body.name.familyName).toBe('Korhonen');
    expect((await userInRoger(t, id)).body.email).toBe(renamed);

    // Deactivate: no path, a value object, the boolean as Entra's Switch expression makes it.
    const off = await scim(t.scimToken, 'PATCH', `/Users/${id}`, patchOf({ op: 'Replace', value: { active: 'False' } }));
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    expect(off.body.active).toBe(false);
    expect((await userInRoger(t, id)).body.active).toBe(false);
    // Reactivate.
    const on = await scim(t.scimToken, 'PATCH', `/Users/${id}`, patchOf({ op: 'Replace', path: 'active', value: 'True' }));
    expect(on.status).toBe(200);
    expect(on.body.active).toBe(true);
    expect((await userInRoger(t, id)).body.active).toBe(true);

    // The admin group: the tenant names its object id, Entra creates it and adds members in a batch.
    const groupOid = randomUUID();
    expect((await api(host, t.admin.token, 'PATCH', '/api/tenant', { policy: { entraAdminGroupId: groupOid } })).status).toBe(200);
    const groupName = `Roger admins ${uniqueTag()}`;
    const noGroup = await scim(t.scimToken, 'GET', `/Groups?excludedAttributes=members&${filterOf(`displayName eq "${groupName}"`)}`);
    expect(noGroup.body.totalResults).toBe(0);
    const group = await scim(t.scimToken, 'POST', '/Groups', {
      schemas: [CORE_GROUP, ENTRA_GROUP],
      externalId: groupOid,
      displayName: groupName,
      meta: { resourceType: 'Group' },
    });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    const groupId = group.body.id as string;
    expect(group.headers.get('location')).toBe(`${host.url}/scim/v2/Groups/${groupId}`);
    expect(group.body).toMatchObject({ id: groupId, displayName: groupName, externalId: groupOid, meta: { resourceType: 'Group' } });
    const juho = directoryPerson('Juho', 'Laine');
    const juhoId = await provision(t.scimToken, juho);
    const added = await scim(
      t.scimToken,
      'PATCH',
      `/Groups/${groupId}`,
      patchOf({
        op: 'Add',
        path: 'members',
        value: [
          { $ref: null, value: id },
          { $ref: null, value: juhoId },
        ],
      }),
    );
    expect([200, 204], JSON.stringify(added.body)).toContain(added.status);
    expect((await userInRoger(t, id)).body.role).toBe('admin');
    expect((await userInRoger(t, juhoId)).body.role).toBe('admin');
    const listed = await scim(t.scimToken, 'GET', `/Groups?excludedAttributes=members&${filterOf(`displayName eq "${groupName}"`)}`);
    expect(listed.body.totalResults).toBe(1);
    expect(listed.body.Resources[0].members).toBeUndefined();
    const members = (await scim(t.scimToken, 'GET', `/Groups/${groupId}`)).body.members as { value: string }[];
    expect(members.map((m) => m.value).sort()).toEqual([id, juhoId].sort());

    // Removed from the group: a user again.
    const removed = await scim(
      t.scimToken,
      'PATCH',
      `/Groups/${groupId}`,
      patchOf({ op: 'Remove', path: 'members', value: [{ $ref: null, value: id }] }),
    );
    expect([200, 204], JSON.stringify(removed.body)).toContain(removed.status);
    expect((await userInRoger(t, id)).body.role).toBe('user');
    expect((await userInRoger(t, juhoId)).body.role).toBe('admin');

    // Delete: the erasure, then 404 for that id.
    const deleted = await scim(t.scimToken, 'DELETE', `/Users/${id}`);
    expect(deleted.status).toBe(204);
    const gone = await scim(t.scimToken, 'GET', `/Users/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ schemas: [ERROR], status: '404' });
    expect((await scim(t.scimToken, 'DELETE', `/Users/${id}`)).status).toBe(404);
    expect((await userInRoger(t, id)).status).toBe(404);

    // Each change audited with the token as the actor.
    const actor = `scim-token:${t.scimTokenId}`;
    const records = (await auditActions(t)).filter((r) => r.actorId === actor);
    expect(records.map((r) => r.action)).toEqual(
      expect.arrayContaining([
        'scim.user-created',
        'scim.user-changed',
        'scim.user-deactivated',
        'scim.user-reactivated',
        'scim.group-created',
        'scim.group-changed',
        'user.erased',
      ]),
    );
    // The erasure took the user's id out of every record, as an admin's erasure does (docs/data.md#data-subject-rights).
    expect(JSON.stringify(await auditActions(t))).not.toContain(id);
    // Nothing a person typed reaches the log.
    const logs = host.logs.join('\n');
    for (const secret of [aino.upn, renamed, 'Virtanen', 'Korhonen', juho.upn, groupName, t.scimToken.split('.')[3]!]) {
      expect(logs, secret).not.toContain(secret);
    }
  });

  describe('what Entra sends (docs/provisioning.md#what-entra-sends)', () => {
    it('PATCH operations named Replace, Add and Remove with capital letters', async () => {
      const t = await provisionedTenant();
      const p = directoryPerson('Sanna', 'Niemi');
      const id = await provision(t.scimToken, p);
      const answer = await scim(
        t.scimToken,
        'PATCH',
        `/Users/${id}`,
        patchOf(
          { op: 'Replace', path: 'displayName', value: 'Sanna N. Niemi' },
          { op: 'Add', path: 'name.givenName', value: 'Sanna-Maria' },
          { op: 'Remove', path: `${ENTERPRISE}:department` },
          { op: 'ADD', path: `${ENTERPRISE}:costCenter`, value: 'CC-7' },
        ),
      );
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body).toMatchObject({ displayName: 'Sanna N. Niemi', name: { givenName: 'Sanna-Maria' } });
      expect(answer.body[ENTERPRISE]).toMatchObject({ costCenter: 'CC-7', employeeNumber: expect.any(String) });
      expect(answer.body[ENTERPRISE].department).toBeUndefined();
      expect((await userInRoger(t, id)).body.fullName).toBe('Sanna N. Niemi');
      // An operation that is none of the three is refused, and changes nothing.
      const wrong = await scim(t.scimToken, 'PATCH', `/Users/${id}`, patchOf({ op: 'Merge', path: 'displayName', value: 'x' }));
      expect(wrong.status).toBe(400);
      expect(wrong.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidSyntax' });
      expect((await scim(t.scimToken, 'GET', `/Users/${id}`)).body.displayName).toBe('Sanna N. Niemi');
    });

    it('active as the strings "False" and "True"', async () => {
      const t = await provisionedTenant();
      const p = directoryPerson('Mikko', 'Heikkinen');
      const id = await provision(t.scimToken, p, { active: 'True' });
      expect((await scim(t.scimToken, 'GET', `/Users/${id}`)).body.active).toBe(true);
      for (const [value, active] of [
        ['False', false],
        ['True', true],
        ['false', false],
        ['TRUE', true],
        [false, false],
        [true, true],
      ] as const) {
        const answer = await scim(t.scimToken, 'PATCH', `/Users/${id}`, patchOf({ op: 'Replace', path: 'active', value }));
        expect(answer.status, String(value)).toBe(200);
        expect(answer.body.active, String(value)).toBe(active);
        expect((await userInRoger(t, id)).body.active, String(value)).toBe(active);
      }
      const nonsense = await scim(t.scimToken, 'PATCH', `/Users/${id}`, patchOf({ op: 'Replace', path: 'active', value: 'Maybe' }));
      expect(nonsense.status).toBe(400);
      expect(nonsense.body.scimType).toBe('invalidValue');
      expect((await scim(t.scimToken, 'GET', `/Users/${id}`)).body.active).toBe(true);
      // A user created inactive is created deactivated.
      const q = directoryPerson('Outi', 'Salo');
      const inactive = await provision(t.scimToken, q, { active: 'False' });
      expect((await userInRoger(t, inactive)).body.active).toBe(false);
    });

    it('a filter on userName before every create: a person already in Roger is found, not created twice', async () => {
      const t = await provisionedTenant();
      // Someone an admin created before provisioning was turned on; Entra's userName is their email.
      const email = `pekka-${uniqueTag()}@northwind.test`;
      const existing = await api(host, t.admin.token, 'POST', '/api/users', {
        email,
        username: `pekka-${uniqueTag()}`,
        fullName: 'Pekka Manual',
        password: 'pekka-password-1',
      });
      expect(existing.status).toBe(201);
      for (const filter of [`userName eq "${email}"`, `UserName eq "${email.toUpperCase()}"`, `userName Eq "${email}"`]) {
        const found = await scim(t.scimToken, 'GET', `/Users?${filterOf(filter)}`);
        expect(found.status, filter).toBe(200);
        expect(found.body.totalResults, filter).toBe(1);
        expect(found.body.Resources[0], filter).toMatchObject({ id: existing.body.id, userName: email, active: true });
      }
      // Entra then updates the user it found (here: links it by object id) instead of creating one.
      const oid = randomUUID();
      const linked = await scim(
        t.scimToken,
        'PATCH',
        `/Users/${existing.body.id}`,
        patchOf({ op: 'Add', path: 'externalId', value: oid }, { op: 'Replace', path: 'displayName', value: 'Pekka Directory' }),
      );
      expect(linked.status, JSON.stringify(linked.body)).toBe(200);
      expect((await scim(t.scimToken, 'GET', `/Users?${filterOf(`externalId eq "${oid}"`)}`)).body.Resources[0].id).toBe(existing.body.id);
      expect((await userInRoger(t, existing.body.id)).body).toMatchObject({ fullName: 'Pekka Directory', provisioned: true });
      const all = await scim(t.scimToken, 'GET', '/Users?startIndex=1&count=100');
      expect(all.body.totalResults).toBe(2); // the admin and Pekka: nobody was created twice
      // Filters Roger cannot answer with a point read are refused, saying what it can do.
      for (const filter of ['userName sw "pekka"', `userName eq "${email}" or userName eq "x@y.test"`, 'title eq "x"']) {
        const refused = await scim(t.scimToken, 'GET', `/Users?${filterOf(filter)}`);
        expect(refused.status, filter).toBe(400);
        expect(refused.body.scimType, filter).toBe('invalidFilter');
      }
    });

    it('matching on the work email as well: someone whose userPrincipalName is not their email is found and taken over', async () => {
      const t = await provisionedTenant();
      const mail = `hanna-${uniqueTag()}@northwind.test`;
      const upn = `hanna.k-${uniqueTag()}@northwind.onmicrosoft.test`;
      const existing = await api(host, t.admin.token, 'POST', '/api/users', {
        email: mail,
        username: `hanna-${uniqueTag()}`,
        fullName: 'Hanna Manual',
        password: 'hanna-password-1',
      });
      expect(existing.status).toBe(201);
      // Entra tries its matching attributes in their precedence: userName first, then the work email.
      expect((await scim(t.scimToken, 'GET', `/Users?${filterOf(`userName eq "${upn}"`)}`)).body.totalResults).toBe(0);
      const byEmail = await scim(t.scimToken, 'GET', `/Users?${filterOf(`emails[type eq "work"].value eq "${mail}"`)}`);
      expect(byEmail.body.totalResults).toBe(1);
      expect(byEmail.body.Resources[0].id).toBe(existing.body.id);
      const takenOver = await scim(
        t.scimToken,
        'PATCH',
        `/Users/${existing.body.id}`,
        patchOf({ op: 'Replace', path: 'userName', value: upn }, { op: 'Add', path: 'externalId', value: randomUUID() }),
      );
      expect(takenOver.status, JSON.stringify(takenOver.body)).toBe(200);
      expect(takenOver.body).toMatchObject({ userName: upn, emails: [{ value: mail, type: 'work', primary: true }] });
      // From then on the first filter finds them.
      expect((await scim(t.scimToken, 'GET', `/Users?${filterOf(`userName eq "${upn}"`)}`)).body.Resources[0].id).toBe(existing.body.id);
      // Creating instead would have been refused: the email is hers.
      const twice = await scim(t.scimToken, 'POST', '/Users', {
        ...entraCreateUser({ ...directoryPerson('Hanna', 'K'), upn: `other-${upn}` }),
        emails: [{ primary: true, type: 'work', value: mail }],
      });
      expect(twice.status).toBe(409);
    });

    it('PATCH with no path and a value object, attributes named by path or under the extension URN', async () => {
      const t = await provisionedTenant();
      const p = directoryPerson('Elina', 'Koskinen');
      const id = await provision(t.scimToken, p);
      const employeeNumber = (await scim(t.scimToken, 'GET', `/Users/${id}`)).body[ENTERPRISE].employeeNumber;
      const answer = await scim(
        t.scimToken,
        'PATCH',
        `/Users/${id}`,
        patchOf(
          { op: 'Replace', value: { displayName: 'Elina K.', 'name.givenName': 'Eli', title: 'Dropped anyway' } },
          { op: 'Add', value: { [ENTERPRISE]: { department: 'Printing Services' } } },
        ),
      );
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body).toMatchObject({ displayName: 'Elina K.', name: { givenName: 'Eli', familyName: 'Koskinen' } });
      // Replacing one attribute of the extension leaves the others.
      expect(answer.body[ENTERPRISE]).toEqual({ department: 'Printing Services', employeeNumber });
      expect(answer.body.title).toBeUndefined();
      // The value object may not name what is read-only.
      const readOnly = await scim(t.scimToken, 'PATCH', `/Users/${id}`, patchOf({ op: 'Replace', value: { id: 'mine-now' } }));
      expect(readOnly.status).toBe(400);
      expect(readOnly.body.scimType).toBe('mutability');
    });

    it('Add to emails[type eq "work"].value when the email changes replaces the work email', async () => {
      const t = await provisionedTenant();
      const p = directoryPerson('Ville', 'Mäkinen');
      const id = await provision(t.scimToken, p);
      const next = `ville.makinen-${uniqueTag()}@northwind.test`;
      const answer = await scim(
        t.scimToken,
        'PATCH',
        `/Users/${id}`,
        patchOf({ op: 'Replace', path: 'title', value: 'dropped' }, { op: 'Add', path: 'emails[type eq "work"].value', value: next }),
      );
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.emails).toEqual([{ value: next, type: 'work', primary: true }]);
      expect((await userInRoger(t, id)).body.email).toBe(next);
    });

    it('group membership in batches: Add and Remove of several members in one operation, all or nothing', async () => {
      const t = await provisionedTenant();
      const people = await Promise.all(
        ['Anni', 'Eero', 'Kaisa', 'Lauri'].map((given) => provision(t.scimToken, directoryPerson(given, 'Batch'))),
      );
      const group = await scim(t.scimToken, 'POST', '/Groups', {
        schemas: [CORE_GROUP, ENTRA_GROUP],
        externalId: randomUUID(),
        displayName: `Printing ${uniqueTag()}`,
        meta: { resourceType: 'Group' },
      });
      expect(group.status).toBe(201);
      const path = `/Groups/${group.body.id}`;
      const memberIds = async () =>
        (((await scim(t.scimToken, 'GET', path)).body.members ?? []) as { value: string }[]).map((m) => m.value).sort();

      const first = await scim(
        t.scimToken,
        'PATCH',
        path,
        patchOf({ op: 'Add', path: 'members', value: people.slice(0, 3).map((value) => ({ $ref: null, value })) }),
      );
      expect([200, 204], JSON.stringify(first.body)).toContain(first.status);
      expect(await memberIds()).toEqual(people.slice(0, 3).sort());
      // Two batches in one request; adding a member twice keeps one.
      const second = await scim(
        t.scimToken,
        'PATCH',
        path,
        patchOf(
          { op: 'Add', path: 'members', value: [{ value: people[3] }, { value: people[0] }] },
          { op: 'Remove', path: 'members', value: [{ $ref: null, value: people[1] }, { value: people[2] }] },
        ),
      );
      expect([200, 204], JSON.stringify(second.body)).toContain(second.status);
      expect(await memberIds()).toEqual([people[0], people[3]].sort());
      // A batch naming someone who is not a user of this tenant writes nothing.
      const unknown = await scim(
        t.scimToken,
        'PATCH',
        path,
        patchOf({ op: 'Add', path: 'members', value: [{ value: people[1] }, { value: 'f'.repeat(32) }] }),
      );
      expect(unknown.status).toBe(400);
      expect(unknown.body.scimType).toBe('invalidValue');
      expect(await memberIds()).toEqual([people[0], people[3]].sort());
      // Remove by a value filter on the path, as RFC 7644 §3.5.2.2 also allows.
      const filtered = await scim(t.scimToken, 'PATCH', path, patchOf({ op: 'Remove', path: `members[value eq "${people[3]}"]` }));
      expect([200, 204], JSON.stringify(filtered.body)).toContain(filtered.status);
      expect(await memberIds()).toEqual([people[0]]);
    });

    it('409 uniqueness on a duplicate userName, email or externalId; nothing is created', async () => {
      const t = await provisionedTenant();
      const p = directoryPerson('Tiina', 'Lehto');
      const id = await provision(t.scimToken, p);
      const usersBefore = (await scim(t.scimToken, 'GET', '/Users?count=0')).body.totalResults;
      const clashes = [
        entraCreateUser({ ...p, oid: randomUUID() }), // the same userName
        entraCreateUser({ ...directoryPerson('Tiina', 'Other'), oid: p.oid }), // the same externalId
        // Another userName whose work email is hers.
        { ...entraCreateUser(directoryPerson('Tiina', 'Third')), emails: [{ primary: true, type: 'work', value: p.upn }] },
        // The admin's email, as a userName.
        entraCreateUser({ ...directoryPerson('Ilse', 'Admin'), upn: t.admin.person.email }),
      ];
      for (const body of clashes) {
        const answer = await scim(t.scimToken, 'POST', '/Users', body);
        expect(answer.status, JSON.stringify(body)).toBe(409);
        expect(answer.body).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' });
        expect(answer.body.detail).toEqual(expect.any(String));
        expect(answer.body.detail).not.toContain(p.upn);
      }
      expect((await scim(t.scimToken, 'GET', '/Users?count=0')).body.totalResults).toBe(usersBefore);
      // A rename onto a taken name is refused the same way, and the user keeps the old one.
      const other = await provision(t.scimToken, directoryPerson('Jari', 'Lehto'));
      const rename = await scim(t.scimToken, 'PATCH', `/Users/${other}`, patchOf({ op: 'Replace', path: 'userName', value: p.upn }));
      expect(rename.status).toBe(409);
      expect(rename.body.scimType).toBe('uniqueness');
      expect((await scim(t.scimToken, 'GET', `/Users/${id}`)).body.userName).toBe(p.upn);
      // Groups: one displayName per tenant, whatever its case.
      const name = `Printing ${uniqueTag()}`;
      const group = { schemas: [CORE_GROUP], displayName: name };
      expect((await scim(t.scimToken, 'POST', '/Groups', group)).status).toBe(201);
      const twin = await scim(t.scimToken, 'POST', '/Groups', { ...group, displayName: name.toUpperCase() });
      expect(twin.status).toBe(409);
      expect(twin.body.scimType).toBe('uniqueness');
    });

    it('soft delete (active false) ends sign-in and sessions at once; DELETE later erases; the id is then 404', async () => {
      const t = await provisionedTenant();
      const p = directoryPerson('Riikka', 'Aalto');
      const id = await provision(t.scimToken, p);
      // The person also has a Roger password, so each way of signing in can be seen to end.
      const username = (await userInRoger(t, id)).body.username as string;
      const person: Person = { email: p.upn, username, fullName: p.display, password: 'riikka-password-1' };
      expect((await api(host, t.admin.token, 'PUT', `/api/users/${id}/credentials`, { password: person.password })).status).toBe(204);
      const session = await mobileSignIn(host, t.slug, person);
      expect((await api(host, session.access_token, 'GET', '/api/me')).status).toBe(200);

      const off = await scim(t.scimToken, 'PATCH', `/Users/${id}`, patchOf({ op: 'Replace', path: 'active', value: 'False' }));
      expect(off.status).toBe(200);
      const mobile = await oauthClient(host, 'roger-mobile');
      expect(await oauthErrorOf(() => oauth.refreshTokenGrant(mobile, session.refresh_token!))).toBe('invalid_grant');
      expect(await oauthErrorOf(() => mobileSignIn(host, t.slug, person))).toBe('invalid_grant');
      expect((await api(host, session.access_token, 'GET', '/api/me')).status).toBe(401);
      // Still there, for Entra and for the admin.
      expect((await scim(t.scimToken, 'GET', `/Users/${id}`)).body).toMatchObject({ id, active: false, userName: p.upn });
      expect((await userInRoger(t, id)).body.active).toBe(false);

      // Entra deletes for good when the person is deleted for good (30 days after a soft delete).
      expect((await scim(t.scimToken, 'DELETE', `/Users/${id}`)).status).toBe(204);
      const gone = await scim(t.scimToken, 'GET', `/Users/${id}`);
      expect(gone.status).toBe(404);
      expect(gone.body).toMatchObject({ schemas: [ERROR], status: '404' });
      expect((await scim(t.scimToken, 'GET', `/Users?${filterOf(`userName eq "${p.upn}"`)}`)).body.totalResults).toBe(0);
      expect((await scim(t.scimToken, 'GET', `/Users?${filterOf(`externalId eq "${p.oid}"`)}`)).body.totalResults).toBe(0);
      // The names are free again: the person can come back.
      expect(await provision(t.scimToken, p)).not.toBe(id);
      const erased = (await auditActions(t)).find((r) => r.action === 'user.erased');
      expect(erased?.actorId).toBe(`scim-token:${t.scimTokenId}`);
    });

    it('application/scim+json both ways, and application/json too; errors in the SCIM error schema', async () => {
      const t = await provisionedTenant();
      const asScim = await scim(t.scimToken, 'POST', '/Users', entraCreateUser(directoryPerson('Kalle', 'Json')), SCIM_JSON);
      expect(asScim.status).toBe(201);
      expect(asScim.headers.get('content-type')).toMatch(/^application\/scim\+json/);
      const asJson = await scim(t.scimToken, 'POST', '/Users', entraCreateUser(directoryPerson('Leena', 'Json')), 'application/json');
      expect(asJson.status).toBe(201);
      expect(asJson.headers.get('content-type')).toMatch(/^application\/scim\+json/);
      const asText = await scim(t.scimToken, 'POST', '/Users', entraCreateUser(directoryPerson('Mari', 'Text')), 'text/plain');
      expect(asText.status).toBe(415);
      expect(asText.body).toMatchObject({ schemas: [ERROR], status: '415' });

      // Malformed JSON, a body without the core schema, no token, a wrong token: each in the SCIM error schema.
      const malformed = await fetch(`${host.url}/scim/v2/Users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.scimToken}`, 'content-type': SCIM_JSON },
        body: '{"schemas": [',
      });
      expect(malformed.status).toBe(400);
      expect(malformed.headers.get('content-type')).toMatch(/^application\/scim\+json/);
      expect(await malformed.json()).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidSyntax' });
      const noSchema = await scim(t.scimToken, 'POST', '/Users', { userName: 'x@northwind.test' });
      expect(noSchema.status).toBe(400);
      expect(noSchema.body.scimType).toBe('invalidSyntax');
      for (const token of ['', 'not-a-token', `${t.scimToken.slice(0, -1)}${t.scimToken.endsWith('A') ? 'B' : 'A'}`, t.admin.token]) {
        const refused = await fetch(`${host.url}/scim/v2/Users`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
        expect(refused.status, token.slice(0, 12)).toBe(401);
        expect(refused.headers.get('content-type')).toMatch(/^application\/scim\+json/);
        expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(await refused.json()).toMatchObject({ schemas: [ERROR], status: '401' });
      }
      // A revoked token is refused at once.
      expect((await api(host, t.admin.token, 'DELETE', `/api/tenant/scim-tokens/${t.scimTokenId}`)).status).toBe(204);
      expect((await scim(t.scimToken, 'GET', '/Users?count=0')).status).toBe(401);
    });

    it('paging with startIndex and count, at most 100 a page', async () => {
      const t = await provisionedTenant();
      const ids = [];
      for (const given of ['Aada', 'Bertta', 'Cecilia']) ids.push(await provision(t.scimToken, directoryPerson(given, 'Page')));
      const all = [t.admin.id, ...ids];
      const seen: string[] = [];
      for (let start = 1; start <= all.length; start += 2) {
        const page = await scim(t.scimToken, 'GET', `/Users?startIndex=${start}&count=2`);
        expect(page.status).toBe(200);
        expect(page.body).toMatchObject({ schemas: [LIST], totalResults: all.length, startIndex: start });
        expect(page.body.itemsPerPage).toBe(page.body.Resources.length);
        seen.push(...page.body.Resources.map((r: { id: string }) => r.id));
      }
      expect(seen.sort()).toEqual(all.sort());
      const big = await scim(t.scimToken, 'GET', '/Users?count=1000');
      expect(big.status).toBe(200);
      expect(big.body.itemsPerPage).toBeLessThanOrEqual(100);
      const countOnly = await scim(t.scimToken, 'GET', '/Users?count=0');
      expect(countOnly.body).toMatchObject({ totalResults: all.length, itemsPerPage: 0 });
    });
  });
});
