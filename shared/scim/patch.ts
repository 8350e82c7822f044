import type { ScimPatchOperation } from 'scim-patch';
import { ScimError } from './errors.js';

/**
 * SCIM PATCH (RFC 7644 §3.5.2) applied to a resource as we show it, by the `scim-patch` library:
 * path parsing, value filters (`emails[type eq "work"].value`), multi-valued add and remove. What
 * is done here is only what identity providers send that the library does not take as is
 * (docs/provisioning.md#what-entra-sends):
 *  - an operation without `path` whose value object names attributes by path (`name.givenName`)
 *    or holds an extension's attributes under its schema URN: each becomes an operation of its own,
 *    so that replacing one attribute of an extension leaves its others alone;
 *  - operation names in any case (`Replace`, `Add`): lower-cased;
 *  - attribute names in any case (RFC 7643 §2.1: `ACTIVE`, `name.GivenName`, the enterprise URN
 *    and its attributes), and core attributes qualified by their schema URN (RFC 7644 §3.10):
 *    rewritten to our names, as are the keys of a complex value, since the library would
 *    otherwise write `Active` beside `active` and the change would be lost.
 * The caller turns the patched resource back into what it keeps, reading the values (a boolean
 * sent as the string "False") in its own terms; attributes it does not keep are dropped there.
 */
export const PATCH_OP_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** Operations in one PATCH: Entra sends a handful; a group's member batches are one operation each. */
export const MAX_PATCH_OPERATIONS = 100;

