import type { PatchOperation } from '@azure/cosmos';
import { isConflict, isNotFound, isPreconditionFailed } from '../store/cosmos-errors.js';
import type { Store } from '../store/store.js';
import { releaseTopicSpec, shardedReleaseTopics } from './messaging.js';

/**
 * Which release topic a new printer subscribes to (docs/flows.md#release-to-printers): the first
 * of `releases-00 … releases-NN` holding fewer than `capacity` printers. The counts live in one
 * small item of the region (docs/data.md#release-topic-allocation), and a place is taken with a
 * conditional patch — increment only while under capacity — which Cosmos DB applies atomically:
 * enrollments racing on any number of instances never put more than `capacity` printers on a
 * topic, and none waits for another (a loser of the last place moves on to the next topic).
 *
 * Cost: a point read and a patch per enrollment; a patch more per topic lost in a race, and a
 * create on the region's first enrollment. Giving a place back (disconnection, a failed
 * enrollment) is one patch.
 */

/** In the `tenants` container (partition key `/id`): tenant ids are random and never this. */
export const TOPIC_ALLOCATION_ID = 'release-topic-allocation';

export interface TopicAllocationDoc {
  readonly id: typeof TOPIC_ALLOCATION_ID;
  readonly type: 'releaseTopicAllocation';
  /** Printers given each topic and not yet disconnected (a topic Service Bus found full: `capacity`). */
  readonly counts: Readonly<Record<string, number>>;
}

export interface TopicLimits {
  /** RELEASE_TOPIC_COUNT */
  readonly count: number;
  /** RELEASE_TOPIC_CAPACITY */
  readonly capacity: number;
}

const allocation = (store: Store) => store.container('tenants').item(TOPIC_ALLOCATION_ID, TOPIC_ALLOCATION_ID);

/** Lower-case names only: the local Cosmos server lower-cases a patch condition before it runs it. */
const countOf = (topic: string) => `c.counts["${topic}"]`;

/**
 * Takes a place on the first topic under capacity, skipping `skip` (topics Service Bus refused in
 * this enrollment). Undefined when every topic is full.
 */
export async function reserveReleaseTopic(
  store: Store,
  limits: TopicLimits,
  skip: ReadonlySet<string> = new Set(),
): Promise<string | undefined> {
  const { resource } = await allocation(store).read<TopicAllocationDoc>();
  if (!resource) await createAllocation(store);
  const counts = resource?.counts ?? {};
  for (const topic of shardedReleaseTopics(limits.count)) {
    if (skip.has(topic) || (counts[topic] ?? 0) >= limits.capacity) continue;
    const taken = await patchIf(store, [{ op: 'incr', path: `/counts/${topic}`, value: 1 }], {
      condition: `from c where (not is_defined(${countOf(topic)}) or ${countOf(topic)} < ${limits.capacity})`,
    });
    if (taken) return topic;
  }
  return undefined;
}

/** A place given back: a printer disconnected, or an enrollment that did not finish. Never below zero. */
export async function releaseTopicPlace(store: Store, topic: string): Promise<void> {
  // Printers enrolled before sharding (`releases`) were never counted.
  if (!topic.startsWith(releaseTopicSpec.namePrefix)) return;
  await patchIf(store, [{ op: 'incr', path: `/counts/${topic}`, value: -1 }], { condition: `from c where ${countOf(topic)} > 0` });
}

/**
 * Service Bus refused a subscription on `topic` (its 2,000 reached: subscriptions made outside this
 * count). Counted as full; if printers leave it, the next enrollment tries it again.
 */
export async function markTopicFull(store: Store, topic: string, capacity: number): Promise<void> {
  await patchIf(store, [{ op: 'set', path: `/counts/${topic}`, value: capacity }]);
}

/** True when applied; false when the condition did not hold (412) or the item is not there (404). */
async function patchIf(store: Store, operations: PatchOperation[], condition?: { condition: string }): Promise<boolean> {
  try {
    await allocation(store).patch(condition ? { operations, ...condition } : operations);
    return true;
  } catch (error) {
    if (isPreconditionFailed(error) || isNotFound(error)) return false;
    throw error;
  }
}

async function createAllocation(store: Store): Promise<void> {
  const doc: TopicAllocationDoc = { id: TOPIC_ALLOCATION_ID, type: 'releaseTopicAllocation', counts: {} };
  await store
    .container('tenants')
    .items.create(doc)
    .catch((error: unknown) => {
      if (!isConflict(error)) throw error; // another enrollment created it first
    });
}
