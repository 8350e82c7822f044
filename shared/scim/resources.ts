import { invalidValue, ScimError } from './errors.js';

/**
 * What the SCIM resources (users.ts, groups.ts) share: who calls, the shapes answered, paging,
 * and reading values out of a body an identity provider sent (docs/provisioning.md).
 */
export const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_USER_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** The tenant a SCIM token speaks for, and the token (the actor of every change: scimActorId). */
export interface ScimCaller {
  readonly tenantId: string;
  readonly tokenId: string;
}

export type ScimResource = Record<string, unknown> & {
  id: string;
  meta: { resourceType: 'User' | 'Group'; created: string; lastModified: string; version?: string };
};

export interface ScimList {
  totalResults: number;
  startIndex: number;
  itemsPerPage: number;
  Resources: ScimResource[];
}

export interface ListQuery {
  filter?: string;
  startIndex?: number;
  count?: number;
}

/** Page size bound (ServiceProviderConfig's filter.maxResults says the same). */
export const MAX_PAGE_SIZE = 100;

/** The largest startIndex answered as sent (a 32-bit integer, RFC 7643 §2.3.4); beyond it, the same empty page. */
export const MAX_START_INDEX = 2_147_483_647;

/** RFC 7644 §3.4.2.4: startIndex below 1 is read as 1; count defaults to the bound, negative is 0, above it the bound; nothing is refused. */
export function paging(query: ListQuery): { startIndex: number; count: number } {
  const whole = (value: number | undefined, fallback: number) =>
    value === undefined || Number.isNaN(value) ? fallback : Math.floor(value);
  return {
    startIndex: Math.min(MAX_START_INDEX, Math.max(1, whole(query.startIndex, 1))),
    count: Math.min(MAX_PAGE_SIZE, Math.max(0, whole(query.count, MAX_PAGE_SIZE))),
  };
}

/** Our ids are 32 hex digits (newId); anything else names nothing of ours, and costs no read. */
export const isOurId = (id: string) => /^[0-9a-f]{32}$/.test(id);

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An ETag as SCIM's meta.version shows it (RFC 7644 §3.14). */
export const version = (etag: string | undefined) => (etag ? { version: `W/${JSON.stringify(etag.replace(/^"|"$/g, ''))}` } : {});

/** A POST or PUT body: an object listing the resource's core schema. */
export function resourceBody(body: unknown, schema: string): Record<string, unknown> {
  if (
    !isPlainObject(body) ||
    !Array.isArray(body.schemas) ||
    !body.schemas.some((s) => typeof s === 'string' && s.toLowerCase() === schema.toLowerCase())
  ) {
    throw new ScimError(400, `the body must be a JSON object whose "schemas" lists "${schema}"`, 'invalidSyntax');
  }
  return body;
}

/** An attribute of `object` by name, ignoring case (RFC 7643 §2.1: attribute names are case-insensitive). */
export function attribute(object: Record<string, unknown>, name: string): unknown {
  if (name in object) return object[name];
  const lower = name.toLowerCase();
  const key = Object.keys(object).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : object[key];
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
export const MAX_STRING = 256;

/**
 * A string attribute: trimmed, at most `max` characters, no control characters; undefined when
 * absent, null or empty. The detail names the attribute, never the value.
 */
export function readString(value: unknown, name: string, max = MAX_STRING): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidValue(`${name} must be a string`);
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (trimmed.length > max) throw invalidValue(`${name} has at most ${max} characters`);
  if (CONTROL.test(trimmed)) throw invalidValue(`${name} must not hold control characters`);
  return trimmed;
}

/** A boolean, also as Entra sends it: the strings "True" and "False" in any case. */
export function readBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
  throw invalidValue(`${name} must be true or false`);
}

/** A ListResponse page of what is already in memory (a filter's 0 or 1 hit). */
export function listOf(found: readonly ScimResource[], query: ListQuery): ScimList {
  const { startIndex, count } = paging(query);
  const Resources = found.slice(startIndex - 1, startIndex - 1 + count);
  return { totalResults: found.length, startIndex, itemsPerPage: Resources.length, Resources };
}
