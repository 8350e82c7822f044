import { Type, type Static } from '@sinclair/typebox';

/** Tenant policy (SPEC §3.10); admins change it in a later slice, the operator may seed it. */
export const TenantPolicySchema = Type.Object(
  {
    jobRetentionDays: Type.Integer({ minimum: 1, maximum: 90 }),
    pinMinLength: Type.Integer({ minimum: 4, maximum: 12 }),
    passwordMinLength: Type.Integer({ minimum: 8, maximum: 64 }),
    lockoutThreshold: Type.Integer({ minimum: 3, maximum: 20, description: 'Failed attempts before a lock.' }),
    lockoutSeconds: Type.Integer({
      minimum: 1,
      maximum: 86400,
      description: 'First lock; each further lock doubles it (capped at a day).',
    }),
    loginHistoryKeepsIp: Type.Boolean(),
    allowedLoginMethods: Type.Array(Type.Union([Type.Literal('qr'), Type.Literal('pin')]), { uniqueItems: true }),
  },
  { additionalProperties: false },
);
export type TenantPolicy = Static<typeof TenantPolicySchema>;

export const defaultTenantPolicy: TenantPolicy = {
  jobRetentionDays: 7,
  pinMinLength: 4,
  passwordMinLength: 8,
  lockoutThreshold: 5,
  lockoutSeconds: 60,
  loginHistoryKeepsIp: false,
  allowedLoginMethods: ['qr', 'pin'],
};

/** How long the n-th consecutive lock lasts (n from 0): doubling, at most a day. */
export function lockDurationSeconds(policy: TenantPolicy, previousLocks: number): number {
  return Math.min(86400, policy.lockoutSeconds * 2 ** Math.min(previousLocks, 20));
}
