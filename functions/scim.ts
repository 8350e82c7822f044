import { Type, type TSchema } from '@sinclair/typebox';
import { bearerToken } from '../shared/auth/principal.js';
import { RateLimited, Unauthorized } from '../shared/errors.js';
import { SCIM_MEDIA_TYPE } from '../shared/http/error-rendering.js';
import { HttpProblem } from '../shared/http/problem.js';
import {
  defineRoute,
  type RequestContext,
  type ResponseSpec,
  type RouteDefinition,
  type RouteInput,
  type RouteResult,
  type RouteSchemas,
  type RouteSpec,
} from '../shared/http/route.js';
import type { Logger } from '../shared/logging/logger.js';
import { reserve } from '../shared/rate-limit.js';
import { resourceType, resourceTypeIds, schema, schemaIds, SCIM_REQUEST_LIMIT, serviceProviderConfig } from '../shared/scim/discovery.js';
import { ScimError } from '../shared/scim/errors.js';
import { createScimGroup, deleteScimGroup, getScimGroup, listScimGroups, patchScimGroup, replaceScimGroup } from '../shared/scim/groups.js';
import {
  ENTERPRISE_USER_SCHEMA,
  GROUP_SCHEMA,
  LIST_RESPONSE_SCHEMA,
  USER_SCHEMA,
  type ListQuery,
  type ScimCaller,
  type ScimList,
  type ScimResource,
} from '../shared/scim/resources.js';
import { authenticateScimToken } from '../shared/scim/tokens.js';
import { createScimUser, deleteScimUser, getScimUser, listScimUsers, patchScimUser, replaceScimUser } from '../shared/scim/users.js';
import type { Services } from '../shared/services.js';

/**
 * SCIM 2.0 (RFC 7643, RFC 7644) under /scim/v2 (docs/api.md#scim): an identity provider's
 * provisioning client creates, changes and removes the tenant's users and groups with a SCIM
 * token an admin created. Every answer, errors included, is `application/scim+json`; bodies may
 * be sent as that or as `application/json`. The routes have no `auth` row: the SCIM token is
 * checked here (one point read), then counted against the token's rate limit (one write).
 */

const BASE_PATH = 'scim/v2';
const JSON_MEDIA_TYPES = [SCIM_MEDIA_TYPE, 'application/json'];

interface ScimScene {
  readonly caller: ScimCaller;
  /** The absolute URL of /scim/v2 in this region, for `Location` and `meta.location`. */
  readonly base: string;
  readonly log: Logger;
}

/** RFC 6750 §3.1: no error code when no token was sent; `invalid_token` when one was and names nothing live. */
async function authenticate(headers: Headers, services: Services): Promise<ScimCaller> {
  const token = bearerToken(headers);
  if (!token) {
    throw new HttpProblem('unauthorized', "send the tenant's SCIM token: Authorization: Bearer <token>");
  }
  const caller = await authenticateScimToken(services, token);
  if (!caller) throw new Unauthorized('the SCIM token is not valid: unknown, revoked or expired');
  try {
    await reserve(services.store, `scim:${caller.tokenId}`, SCIM_REQUEST_LIMIT, services.now());
  } catch (error) {
    if (!(error instanceof RateLimited)) throw error;
    throw new RateLimited(error.retryAfterSeconds, `too many requests with this SCIM token; retry in ${error.retryAfterSeconds} seconds`);
  }
  return caller;
}

type ScimHandler<S extends RouteSchemas> = (input: RouteInput<S>, services: Services, scene: ScimScene) => Promise<RouteResult>;

