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
}

export const containerSpecs = {
  /** slug → home region and tenant id. Item `{ id: slug, region, tenantId }`: nothing personal. */
  tenantDirectory: { id: 'tenantDirectory', account: 'directory', partitionKeyPath: '/id' },
  /** One item per tenant: name, slug, policy. */
  tenants: { id: 'tenants', account: 'regional', partitionKeyPath: '/id' },
  /**
   * Users, printers, login-name look-ups, OneDrive links and scan profiles of one tenant share
   * its partition, so every request of a tenant's caller touches exactly one partition, keyed
   * by the token's `tid`.
   */
  accounts: { id: 'accounts', account: 'regional', partitionKeyPath: '/tenantId' },
  /** RFC 8628 device codes and their user-code look-ups, and pending OneDrive consents; short-lived, item TTL. */
  deviceCodes: { id: 'deviceCodes', account: 'regional', partitionKeyPath: '/id', defaultTtl: -1 },
  /**
   * Print jobs, one partition per user (`pk` = `<tenantId>|<userId>`): a user's list, a
   * release of their queued jobs and their erasure each touch exactly one partition. Items
   * carry their own TTL (the tenant's retention); expiry is checked in code too.
   */
  jobs: { id: 'jobs', account: 'regional', partitionKeyPath: '/pk', defaultTtl: -1 },
  /** Scans: the time and the tenant, nothing else (docs/data.md#scans-scans); item TTL (the tenant's retention). */
  scans: { id: 'scans', account: 'regional', partitionKeyPath: '/tenantId', defaultTtl: -1 },
  /** The tenant's audit log of admin actions: ids, actions, times; item TTL (a year). */
  audit: { id: 'audit', account: 'regional', partitionKeyPath: '/tenantId', defaultTtl: -1 },
  /** Fixed-window counters for rate limits, and the sign-in decoy (users/sign-in-decoy.ts); item TTL. */
  rateLimits: { id: 'rateLimits', account: 'regional', partitionKeyPath: '/id', defaultTtl: -1 },
} as const satisfies Record<string, ContainerSpec>;

export type ContainerName = keyof typeof containerSpecs;
