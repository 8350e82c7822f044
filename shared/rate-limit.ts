import { RateLimited } from './errors.js';
import { isConflict, isNotFound } from './store/cosmos-errors.js';
import type { Store } from './store/store.js';

/**
 * Rate limits shared by every instance (an in-memory counter alone would let an attacker
 * spread guesses over instances), with a per-instance window in front so that a caller already
 * over its limit costs no store request at all.
 *
 * The shared count is one Cosmos item per key and fixed window (`<key>@<window index>`),
 * created with the first count and from then on changed only by patch `incr`: Cosmos applies a
 * patch atomically on the server, so no increment is lost however many instances race, and
 * each caller learns the count its own increment produced. A fixed window lets a burst straddling two windows reach twice the limit
 * for a moment; the limits are sized with that in mind.
 */
export interface LimitRule {
  /** Events allowed per window; the next one is refused. */
  readonly limit: number;
  readonly windowSeconds: number;
}

/**
 * The rate-limit key part for a client address. One IPv6 subscriber usually holds a whole /64
 * and can pick any address in it, so an IPv6 address counts as its /64; an IPv4 address as
 * itself. Callers without an address (none the platform vouched for) share one bucket.
 */
export function addressBucket(ip: string | undefined): string {
  if (!ip) return 'ip:unknown';
  if (!ip.includes(':')) return `ip:${ip}`;
  const [head, tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  // No `/` in a Cosmos item id: the prefix length goes in the name.
  return `ip6-64:${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}`;
}

interface CounterDoc {
  readonly id: string;
  readonly count: number;
  /** Cosmos deletes the item after its window (and one more, for clock skew between instances). */
  readonly ttl: number;
}

const windowOf = (rule: LimitRule, now: Date) => Math.floor(now.getTime() / (rule.windowSeconds * 1000));
const secondsLeft = (rule: LimitRule, now: Date) =>
  Math.max(1, Math.ceil(((windowOf(rule, now) + 1) * rule.windowSeconds * 1000 - now.getTime()) / 1000));

/**
 * Adds `by` (may be negative) to the key's count in the current window and returns the new
 * count: one request in the usual cases. A key this instance has not counted in this window is
 * most likely new (a client's first attempt), so it is created first; a key it has counted
 * is patched first. Either guess, when wrong, costs one request more.
 */
async function addToCount(store: Store, key: string, rule: LimitRule, now: Date, by: number, counted: boolean): Promise<number> {
  const id = `${key}@${windowOf(rule, now)}`;
  const increment = async () =>
    (
      await store
        .container('rateLimits')
        .item(id, id)
        .patch<CounterDoc>([{ op: 'incr', path: '/count', value: by }])
    ).resource!.count;
  if (counted) {
    try {
      return await increment();
    } catch (error) {
      if (!isNotFound(error)) throw error; // forgotten meanwhile (erasure): create it again
    }
  }
  try {
    await store.container('rateLimits').items.create<CounterDoc>({ id, count: by, ttl: rule.windowSeconds * 2 });
    return by;
  } catch (error) {
    if (!isConflict(error)) throw error; // another request or instance made it first: increment that
  }
  return increment();
}

/**
 * Per-instance view of each key in its current window: the shared count this instance last
 * learned, the attempts it has let through and not yet settled, and whether the key is known to
 * be over its limit until the window ends. Bounded: the oldest keys go first.
 */
interface LocalWindow {
  readonly window: number;
  readonly rule: LimitRule;
  /** This instance has written the shared count of this window (it exists). */
  counted: boolean;
  /** The shared count as this instance last learned it (read or written); `learning` while it asks. */
  known: boolean;
  learning?: Promise<void>;
  seen: number;
  inFlight: number;
  blocked: boolean;
  /**
   * Events let through and not yet in the shared count (`reserve` with `firstLocal`): the key's
   * first on this instance in this window, folded into the shared count by its next one.
   */
  unshared: number;
  /** The first event of this window was taken here (counted locally or not at all). */
  firstTaken: boolean;
  /** The write that folds `unshared` into the shared count, while it runs: this instance's later writes wait for it. */
  folding?: Promise<unknown>;
}
const KEYS_KEPT = 10_000;
const localWindows = new WeakMap<Store, Map<string, LocalWindow>>();

function localWindow(store: Store, key: string, rule: LimitRule, now: Date): LocalWindow {
  let windows = localWindows.get(store);
  if (!windows) localWindows.set(store, (windows = new Map()));
  const window = windowOf(rule, now);
  let state = windows.get(key);
  if (!state || state.window !== window) {
    windows.delete(key);
    if (windows.size >= KEYS_KEPT) forgetOldest(store, windows);
    state = { window, rule, counted: false, known: false, seen: 0, inFlight: 0, blocked: false, unshared: 0, firstTaken: false };
    windows.set(key, state);
  }
  return state;
}

/**
 * Drops the key this instance has known longest. An event it let through unshared is written to
 * the shared count first (in the background, best effort): dropping it would hand the key another
 * free first, and a caller cycling through more keys than this instance keeps would never be
 * counted at all (docs/security.md#rate-limits).
 */
function forgetOldest(store: Store, windows: Map<string, LocalWindow>): void {
  const [key, oldest] = windows.entries().next().value!;
  windows.delete(key);
  if (oldest.unshared === 0) return;
  const inItsWindow = new Date(oldest.window * oldest.rule.windowSeconds * 1000);
  void addToCount(store, key, oldest.rule, inItsWindow, oldest.unshared, oldest.counted).catch(() => undefined);
}

/** A reserved event: `giveBack()` returns it (an attempt that turned out not to count). */
export interface Reservation {
  giveBack(): Promise<void>;
}

/**
 * A refund is best effort: one that fails leaves the count one higher than it should be, which
 * only errs on the caller's side of the limit and must not fail the request that earned it.
 */
const refund = (store: Store, key: string, rule: LimitRule, now: Date) => () =>
  addToCount(store, key, rule, now, -1, true).then(
    () => undefined,
    () => undefined,
  );

const noop = () => undefined;

export type ReserveOptions =
  /**
   * Events may be given back (a user-code look-up that found its code is no miss). Then a
   * refused event is given back too, so that a caller whose attempts in flight briefly pushed
   * the count over is not held until the window ends.
   */
  | { readonly refundable: true; readonly firstLocal?: never }
  /**
   * The key's first event on this instance in a window is counted here only, with no store
   * request; its next one on this instance adds both to the shared count (docs/security.md#rate-limits).
   * On one instance the count stays exact at any concurrency; across N instances a key can
   * pass its limit by at most N a window, one per instance it never came back to.
   */
  | { readonly refundable?: false; readonly firstLocal?: boolean };

/**
 * Counts one event against `key` before it happens, and refuses it (RateLimited) when it
 * would exceed the limit. Exact at any concurrency across instances: the shared increment
 * decides. One store request (none for a `firstLocal` key's first on this instance). Unless
 * refundable, the count only grows, and a caller once over costs this instance no further
 * store request until the window ends.
 */
export async function reserve(store: Store, key: string, rule: LimitRule, now: Date, options: ReserveOptions = {}): Promise<Reservation> {
  const local = localWindow(store, key, rule, now);
  if (local.blocked) throw new RateLimited(secondsLeft(rule, now));
  if (options.firstLocal && !local.firstTaken && rule.limit >= 1) {
    // Claimed before any await: of requests racing on this instance, exactly one gets it.
    local.firstTaken = true;
    local.unshared += 1;
    const giveBackShared = refund(store, key, rule, now);
    return {
      async giveBack() {
        if (local.unshared > 0) local.unshared -= 1;
        else await giveBackShared(); // folded meanwhile
      },
    };
  }
  // While a fold is written, this instance's other writes for the key wait: the shared count
  // then has the unshared event before any later one, so each caller's count says where it stands.
  while (local.folding) {
    await local.folding;
    if (local.blocked) throw new RateLimited(secondsLeft(rule, now));
  }
  // This event and whatever this instance let through unshared go into the shared count together;
  // taken out of `unshared` at once, so no other request folds them a second time.
  const folded = local.unshared;
  local.unshared = 0;
  const write = addToCount(store, key, rule, now, 1 + folded, local.counted);
  // Settles either way (a failed fold is this request's error, not an unhandled rejection).
  if (folded > 0) local.folding = write.then(noop, noop).finally(() => (local.folding = undefined));
  let count: number;
  try {
    count = await write;
  } catch (error) {
    local.unshared += folded; // not written: the next request folds them
    throw error;
  }
  local.counted = true;
  const giveBack = refund(store, key, rule, now);
  if (count > rule.limit) {
    if (options.refundable) await giveBack();
    else local.blocked = true;
    throw new RateLimited(secondsLeft(rule, now));
  }
  return { giveBack };
}

/** The shared count of the key's current window, read once per window and instance. */
function learnCount(store: Store, key: string, rule: LimitRule, now: Date, local: LocalWindow): Promise<void> {
  local.learning ??= (async () => {
    const id = `${key}@${windowOf(rule, now)}`;
    const { resource } = await store.container('rateLimits').item(id, id).read<CounterDoc>();
    if (resource) local.counted = true;
    local.seen = Math.max(local.seen, resource?.count ?? 0);
    local.known = true;
  })().finally(() => {
    local.learning = undefined;
  });
  return local.learning;
}

/**
 * Runs `attempt` under a limit on its *failures* (wrong PINs): an attempt resolving to
 * undefined failed and is counted; one that throws is not. Only a failure writes the shared
 * count; a success costs nothing once this instance knows the key's count for the window (one
 * point read, on its first attempt there: a fresh, recycled or newly scaled-out instance must
 * not start from zero). The instance lets an attempt start while the failures it knows of plus
 * its attempts still running stay under the limit, so on one instance no more than the limit
 * fail at any concurrency; across instances, each can only add the attempts it has in flight
 * when another instance's failures reach the limit.
 */
export async function limitFailures<T>(
  store: Store,
  key: string,
  rule: LimitRule,
  now: Date,
  attempt: () => Promise<T | undefined>,
  /** Called once per window, across instances: by the failure whose shared count reached the limit. */
  onLimitReached?: () => void,
): Promise<T | undefined> {
  const local = localWindow(store, key, rule, now);
  if (!local.known && !local.blocked) await learnCount(store, key, rule, now, local);
  if (local.blocked || local.seen + local.inFlight >= rule.limit) {
    if (local.seen >= rule.limit) local.blocked = true;
    throw new RateLimited(secondsLeft(rule, now));
  }
  local.inFlight += 1;
  let result: T | undefined;
  try {
    result = await attempt();
  } catch (error) {
    local.inFlight -= 1;
    throw error;
  }
  if (result !== undefined) {
    local.inFlight -= 1;
    return result;
  }
  // Counted here at once, so no attempt slips in while the shared count is being written.
  local.seen += 1;
  local.inFlight -= 1;
  const count = await addToCount(store, key, rule, now, 1, local.counted);
  local.counted = true;
  local.seen = Math.max(local.seen, count);
  if (local.seen >= rule.limit) local.blocked = true;
  if (count === rule.limit) onLimitReached?.();
  return undefined;
}

/** Deletes a key's counts (erasure: a counter keyed by a user id names that user until its TTL). */
export async function forgetCounts(store: Store, key: string, rule: LimitRule, now: Date): Promise<void> {
  const current = windowOf(rule, now);
  await Promise.all(
    [current - 1, current].map((window) =>
      store
        .container('rateLimits')
        .item(`${key}@${window}`, `${key}@${window}`)
        .delete()
        .catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        }),
    ),
  );
  localWindows.get(store)?.delete(key);
}