/** A /scim/v2 route: its errors in the SCIM schema, the caller authenticated and counted before the handler runs. */
function scimRoute<S extends RouteSchemas>(
  spec: Omit<RouteSpec<S>, 'handler' | 'errorFormat' | 'tags' | 'route'> & { readonly path: string; readonly handle: ScimHandler<S> },
): RouteDefinition<S> {
  const { handle, path, ...rest } = spec;
  return defineRoute<S>({
    ...rest,
    route: `${BASE_PATH}/${path}`,
    tags: ['scim'],
    errorFormat: 'scim',
    handler: async (input: RouteInput<S>, services: Services, context: RequestContext) => {
      const caller = await authenticate(input.headers, services);
      return handle(input, services, { caller, base: `${services.config.oauth.issuer}/${BASE_PATH}`, log: context.log });
    },
  });
}

const scimResult = (status: number, body: unknown, headers: Record<string, string> = {}): RouteResult => ({
  status,
  body,
  headers,
  contentType: SCIM_MEDIA_TYPE,
});

// --- attributes and excludedAttributes (RFC 7644 §3.4.2.5) ---------------------------------------

/** Always returned, whatever the query asks (RFC 7643 §3.1: `returned: always`). */
const ALWAYS = new Set(['id', 'schemas', 'meta']);

/**
 * The top-level attribute an attribute name in a query means, lower case: `name.givenName` →
 * `name`; a URN-qualified core attribute → the attribute; anything under the enterprise
 * extension's URN → that URN (its object is one top-level member).
 */
function topLevelName(raw: string): string {
  let name = raw.trim().toLowerCase();
  const enterprise = ENTERPRISE_USER_SCHEMA.toLowerCase();
  if (name === enterprise || name.startsWith(`${enterprise}:`)) return enterprise;
  for (const core of [USER_SCHEMA, GROUP_SCHEMA]) {
    if (name.startsWith(`${core.toLowerCase()}:`)) name = name.slice(core.length + 1);
  }
  return name.split('.')[0]!;
}

const namesOf = (list: string | undefined) =>
  new Set(
    (list ?? '')
      .split(',')
      .map(topLevelName)
      .filter((name) => name !== ''),
  );

/** `attributes` keeps only what it names; else `excludedAttributes` drops what it names. Top-level members only. */
function projection(query: { attributes?: string; excludedAttributes?: string }) {
  const only = namesOf(query.attributes);
  const without = namesOf(query.excludedAttributes);
  return <T extends Record<string, unknown>>(resource: T): T =>
    only.size === 0 && without.size === 0
      ? resource
      : (Object.fromEntries(
          Object.entries(resource).filter(([key]) => {
            const name = key.toLowerCase();
            return ALWAYS.has(name) || (only.size > 0 ? only.has(name) : !without.has(name));
          }),
        ) as T);
}

const AttributeQuery = {
  attributes: Type.Optional(
    Type.String({ maxLength: 1000, description: 'Comma-separated attribute names to return (with id, schemas, meta).' }),
  ),
  excludedAttributes: Type.Optional(Type.String({ maxLength: 1000, description: 'Comma-separated attribute names to leave out.' })),
};

// --- discovery (RFC 7644 §4) ----------------------------------------------------------------------

/** RFC 7644 §4: these endpoints take no filter; a filter is answered 403. Other query parameters are ignored. */
const DiscoveryQuery = Type.Object(
  { filter: Type.Optional(Type.String({ description: 'Not supported here: answered 403.' })), ...AttributeQuery },
  { additionalProperties: true },
);

function refuseFilter(query: { filter?: string }): void {
  if (query.filter !== undefined) throw new ScimError(403, 'filtering is not supported on this endpoint');
}

const listOf = (resources: readonly unknown[]) => ({
  schemas: [LIST_RESPONSE_SCHEMA],
  totalResults: resources.length,
  startIndex: 1,
  itemsPerPage: resources.length,
  Resources: resources,
});

const scimJsonSchema = (description: string): TSchema => Type.Object({}, { additionalProperties: true, description });
const scimResponse = (description: string, schemaDescription = description) => ({
  description,
  schema: scimJsonSchema(schemaDescription),
  contentType: SCIM_MEDIA_TYPE,
});
const unauthorized = { description: 'No SCIM token, or one that is unknown, revoked or expired' };
const tooMany = { description: 'Over the SCIM token’s rate limit; Retry-After says when to retry' };

