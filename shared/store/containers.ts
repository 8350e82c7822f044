/**
 * Every Cosmos DB container the app uses: one list for the code, the local server's
 * provisioning and the Bicep templates (through infra/app-contract.json, checked for drift), so
 * the three cannot disagree.
 *
 * Partition keys are single paths: the local server ignores all but the first path of a
 * hierarchical key, so prefix queries would leak there while passing tests.
 */
export interface ContainerSpec {
  readonly id: string;
  /** Which account holds it: the region's, or the global tenant directory's. */
  readonly account: 'regional' | 'directory';
  readonly partitionKeyPath: string;
  /** Default TTL in seconds; -1 = items carry their own `ttl`. Expiry is checked in code too. */
  readonly defaultTtl?: number;
  /**
   * What Cosmos DB indexes: see `indexOnly`. Every container of the app has one (a test checks);
   * the templates apply it; the local server reads only its composite indexes.
   */
  readonly indexingPolicy?: IndexingPolicy;
}

/** A Cosmos DB for NoSQL indexing policy, as the container resource takes it. */
export interface IndexingPolicy {
  readonly indexingMode: 'consistent';
  readonly automatic: true;
  readonly includedPaths: readonly { readonly path: string }[];
  readonly excludedPaths: readonly { readonly path: string }[];
  /**
   * Indexes on several paths at once, for a query that filters on one path and sorts on another
   * (`c.action = @a ORDER BY c.action, c.at DESC`): Cosmos then reads the matching items in order
   * from the index instead of walking the whole sort order and testing each item.
   */
  readonly compositeIndexes?: readonly (readonly { readonly path: string; readonly order: 'ascending' | 'descending' }[])[];
}

/**
 * Index only the paths the app's queries filter or sort on (docs/data.md#indexing): everything
 * else (`/*`) is excluded, so a write pays for these paths only. Point reads need no index, and
 * `id` and `_ts` are indexed whatever the policy says. A scalar path is `/field/?`; the elements
 * of an array are `/field/[]/?`. Consistent: a query sees every write before it.
 * tests/infra/indexing-policy.test.ts fails when a query names a path that is not here.
 */
export function indexOnly(...paths: string[]): IndexingPolicy {
  return { indexingMode: 'consistent', automatic: true, includedPaths: paths.map((path) => ({ path })), excludedPaths: [{ path: '/*' }] };
}

export const containerSpecs = {
  /** slug → home region and tenant id. Item `{ id: slug, region, tenantId }`: nothing personal. Point reads only. */
  tenantDirectory: { id: 'tenantDirectory', account: 'directory', partitionKeyPath: '/id', indexingPolicy: indexOnly() },
  /** One item per tenant: name, slug, policy. Point reads only. */
  tenants: { id: 'tenants', account: 'regional', partitionKeyPath: '/id', indexingPolicy: indexOnly() },
  /**
   * Users, printers, login-name look-ups, login records, OneDrive links and scan profiles of one
   * tenant share its partition, so every request of a tenant's caller touches exactly one
   * partition, keyed by the token's `tid`. Queried: users by name and text, the admin roster,
   * printers and scan profiles by name, login names and scan profiles naming a user (erasure), a
   * user's login records newest first (`at`). Login records carry their own TTL (the tenant's
   * login history days, docs/data.md#login-records); every other item has none and stays.
   */
  accounts: {
    id: 'accounts',
    account: 'regional',
    partitionKeyPath: '/tenantId',
    defaultTtl: -1,
    indexingPolicy: indexOnly(
      '/tenantId/?',
      '/type/?',
      '/username/?',
      '/email/?',
      '/fullName/?',
      '/role/?',
      '/name/?',
      '/userId/?',
      '/userIds/[]/?',
      '/at/?',
    ),
  },
  /**
   * RFC 8628 device codes and their user-code look-ups, and pending OneDrive consents;
   * short-lived, item TTL. Queried across partitions only for a user's export and erasure.
   */
  deviceCodes: {
    id: 'deviceCodes',
    account: 'regional',
    partitionKeyPath: '/id',
    defaultTtl: -1,
    indexingPolicy: indexOnly('/tenantId/?', '/subjectId/?', '/userId/?'),
  },
  /**
   * Print jobs, one partition per user (`pk` = `<tenantId>|<userId>`): a user's list, a
   * release of their queued jobs and their erasure each touch exactly one partition. Items
   * carry their own TTL (the tenant's retention); expiry is checked in code too.
   */
  jobs: {
    id: 'jobs',
    account: 'regional',
    partitionKeyPath: '/pk',
    defaultTtl: -1,
    // `updatedAt`, `cleanup.due` and `usagePending`: the after-print sweep's queries; `onedrive.itemId`:
    // whether another job prints the same file before it is cleaned up (shared/jobs/after-print.ts).
    indexingPolicy: indexOnly(
      '/pk/?',
      '/type/?',
      '/state/?',
      '/expiresAt/?',
      '/createdAt/?',
      '/updatedAt/?',
      '/cleanup/due/?',
      '/usagePending/?',
      '/onedrive/itemId/?',
    ),
  },
  /** Scans: the time and the tenant, nothing else (docs/data.md#scans-scans); item TTL (the tenant's retention). Written, never queried. */
  scans: { id: 'scans', account: 'regional', partitionKeyPath: '/tenantId', defaultTtl: -1, indexingPolicy: indexOnly() },
  /** The tenant's audit log of admin actions: ids, actions, times; item TTL (a year). Listed newest first, by action and time; searched by user at erasure. */
  audit: {
    id: 'audit',
    account: 'regional',
    partitionKeyPath: '/tenantId',
    defaultTtl: -1,
    indexingPolicy: {
      ...indexOnly('/tenantId/?', '/at/?', '/action/?', '/actorId/?', '/targetId/?'),
      // One action, newest first (shared/audit/audit.ts listAudit).
      compositeIndexes: [
        [
          { path: '/action', order: 'ascending' },
          { path: '/at', order: 'descending' },
        ],
      ],
    },
  },
  /**
   * Usage aggregates (docs/data.md#usage-aggregates): one item per tenant and UTC day, counters by
   * user and by printer, changed only by patch `incr`; item TTL (USAGE_RETENTION_DAYS). Queried by
   * tenant and day range (reports, own totals), and all of a tenant's days at export and erasure.
   */
  usage: {
    id: 'usage',
    account: 'regional',
    partitionKeyPath: '/tenantId',
    defaultTtl: -1,
    indexingPolicy: indexOnly('/tenantId/?', '/day/?'),
  },
  /** Fixed-window counters for rate limits, and the sign-in decoy (users/sign-in-decoy.ts); item TTL. Point reads only. */
  rateLimits: { id: 'rateLimits', account: 'regional', partitionKeyPath: '/id', defaultTtl: -1, indexingPolicy: indexOnly() },
} as const satisfies Record<string, ContainerSpec>;

export type ContainerName = keyof typeof containerSpecs;
