/**
 * The names of the metrics the app emits, the keys of their attributes and the values those take.
 * Azure Monitor alerts query these names in the `customMetrics` table and the attribute keys in its
 * `customDimensions` (infra/), so a rename here is a rename there too; tests check both against
 * these lists (docs/operations.md#telemetry).
 */
export const metricNames = {
  /** Sign-in attempts; attributes `method` and `outcome`. */
  signIns: 'roger.sign_ins',
  /** Locks that began: an account locked, a printer's or an address's failed sign-ins over their limit; attribute `scope`. */
  lockouts: 'roger.lockouts',
  /** A rotated refresh token presented again: its family was revoked. */
  refreshReuse: 'roger.refresh_reuse',
  /** Release operations (one per release request that reached the planner). */
  releases: 'roger.releases',
  /** Messages sent to printers over Service Bus. */
  messagesSent: 'roger.messages_sent',
  /** Responses the app answered with 429 or 503; attribute `status`. */
  refusals: 'roger.refusals',
} as const;

export type MetricName = (typeof metricNames)[keyof typeof metricNames];

/** The keys of the metrics' attributes; Application Insights files each under `customDimensions.<key>`. */
export const attributeKeys = {
  method: 'method',
  outcome: 'outcome',
  scope: 'scope',
  status: 'status',
} as const;

export type AttributeKey = (typeof attributeKeys)[keyof typeof attributeKeys];

/** The attributes each metric carries. */
export const metricAttributes: Readonly<Record<keyof typeof metricNames, readonly AttributeKey[]>> = {
  signIns: [attributeKeys.method, attributeKeys.outcome],
  lockouts: [attributeKeys.scope],
  refreshReuse: [],
  releases: [],
  messagesSent: [],
  refusals: [attributeKeys.status],
};

/** How someone signed in: `qr` approves a printer's session code, `device_code` redeems an approved code, `refresh` a refresh token, `badge` an ID badge at a printer. */
export const signInMethods = ['qr', 'pin', 'password', 'device_code', 'refresh', 'authorization_code', 'badge'] as const;
export type SignInMethod = (typeof signInMethods)[number];

export const signInOutcomes = ['success', 'failure', 'locked', 'rate_limited'] as const;
export type SignInOutcome = (typeof signInOutcomes)[number];

/** What a lock applies to: one account, one printer's failed sign-ins, one client address's failed sign-ins. */
export const lockoutScopes = ['user', 'printer', 'address'] as const;
export type LockoutScope = (typeof lockoutScopes)[number];

export const refusalStatuses = [429, 503] as const;
export type RefusalStatus = (typeof refusalStatuses)[number];