export const scimServiceProviderConfig = scimRoute({
  name: 'scim-service-provider-config',
  methods: ['GET'],
  path: 'ServiceProviderConfig',
  summary: 'The SCIM features and limits of this service (RFC 7643 §5).',
  request: { query: DiscoveryQuery },
  responses: { 200: scimResponse('The configuration'), 401: unauthorized, 429: tooMany },
  handle: async ({ query }, { config }, { base }) => {
    refuseFilter(query);
    return scimResult(200, projection(query)(serviceProviderConfig(base, config.http.bodyLimitBytes)));
  },
});

export const scimResourceTypes = scimRoute({
  name: 'scim-resource-types',
  methods: ['GET'],
  path: 'ResourceTypes',
  summary: 'The SCIM resource types: User (with the enterprise extension) and Group (RFC 7643 §6).',
  request: { query: DiscoveryQuery },
  responses: {
    200: scimResponse('A ListResponse of the resource types'),
    401: unauthorized,
    403: { description: 'A filter' },
    429: tooMany,
  },
  handle: async ({ query }, _services, { base }) => {
    refuseFilter(query);
    return scimResult(200, listOf(resourceTypeIds.map((id) => projection(query)(resourceType(base, id)!))));
  },
});

export const scimResourceTypeGet = scimRoute({
  name: 'scim-resource-type-get',
  methods: ['GET'],
  path: 'ResourceTypes/{id}',
  summary: 'One SCIM resource type by id (`User`, `Group`).',
  request: { params: Type.Object({ id: Type.String({ maxLength: 200 }) }), query: DiscoveryQuery },
  responses: { 200: scimResponse('The resource type'), 401: unauthorized, 404: { description: 'No such resource type' }, 429: tooMany },
  handle: async ({ params, query }, _services, { base }) => {
    refuseFilter(query);
    const found = resourceType(base, params.id);
    if (!found) throw new ScimError(404, 'no such resource type: there are User and Group');
    return scimResult(200, projection(query)(found));
  },
});

export const scimSchemas = scimRoute({
  name: 'scim-schemas',
  methods: ['GET'],
  path: 'Schemas',
  summary: 'The SCIM schemas of User, Group and the enterprise user extension, with the attributes Roger keeps (RFC 7643 §7).',
  request: { query: DiscoveryQuery },
  responses: { 200: scimResponse('A ListResponse of the schemas'), 401: unauthorized, 403: { description: 'A filter' }, 429: tooMany },
  handle: async ({ query }, _services, { base }) => {
    refuseFilter(query);
    return scimResult(200, listOf(schemaIds.map((id) => projection(query)(schema(base, id)!))));
  },
});

export const scimSchemaGet = scimRoute({
  name: 'scim-schema-get',
  methods: ['GET'],
  path: 'Schemas/{id}',
  summary: 'One SCIM schema by its URN.',
  request: { params: Type.Object({ id: Type.String({ maxLength: 200 }) }), query: DiscoveryQuery },
  responses: { 200: scimResponse('The schema'), 401: unauthorized, 404: { description: 'No such schema' }, 429: tooMany },
  handle: async ({ params, query }, _services, { base }) => {
    refuseFilter(query);
    const found = schema(base, params.id);
    if (!found) throw new ScimError(404, 'no such schema');
    return scimResult(200, projection(query)(found));
  },
});

// --- Users and Groups (RFC 7644 §3) ----------------------------------------------------------------