/** Attributes a client may never write (RFC 7643 §3.1, §4.1.3: readOnly). */
const READ_ONLY = /^(id|meta|groups)(\.|\[|$)/i;
const SCHEMA_URN = /^urn:[^\s]+$/i;

export interface PatchRequest {
  readonly schemas: readonly string[];
  readonly Operations: readonly { readonly op: string; readonly path?: string; readonly value?: unknown }[];
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const CORE_URNS = ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:core:2.0:Group'];

const byLowerCase = (names: readonly string[]) => new Map(names.map((name) => [name.toLowerCase(), name]));
/** The attributes of users and groups as we name them; anything else is left as sent (and dropped by the reader). */
const ATTRIBUTES = byLowerCase([
  'id',
  'meta',
  'groups',
  'schemas',
  'userName',
  'name',
  'displayName',
  'emails',
  'active',
  'externalId',
  'members',
]);
const SUB_ATTRIBUTES: Record<string, Map<string, string>> = {
  name: byLowerCase(['givenName', 'familyName', 'formatted']),
  emails: byLowerCase(['value', 'type', 'primary']),
  members: byLowerCase(['value', 'display', '$ref', 'type']),
  [ENTERPRISE_URN]: byLowerCase(['employeeNumber', 'department', 'costCenter', 'manager']),
};
const named = (names: Map<string, string> | undefined, name: string) => names?.get(name.toLowerCase()) ?? name;

/** Strips a core schema URN from a fully qualified path (`urn:…:core:2.0:User:userName` → `userName`). */
function unqualified(path: string): string {
  const lower = path.toLowerCase();
  const urn = CORE_URNS.find((u) => lower.startsWith(`${u.toLowerCase()}:`));
  return urn ? path.slice(urn.length + 1) : path;
}

/** A path with its attribute names as ours: `ACTIVE` → `active`, `Emails[type eq "work"].Value` → `emails[type eq "work"].value`. */
export function canonicalPath(raw: string): string {
  const path = unqualified(raw.trim());
  const lower = path.toLowerCase();
  const enterprise = ENTERPRISE_URN.toLowerCase();
  if (lower === enterprise) return ENTERPRISE_URN;
  if (lower.startsWith(`${enterprise}:`)) {
    const rest = path.slice(enterprise.length + 1);
    const [, attribute = '', tail = ''] = /^([^.[]*)(.*)$/s.exec(rest) ?? [];
    return `${ENTERPRISE_URN}:${named(SUB_ATTRIBUTES[ENTERPRISE_URN], attribute)}${tail}`;
  }
  const [, head = '', tail = ''] = /^([^.[]*)(.*)$/s.exec(path) ?? [];
  const attribute = named(ATTRIBUTES, head);
  // The value filter (`[type eq "work"]`) is left as sent; the sub-attribute after it, or after a dot, is ours.
  const subAttribute = /^((?:\[[^\]]*\])?\.)([^.[]+)$/s.exec(tail);
  return subAttribute ? `${attribute}${subAttribute[1]}${named(SUB_ATTRIBUTES[attribute], subAttribute[2]!)}` : `${attribute}${tail}`;
}

/** A complex value's keys as ours (`{"GivenName": …}` under `name`, each of `emails`' entries). */
function canonicalValue(path: string, value: unknown): unknown {
  const subAttributes = SUB_ATTRIBUTES[path];
  if (!subAttributes) return value;
  const keys = (object: unknown) =>
    isPlainObject(object) ? Object.fromEntries(Object.entries(object).map(([key, inner]) => [named(subAttributes, key), inner])) : object;
  return Array.isArray(value) ? value.map(keys) : keys(value);
}

/** The request body checked and its operations in the library's terms; 400 invalidSyntax / invalidValue otherwise. */
export function patchOperations(body: unknown): ScimPatchOperation[] {
  if (!isPlainObject(body) || !Array.isArray(body.schemas) || !body.schemas.includes(PATCH_OP_SCHEMA)) {
    throw new ScimError(400, `a PATCH body is a PatchOp message: "schemas": ["${PATCH_OP_SCHEMA}"]`, 'invalidSyntax');
  }
  const operations = body.Operations;
  if (!Array.isArray(operations) || operations.length === 0) {
    throw new ScimError(400, 'a PATCH body needs a non-empty "Operations" array', 'invalidSyntax');
  }
  if (operations.length > MAX_PATCH_OPERATIONS) {
    throw new ScimError(400, `at most ${MAX_PATCH_OPERATIONS} operations in one PATCH`, 'invalidValue');
  }
  return operations.flatMap((operation: unknown, index: number) => expand(operation, index));
}

function expand(operation: unknown, index: number): ScimPatchOperation[] {
  if (!isPlainObject(operation) || typeof operation.op !== 'string') {
    throw new ScimError(400, `operation ${index + 1} needs an "op"`, 'invalidSyntax');
  }
  const op = operation.op.toLowerCase();
  if (op !== 'add' && op !== 'replace' && op !== 'remove') {
    throw new ScimError(400, `operation ${index + 1}: "op" is add, replace or remove`, 'invalidSyntax');
  }
  const { path, value } = operation;
  if (path !== undefined && (typeof path !== 'string' || path.trim() === '' || path.length > 300)) {
    throw new ScimError(400, `operation ${index + 1}: "path" must be a non-empty attribute path`, 'invalidPath');
  }
  if (typeof path === 'string') {
    const ours = canonicalPath(path);
    checkWritable(ours, index);
    const kept = canonicalValue(ours, value);
    return [
      op === 'remove' ? { op, path: ours, ...(value === undefined ? {} : { value: kept }) } : { op, path: ours, value: kept },
    ] as ScimPatchOperation[];
  }
  if (op === 'remove') throw new ScimError(400, `operation ${index + 1}: remove needs a "path"`, 'noTarget');
  if (!isPlainObject(value)) {
    throw new ScimError(400, `operation ${index + 1}: without a "path", "value" is an object of attributes`, 'invalidValue');
  }
  return Object.entries(value).flatMap(([key, inner]) => {
    if (CORE_URNS.some((urn) => urn.toLowerCase() === key.toLowerCase()) && isPlainObject(inner)) {
      // Core attributes under their schema's URN: each as if sent on its own.
      return Object.entries(inner).map(([attribute, v]) => pathed(op, attribute, v, index));
    }
    if (SCHEMA_URN.test(key) && isPlainObject(inner) && !/:(User|Group):/i.test(key)) {
      // An extension's attributes, each replaced or added on its own.
      return Object.entries(inner).map(([attribute, v]) => pathed(op, `${key}:${attribute}`, v, index));
    }
    return [pathed(op, key, inner, index)];
  });
}

function pathed(op: 'add' | 'replace', path: string, value: unknown, index: number): ScimPatchOperation {
  const ours = canonicalPath(path);
  checkWritable(ours, index);
  return { op, path: ours, value: canonicalValue(ours, value) } as ScimPatchOperation;
}

function checkWritable(path: string, index: number) {
  if (READ_ONLY.test(path.trim())) throw new ScimError(400, `operation ${index + 1}: ${path.split(/[.[]/)[0]} is read-only`, 'mutability');
}

/**
 * The library, loaded with the first PATCH rather than with the app (it is not needed to start,
 * and most instances never see a PATCH; docs/architecture.md). Loaded once: the promise is kept.
 */
let library: Promise<typeof import('scim-patch')> | undefined;
const loadLibrary = () => (library ??= import('scim-patch'));

/** The resource with the operations applied (a copy); the library's refusals as SCIM errors. */
export async function applyPatch<T extends { schemas: string[] }>(resource: T, operations: readonly ScimPatchOperation[]): Promise<T> {
  const { scimPatch } = await loadLibrary();
  try {
    return scimPatch(structuredClone(resource) as never, [...operations]) as unknown as T;
  } catch (error) {
    const scimType = (error as { scimCode?: unknown }).scimCode;
    const known = ['invalidPath', 'noTarget', 'invalidValue', 'invalidSyntax', 'mutability'] as const;
    const type = known.find((t) => t === scimType) ?? 'invalidValue';
    // The library's message quotes values; say only which kind of error it was.
    throw new ScimError(400, `the PATCH cannot be applied (${type})`, type);
  }
}
