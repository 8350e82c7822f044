import type { LimitRule } from '../rate-limit.js';
import { MAX_FILTER_LENGTH } from './filter.js';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, MAX_PAGE_SIZE, USER_SCHEMA } from './resources.js';

/**
 * What a SCIM client learns before it provisions (RFC 7644 §4): the service provider's
 * configuration, the resource types and the schemas, describing only the attributes Roger keeps
 * (docs/api.md#scim). Static documents; the HTTP layer adds each one's `meta.location`.
 */

const SERVICE_PROVIDER_CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

/**
 * Requests per SCIM token: Entra ID's provisioning service sends a few per user and cycle, and
 * a first cycle of a large directory stays well below this; counted across instances (rate-limit.ts).
 */
export const SCIM_REQUEST_LIMIT: LimitRule = { limit: 1_200, windowSeconds: 60 };

type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
type AttributeType = 'string' | 'boolean' | 'complex' | 'reference';

interface Attribute {
  readonly name: string;
  readonly type: AttributeType;
  readonly multiValued: boolean;
  readonly description: string;
  readonly required: boolean;
  readonly caseExact?: boolean;
  readonly canonicalValues?: readonly string[];
  readonly referenceTypes?: readonly string[];
  readonly mutability: Mutability;
  readonly returned: 'always' | 'never' | 'default' | 'request';
  readonly uniqueness: 'none' | 'server' | 'global';
  readonly subAttributes?: readonly Attribute[];
}

/** RFC 7643 §2.2's defaults, spelt out (clients read them literally); `caseExact` only where it means something. */
function attribute(name: string, type: AttributeType, description: string, more: Partial<Attribute> = {}): Attribute {
  return {
    name,
    type,
    multiValued: false,
    description,
    required: false,
    ...(type === 'string' || type === 'reference' ? { caseExact: false } : {}),
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...more,
  };
}

const userAttributes: readonly Attribute[] = [
  attribute('userName', 'string', 'Unique within the tenant, case-insensitively; at most 254 characters. Also a sign-in name.', {
    required: true,
    uniqueness: 'server',
  }),
  attribute('name', 'complex', "The person's name.", {
    subAttributes: [
      attribute('formatted', 'string', 'The full name, as displayed.'),
      attribute('familyName', 'string', 'The family name.'),
      attribute('givenName', 'string', 'The given name.'),
    ],
  }),
  attribute('displayName', 'string', 'The name shown in Roger; it becomes the full name.'),
  attribute(
    'emails',
    'complex',
    'The primary work address (else a work one, else the primary one, else the first) becomes the sign-in email.',
    {
      multiValued: true,
      subAttributes: [
        attribute('value', 'string', 'An email address.'),
        attribute('type', 'string', 'work, home or other.', { canonicalValues: ['work', 'home', 'other'] }),
        attribute('primary', 'boolean', 'The primary address.'),
      ],
    },
  ),
  attribute(
    'active',
    'boolean',
    'false turns the account off at once: no sign-in, no refresh, no release of jobs. true turns it on again.',
  ),
];

const groupAttributes: readonly Attribute[] = [
  attribute('displayName', 'string', 'Unique within the tenant, case-insensitively; at most 256 characters.', {
    required: true,
    uniqueness: 'server',
  }),
  attribute('members', 'complex', 'Users of the tenant, at most 10,000.', {
    multiValued: true,
    subAttributes: [
      attribute('value', 'string', 'The id of a User.', { mutability: 'immutable', caseExact: true }),
      attribute('$ref', 'reference', 'Not returned.', { mutability: 'immutable', referenceTypes: ['User'], returned: 'never' }),
    ],
  }),
];

const enterpriseAttributes: readonly Attribute[] = [
  attribute('employeeNumber', 'string', 'The employee number.'),
  attribute('costCenter', 'string', 'The cost center.'),
  attribute('department', 'string', 'The department.'),
];

const SCHEMAS = [
  { id: USER_SCHEMA, name: 'User', description: 'User Account (only the attributes Roger keeps)', attributes: userAttributes },
  { id: GROUP_SCHEMA, name: 'Group', description: 'Group (only the attributes Roger keeps)', attributes: groupAttributes },
  { id: ENTERPRISE_USER_SCHEMA, name: 'EnterpriseUser', description: 'Enterprise User', attributes: enterpriseAttributes },
] as const;

const RESOURCE_TYPES = [
  {
    id: 'User',
    name: 'User',
    endpoint: '/Users',
    description: 'User Account',
    schema: USER_SCHEMA,
    schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }],
  },
  { id: 'Group', name: 'Group', endpoint: '/Groups', description: 'Group', schema: GROUP_SCHEMA, schemaExtensions: [] },
] as const;

/** A discovery document as served: its schema URN and `meta` (RFC 7643 §5-§7), located under `base` (…/scim/v2). */
const located = (base: string, path: string, resourceType: string, schema: string, body: Record<string, unknown>) => ({
  schemas: [schema],
  ...body,
  meta: { resourceType, location: `${base}/${path}` },
});

/** The limits are stated in the authentication scheme's description too: RFC 7643 has a member only for some of them. */
export function serviceProviderConfig(base: string, bodyLimitBytes: number) {
  const { limit, windowSeconds } = SCIM_REQUEST_LIMIT;
  return located(base, 'ServiceProviderConfig', 'ServiceProviderConfig', SERVICE_PROVIDER_CONFIG_SCHEMA, {
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: bodyLimitBytes },
    filter: { supported: true, maxResults: MAX_PAGE_SIZE },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'SCIM token',
        description:
          `A SCIM token an admin of the tenant created (POST /api/tenant/scim-tokens), as Authorization: Bearer. ` +
          `Limits: ${limit} requests per ${windowSeconds} seconds per token (then 429 with Retry-After); ` +
          `request bodies up to ${bodyLimitBytes} bytes; filters: one eq comparison, up to ${MAX_FILTER_LENGTH} characters; ` +
          `up to ${MAX_PAGE_SIZE} resources per page.`,
        specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
        primary: true,
      },
    ],
  });
}

export const resourceTypeIds: readonly string[] = RESOURCE_TYPES.map((type) => type.id);
export const schemaIds: readonly string[] = SCHEMAS.map((schema) => schema.id);

/** One resource type by id (`User`, `Group`; RFC 7644 §4 ids are case-sensitive), or undefined. */
export function resourceType(base: string, id: string) {
  const type = RESOURCE_TYPES.find((t) => t.id === id);
  return type && located(base, `ResourceTypes/${type.id}`, 'ResourceType', RESOURCE_TYPE_SCHEMA, { ...type });
}

/** One schema by its URN (compared case-insensitively, as URNs of this form are), or undefined. */
export function schema(base: string, id: string) {
  const found = SCHEMAS.find((s) => s.id.toLowerCase() === id.toLowerCase());
  return found && located(base, `Schemas/${found.id}`, 'Schema', SCHEMA_SCHEMA, { ...found });
}
