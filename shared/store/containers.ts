/**
 * Every Cosmos DB container the app uses: one list for the code, the local server's
 * provisioning and (later) the Bicep templates, so the three cannot disagree.
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
  /** slug → home region. Item `{ id: slug, region }`: nothing personal, nothing else. */
  tenantDirectory: { id: 'tenantDirectory', account: 'directory', partitionKeyPath: '/id' },
} as const satisfies Record<string, ContainerSpec>;

export type ContainerName = keyof typeof containerSpecs;
