import { describe, expect, it } from 'vitest';
import { limitFailures, reserve } from '../../shared/rate-limit.js';
import { RateLimited } from '../../shared/errors.js';
import type { Store } from '../../shared/store/store.js';
import { instancesOnOneStore } from '../helpers/store-instances.js';

/**
 * The limits across instances: two stores opened on one Cosmos server are two Function App
 * instances, each with its own per-instance window (docs/security.md, rate limits).
 */
describe('rate limits shared by instances', () => {
  const instance = instancesOnOneStore();
  const rule = { limit: 3, windowSeconds: 900 };
  const now = new Date();

  const wrong = async () => undefined;
  const refused = (work: Promise<unknown>) =>
    work.then(
      () => false,
      (error: unknown) => {
        if (error instanceof RateLimited) return true;
        throw error;
      },
    );

  it('failures counted on one instance stop a fresh instance before it checks a single secret', async () => {
    const [first, fresh] = [await instance(), await instance()];
    for (let i = 0; i < rule.limit; i++) expect(await limitFailures(first, 'printer-a', rule, now, wrong)).toBeUndefined();
    expect(await refused(limitFailures(first, 'printer-a', rule, now, wrong))).toBe(true);

    let checked = 0;
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => refused(limitFailures(fresh, 'printer-a', rule, now, async () => void checked++))),
    );
    expect(answers.every(Boolean)).toBe(true);
    expect(checked).toBe(0);
  });

  it('a burst at a fresh key on two instances at once checks no more than the limit on each, and the total stops both after', async () => {
    const [a, b] = [await instance(), await instance()];
    let checked = 0;
    const attempt = (store: Store) => refused(limitFailures(store, 'printer-b', rule, now, async () => void checked++));
    await Promise.all([...Array.from({ length: 10 }, () => attempt(a)), ...Array.from({ length: 10 }, () => attempt(b))]);
    expect(checked).toBeLessThanOrEqual(2 * rule.limit);
    checked = 0;
    await Promise.all([attempt(a), attempt(b)]);
    expect(checked).toBe(0);
  });

  it('a refundable reservation refused at the edge is given back: the caller is not held to the end of the window', async () => {
    const [a, b] = [await instance(), await instance()];
    const slots = await Promise.all(Array.from({ length: rule.limit }, () => reserve(a, 'user-c', rule, now, { refundable: true })));
    expect(await refused(reserve(b, 'user-c', rule, now, { refundable: true }))).toBe(true);
    for (const slot of slots) await slot.giveBack(); // all were hits
    expect(await refused(reserve(a, 'user-c', rule, now, { refundable: true }))).toBe(false);
    expect(await refused(reserve(b, 'user-c', rule, now, { refundable: true }))).toBe(false);
  });
});
