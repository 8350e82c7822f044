import { parse, type Filter } from 'scim2-parse-filter';
import { ScimError } from './errors.js';

/**
 * The filters we answer (RFC 7644 §3.4.2.2), each by point reads: one comparison with `eq` on
 * an attribute that names at most one resource through a look-up item. That is what identity
 * providers send (Entra: `userName eq "…"` before every create, `externalId eq "…"`,
 * `displayName eq "…"` for groups). Everything else is refused with 400 invalidFilter rather
 * than answered by a scan of the tenant. Parsing is the `scim2-parse-filter` library's.
 */
export const MAX_FILTER_LENGTH = 512;

export interface Equality<A extends string> {
  readonly attribute: A;
  readonly value: string;
}

const USER_PREFIX = 'urn:ietf:params:scim:schemas:core:2.0:user:';
const GROUP_PREFIX = 'urn:ietf:params:scim:schemas:core:2.0:group:';

/** Attribute names ignore case and may carry their schema's URN (RFC 7644 §3.10). */
const attributeName = (path: string) => {
  const lower = path.toLowerCase();
  for (const prefix of [USER_PREFIX, GROUP_PREFIX]) if (lower.startsWith(prefix)) return lower.slice(prefix.length);
  return lower;
};

function parsed(filter: string, supported: string): Filter {
  if (filter.length > MAX_FILTER_LENGTH)
    throw new ScimError(400, `a filter has at most ${MAX_FILTER_LENGTH} characters; supported: ${supported}`, 'invalidFilter');
  try {
    return parse(filter);
  } catch {
    throw new ScimError(400, `the filter cannot be parsed; supported: ${supported}`, 'invalidFilter');
  }
}

const stringEq = (filter: Filter): { attribute: string; value: string } | undefined =>
  filter.op === 'eq' && 'compValue' in filter && typeof filter.compValue === 'string'
    ? { attribute: attributeName(filter.attrPath), value: filter.compValue }
    : undefined;

export type UserFilterAttribute = 'userName' | 'externalId' | 'email' | 'id';
export const SUPPORTED_USER_FILTERS =
  'userName eq "…", externalId eq "…", emails[type eq "work"].value eq "…", emails.value eq "…", id eq "…"';

/** A Users filter as the one look-up it asks for; 400 invalidFilter for any other. */
export function userFilter(filter: string): Equality<UserFilterAttribute> {
  const ast = parsed(filter, SUPPORTED_USER_FILTERS);
  const refuse = () => new ScimError(400, `unsupported filter; supported: ${SUPPORTED_USER_FILTERS}`, 'invalidFilter');
  // The library reads `emails[type eq "work"].value eq "x"` as a value path and a comparison joined by `and`.
  if (ast.op === 'and' && 'filters' in ast && ast.filters.length === 2) {
    const [path, comparison] = ast.filters as [Filter, Filter];
    const type =
      path.op === '[]' && 'valFilter' in path && attributeName(path.attrPath) === 'emails' ? stringEq(path.valFilter) : undefined;
    const email = stringEq(comparison);
    if (type?.attribute === 'type' && type.value.toLowerCase() === 'work' && email?.attribute === 'emails.value') {
      return { attribute: 'email', value: email.value };
    }
    throw refuse();
  }
  const eq = stringEq(ast);
  switch (eq?.attribute) {
    case 'username':
      return { attribute: 'userName', value: eq.value };
    case 'externalid':
      return { attribute: 'externalId', value: eq.value };
    case 'emails.value':
      return { attribute: 'email', value: eq.value };
    case 'id':
      return { attribute: 'id', value: eq.value };
    default:
      throw refuse();
  }
}

export type GroupFilterAttribute = 'displayName' | 'externalId' | 'id';
export const SUPPORTED_GROUP_FILTERS = 'displayName eq "…", externalId eq "…", id eq "…"';

/** A Groups filter as the one comparison it asks for; 400 invalidFilter for any other. */
export function groupFilter(filter: string): Equality<GroupFilterAttribute> {
  const eq = stringEq(parsed(filter, SUPPORTED_GROUP_FILTERS));
  switch (eq?.attribute) {
    case 'displayname':
      return { attribute: 'displayName', value: eq.value };
    case 'externalid':
      return { attribute: 'externalId', value: eq.value };
    case 'id':
      return { attribute: 'id', value: eq.value };
    default:
      throw new ScimError(400, `unsupported filter; supported: ${SUPPORTED_GROUP_FILTERS}`, 'invalidFilter');
  }
}