/** Bodies are read as sent; the SCIM domain code validates them (shared/scim/users.ts, groups.ts). */
const scimBody = (description: string) => ({ body: Type.Unknown({ description }), jsonMediaTypes: JSON_MEDIA_TYPES });
const IdParams = Type.Object({ id: Type.String({ maxLength: 200 }) });
const ResourceQuery = Type.Object(AttributeQuery, { additionalProperties: true });
const ListQuerySchema = Type.Object(
  {
    filter: Type.Optional(Type.String({ description: 'One eq comparison (docs/api.md#scim).' })),
    // Any number: out-of-range values are clamped, not refused (RFC 7644 §3.4.2.4; paging() in shared/scim/resources.ts).
    startIndex: Type.Optional(Type.Number({ description: '1-based; below 1 is read as 1, a fraction rounded down.' })),
    count: Type.Optional(Type.Number({ description: 'At most 100 (more is read as 100); 0 or less answers totalResults only.' })),
    ...AttributeQuery,
  },
  { additionalProperties: true },
);

type Deps = Pick<Services, 'store' | 'now'>;

/** The domain functions of one resource type (shared/scim/users.ts or groups.ts). */
interface ResourceOperations {
  readonly create: (deps: Deps, caller: ScimCaller, body: unknown, log: Logger) => Promise<ScimResource>;
  readonly get: (deps: Deps, caller: ScimCaller, id: string) => Promise<ScimResource>;
  readonly list: (deps: Deps, caller: ScimCaller, query: ListQuery) => Promise<ScimList>;
  readonly replace: (deps: Deps, caller: ScimCaller, id: string, body: unknown, log: Logger) => Promise<ScimResource>;
  readonly patch: (deps: Deps, caller: ScimCaller, id: string, body: unknown, log: Logger) => Promise<ScimResource>;
  readonly remove: (deps: Deps, caller: ScimCaller, id: string, log: Logger) => Promise<void>;
}

/** A resource as answered: its `meta.location` (RFC 7644 §3.1), then only the attributes the query asks for. */
function located(resource: ScimResource, base: string, query: { attributes?: string; excludedAttributes?: string }) {
  const location = `${base}/${resource.meta.resourceType}s/${encodeURIComponent(resource.id)}`;
  return projection(query)({ ...resource, meta: { ...resource.meta, location } });
}

