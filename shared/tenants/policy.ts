import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from '../string-enum.js';

/** What happens to a job's OneDrive file after printing (docs/flows.md#after-printing). */
export const AFTER_PRINT = ['keep', 'delete', 'move'] as const;
export type AfterPrint = (typeof AFTER_PRINT)[number];

/**
 * What one person may print (docs/flows.md#print-rights). A right left out is not limited:
 * colour allowed, duplex not forced, any number of copies.
 */
export const PrintRightsSchema = Type.Object(
  {
    color: Type.Optional(Type.Boolean({ description: 'Colour allowed (false: mono only).' })),
    duplexForced: Type.Optional(Type.Boolean({ description: 'Always print on both sides.' })),
    maxCopies: Type.Optional(Type.Integer({ minimum: 1, maximum: 999, description: 'Most copies of one job.' })),
  },
  { additionalProperties: false },
);
export type PrintRights = Static<typeof PrintRightsSchema>;

/** Print rights per role, and per user (a user's entry wins over their role's, field by field). */
export const PrintRightsPolicySchema = Type.Object(
  {
    onViolation: StringEnum(['downgrade', 'hold'], {
      description:
        '`downgrade`: a job that breaks a right is printed within it (mono, duplex, fewer copies); `hold`: it stays queued with the reason.',
    }),
    roles: Type.Optional(
      Type.Object({ user: Type.Optional(PrintRightsSchema), admin: Type.Optional(PrintRightsSchema) }, { additionalProperties: false }),
    ),
    users: Type.Optional(
      Type.Record(Type.String({ pattern: '^[0-9a-f]{32}$' }), PrintRightsSchema, {
        maxProperties: 500,
        description: 'Rights of single users, by user id.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type PrintRightsPolicy = Static<typeof PrintRightsPolicySchema>;

/** Tenant policy (docs/flows.md#administration): the operator may seed it at creation; admins change it (`PATCH /api/tenant`). */
export const TenantPolicySchema = Type.Object(
  {
    jobRetentionDays: Type.Integer({ minimum: 1, maximum: 90 }),
    jobRetentionHours: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 2160,
        description:
          'Keep print jobs this many hours (1 to 2160) instead of `jobRetentionDays`. Setting `jobRetentionDays` alone removes it.',
      }),
    ),
    afterPrint: StringEnum(AFTER_PRINT, {
      description:
        'What happens to the file in the user’s OneDrive once its job is printed, cancelled or expired: `keep` it, `delete` it (to the OneDrive recycle bin) or `move` it to Print/Printed.',
    }),
    printRights: Type.Optional(PrintRightsPolicySchema),
    pinMinLength: Type.Integer({ minimum: 4, maximum: 12 }),
    pinDensity: Type.Number({
      exclusiveMinimum: 0,
      maximum: 0.1,
      description:
        'Largest share of the PIN space the tenant’s users may fill: PINs the server generates get longer as users are added (0.001 = one PIN in a thousand taken).',
    }),
    passwordMinLength: Type.Integer({ minimum: 8, maximum: 64 }),
    passwordNeedsLetterAndDigit: Type.Boolean({ description: 'Passwords must hold at least one letter and one digit.' }),
    lockoutThreshold: Type.Integer({ minimum: 3, maximum: 20, description: 'Failed attempts before a lock.' }),
    lockoutSeconds: Type.Integer({
      minimum: 1,
      maximum: 86400,
      description: 'First lock; each further lock doubles it (capped at a day).',
    }),
    loginHistoryKeepsIp: Type.Boolean(),
    loginHistoryDays: Type.Integer({ minimum: 1, maximum: 365, description: 'Sign-ins older than this are not kept.' }),
    allowedLoginMethods: Type.Array(StringEnum(['qr', 'pin', 'password']), {
      uniqueItems: true,
      maxItems: 3,
      description:
        'How people may sign in at a printer: `qr` (approve the panel’s code in the app), `pin`, `password` (typed at the panel). Leaving out both `pin` and `password` turns typed sign-in at printers off, whatever is typed.',
    }),
    printerFailedSignInLimit: Type.Integer({
      minimum: 5,
      maximum: 1000,
      description:
        'Failed PIN or password sign-ins one printer may see in 15 minutes before it must wait (a spray of common PINs across many users).',
    }),
    signInMethods: Type.Optional(
      Type.Array(StringEnum(['microsoft', 'password']), {
        uniqueItems: true,
        minItems: 1,
        maxItems: 2,
        description:
          'How people sign in to the apps (the sign-in page, the mobile app): `microsoft` (their Microsoft Entra ID account) and/or `password` (a Roger password). Unset: `microsoft` once the tenant is connected to Microsoft Entra ID, else `password`. Printers are unaffected (`allowedLoginMethods`).',
      }),
    ),
    entraAdminGroupId: Type.Optional(
      Type.String({
        format: 'uuid',
        description:
          'A Microsoft Entra ID group (object id) whose members are Roger admins, besides those holding the `Roger.Admin` app role. Read at every Microsoft sign-in and refresh.',
      }),
    ),
    badgeSignIn: StringEnum(['off', 'badge', 'badge+pin'], {
      description:
        'Sign-in at printers with an ID badge (docs/flows.md#badge-sign-in): `off`, `badge` (the badge alone), or `badge+pin` (the badge and the person’s PIN, which counts toward lockout).',
    }),
    pinOnly: Type.Boolean({
      description:
        'Sign-in at printers with a PIN alone, no username (docs/flows.md#pin-only-sign-in). Refused unless PINs are long enough for the number of users.',
    }),
    jitProvisioning: Type.Boolean({
      description:
        'Create a Roger user at a person’s first Microsoft sign-in (from a connected Entra tenant). Off: only users provisioned beforehand may sign in.',
    }),
  },
  { additionalProperties: false },
);
export type TenantPolicy = Static<typeof TenantPolicySchema>;

export const defaultTenantPolicy: TenantPolicy = {
  jobRetentionDays: 7,
  afterPrint: 'keep',
  pinMinLength: 4,
  pinDensity: 0.001,
  passwordMinLength: 8,
  passwordNeedsLetterAndDigit: false,
  lockoutThreshold: 5,
  lockoutSeconds: 60,
  loginHistoryKeepsIp: false,
  loginHistoryDays: 90,
  allowedLoginMethods: ['qr', 'pin', 'password'],
  printerFailedSignInLimit: 30,
  jitProvisioning: true,
  badgeSignIn: 'off',
  pinOnly: false,
};

/** How long the n-th consecutive lock lasts (n from 0): doubling, at most a day. */
export function lockDurationSeconds(policy: TenantPolicy, previousLocks: number): number {
  return Math.min(86400, policy.lockoutSeconds * 2 ** Math.min(previousLocks, 20));
}

/**
 * Length of a PIN the server generates for a tenant with `users` users: the policy's minimum,
 * longer while the users would fill more than `pinDensity` of the PIN space (a guessed PIN
 * then rarely belongs to anyone).
 */
export function generatedPinLength(policy: TenantPolicy, users: number): number {
  let length = policy.pinMinLength;
  while (length < 12 && Math.max(users, 1) / 10 ** length > policy.pinDensity) length += 1;
  return length;
}

/**
 * What a secret typed at a printer is checked as. The policy decides, not the secret's shape:
 * with only one of PIN and password allowed, every secret is checked as that one (an all-digit
 * secret is no way around a tenant that allows only passwords, nor a letter in it around one
 * that allows only PINs); with both, digits only means a PIN (passwords are 8+ characters and
 * a tenant may demand a letter). Undefined: typed sign-in at printers is off.
 */
export function printerSecretKind(policy: TenantPolicy, secret: string): 'pin' | 'password' | undefined {
  const pin = policy.allowedLoginMethods.includes('pin');
  const password = policy.allowedLoginMethods.includes('password');
  if (pin && password) return /^[0-9]+$/.test(secret) ? 'pin' : 'password';
  return pin ? 'pin' : password ? 'password' : undefined;
}

/** May users start a session at a printer by scanning its QR code (approving its user code)? */
export const qrSessionsAllowed = (policy: TenantPolicy) => policy.allowedLoginMethods.includes('qr');

/** How long a job is kept, in hours: `jobRetentionHours` when set, else `jobRetentionDays`. */
export const jobRetentionHours = (policy: TenantPolicy) => policy.jobRetentionHours ?? policy.jobRetentionDays * 24;
