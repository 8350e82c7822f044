import type { HoldReason, JobOptions } from '../jobs/jobs.js';
import type { PrintRights, PrintRightsPolicy, TenantPolicy } from '../tenants/policy.js';
import type { Role } from '../users/users.js';

/**
 * Print rights at release (docs/flows.md#print-rights), as pure rules: which rights a person
 * has, and what becomes of a job's options under them. release.ts reads the tenant and the
 * person's role as stored now and applies this to each job it is about to send; the printer
 * then gets the effective options, never the asked ones.
 */

/** A person's rights and what the tenant does with a job that breaks them. */
export interface PersonRights {
  readonly rights: PrintRights;
  readonly onViolation: PrintRightsPolicy['onViolation'];
}

/** What a release does with one job's options. */
export type RightsVerdict =
  /** Send it with these options; `changed` when they differ from the job's own (a downgrade). */
  | { readonly options: JobOptions; readonly changed: boolean }
  /** Do not send it: it stays as it is, with this reason. */
  | { readonly hold: HoldReason };

/**
 * Does the person's role decide anything? Not when the tenant sets no rights, nor when the
 * person's own entry sets every right (it wins field by field). The release then needs no read
 * of the user item just for the role.
 */
export function roleMatters(policy: TenantPolicy, userId: string): boolean {
  const printRights = policy.printRights;
  if (!printRights?.roles || Object.values(printRights.roles).every((rights) => !rights || Object.keys(rights).length === 0)) return false;
  const own = printRights.users?.[userId];
  return !(own && own.color !== undefined && own.duplexForced !== undefined && own.maxCopies !== undefined);
}

/**
 * The rights of one person: their own entry over their role's, field by field (a right set in
 * neither is not limited). Undefined when the tenant sets no print rights: nothing changes.
 */
export function rightsOf(policy: TenantPolicy, userId: string, role: Role | undefined): PersonRights | undefined {
  const printRights = policy.printRights;
  if (!printRights) return undefined;
  const ofRole = role ? printRights.roles?.[role] : undefined;
  const own = printRights.users?.[userId];
  return { rights: { ...ofRole, ...definedOnly(own) }, onViolation: printRights.onViolation };
}

/** A user's entry that leaves a right out leaves the role's in place (JSON has no undefined, but typed callers might). */
function definedOnly(rights: PrintRights | undefined): PrintRights {
  return Object.fromEntries(Object.entries(rights ?? {}).filter(([, value]) => value !== undefined)) as PrintRights;
}

/**
 * A job's options under `person`'s rights. Downgrade prints it within them (colour to mono,
 * both sides, copies capped); hold keeps it back with the first right it breaks, in the order
 * of HOLD_REASONS. No rights (undefined): the options as they are.
 */
export function applyRights(person: PersonRights | undefined, options: JobOptions): RightsVerdict {
  if (!person) return { options, changed: false };
  const { rights } = person;
  const breaks: HoldReason[] = [];
  if (rights.color === false && options.color) breaks.push('color-not-allowed');
  if (rights.duplexForced === true && !options.duplex) breaks.push('duplex-required');
  if (rights.maxCopies !== undefined && options.copies > rights.maxCopies) breaks.push('too-many-copies');
  if (breaks.length === 0) return { options, changed: false };
  if (person.onViolation === 'hold') return { hold: breaks[0]! };
  return {
    options: {
      ...options,
      ...(breaks.includes('color-not-allowed') ? { color: false } : {}),
      ...(breaks.includes('duplex-required') ? { duplex: true } : {}),
      ...(breaks.includes('too-many-copies') ? { copies: rights.maxCopies! } : {}),
    },
    changed: true,
  };
}