/** The six routes of `/Users` or `/Groups`, named `scim-<users|groups>-<create|list|get|replace|patch|delete>`. */
function resourceRoutes(plural: 'Users' | 'Groups', operations: ResourceOperations) {
  const noun = plural === 'Users' ? 'user' : 'group';
  const prefix = `scim-${plural.toLowerCase()}`;
  const resource = scimResponse(`The ${noun}`, `A SCIM ${noun === 'user' ? 'User' : 'Group'}`);
  const notFound = { description: `No such ${noun} in this tenant (any id of another tenant included)` };
  const invalid = { description: 'invalidSyntax, invalidValue, invalidFilter, mutability …: the scimType says which' };
  const deleteConflict: Record<number, ResponseSpec> = plural === 'Users' ? { 409: { description: "The tenant's last admin" } } : {};
  return {
    create: scimRoute({
      name: `${prefix}-create`,
      methods: ['POST'],
      path: plural,
      summary: `Create a ${noun} (RFC 7644 §3.3).`,
      request: { ...scimBody(`A SCIM ${noun}`), query: ResourceQuery },
      responses: {
        201: resource,
        400: invalid,
        401: unauthorized,
        409: { description: 'uniqueness: a name or externalId is taken' },
        429: tooMany,
      },
      handle: async ({ body, query }, services, { caller, base, log }) => {
        const created = located(await operations.create(services, caller, body, log), base, query);
        return scimResult(201, created, { Location: created.meta.location });
      },
    }),
    list: scimRoute({
      name: `${prefix}-list`,
      methods: ['GET'],
      path: plural,
      summary: `The tenant's ${noun}s, a page at a time, or the ones a filter names (RFC 7644 §3.4.2).`,
      request: { query: ListQuerySchema },
      responses: { 200: scimResponse('A ListResponse'), 400: invalid, 401: unauthorized, 429: tooMany },
      handle: async ({ query }, services, { caller, base }) => {
        const { filter, startIndex, count } = query;
        const page = await operations.list(services, caller, {
          ...(filter !== undefined ? { filter } : {}),
          ...(startIndex !== undefined ? { startIndex } : {}),
          ...(count !== undefined ? { count } : {}),
        });
        return scimResult(200, {
          schemas: [LIST_RESPONSE_SCHEMA],
          totalResults: page.totalResults,
          startIndex: page.startIndex,
          itemsPerPage: page.itemsPerPage,
          Resources: page.Resources.map((r) => located(r, base, query)),
        });
      },
    }),
    get: scimRoute({
      name: `${prefix}-get`,
      methods: ['GET'],
      path: `${plural}/{id}`,
      summary: `One ${noun} by id.`,
      request: { params: IdParams, query: ResourceQuery },
      responses: { 200: resource, 401: unauthorized, 404: notFound, 429: tooMany },
      handle: async ({ params, query }, services, { caller, base }) =>
        scimResult(200, located(await operations.get(services, caller, params.id), base, query)),
    }),
    replace: scimRoute({
      name: `${prefix}-replace`,
      methods: ['PUT'],
      path: `${plural}/{id}`,
      summary: `Replace a ${noun}'s attributes (RFC 7644 §3.5.1).`,
      request: { params: IdParams, query: ResourceQuery, ...scimBody(`A SCIM ${noun}`) },
      responses: { 200: resource, 400: invalid, 401: unauthorized, 404: notFound, 409: { description: 'uniqueness' }, 429: tooMany },
      handle: async ({ params, query, body }, services, { caller, base, log }) =>
        scimResult(200, located(await operations.replace(services, caller, params.id, body, log), base, query)),
    }),
    patch: scimRoute({
      name: `${prefix}-patch`,
      methods: ['PATCH'],
      path: `${plural}/{id}`,
      summary: `Change a ${noun} with a PatchOp (RFC 7644 §3.5.2); answers the ${noun} as it is now.`,
      request: { params: IdParams, query: ResourceQuery, ...scimBody('A SCIM PatchOp') },
      responses: { 200: resource, 400: invalid, 401: unauthorized, 404: notFound, 409: { description: 'uniqueness' }, 429: tooMany },
      handle: async ({ params, query, body }, services, { caller, base, log }) =>
        scimResult(200, located(await operations.patch(services, caller, params.id, body, log), base, query)),
    }),
    remove: scimRoute({
      name: `${prefix}-delete`,
      methods: ['DELETE'],
      path: `${plural}/{id}`,
      summary:
        plural === 'Users'
          ? 'Erase a user: the GDPR erasure, audited with the SCIM token as the actor.'
          : "Delete a group (its members keep their accounts; the admin group's lose the admin role).",
      request: { params: IdParams },
      responses: { 204: { description: 'Gone' }, 401: unauthorized, 404: notFound, ...deleteConflict, 429: tooMany },
      handle: async ({ params }, services, { caller, log }) => {
        await operations.remove(services, caller, params.id, log);
        return { status: 204 };
      },
    }),
  };
}

const users = resourceRoutes('Users', {
  create: createScimUser,
  get: getScimUser,
  list: listScimUsers,
  replace: replaceScimUser,
  patch: patchScimUser,
  remove: deleteScimUser,
});
export const {
  create: scimUsersCreate,
  list: scimUsersList,
  get: scimUsersGet,
  replace: scimUsersReplace,
  patch: scimUsersPatch,
  remove: scimUsersDelete,
} = users;

const groups = resourceRoutes('Groups', {
  create: createScimGroup,
  get: getScimGroup,
  list: listScimGroups,
  replace: replaceScimGroup,
  patch: patchScimGroup,
  remove: deleteScimGroup,
});
export const {
  create: scimGroupsCreate,
  list: scimGroupsList,
  get: scimGroupsGet,
  replace: scimGroupsReplace,
  patch: scimGroupsPatch,
  remove: scimGroupsDelete,
} = groups;
