import { createHash } from 'node:crypto';
import type { Services } from '../../shared/services.js';
import { containerSpecs, type ContainerName } from '../../shared/store/containers.js';

/**
 * What "nothing was written" means for the fuzzer: every item of every container, minus what
 * a rejected request may legitimately change.
 *
 *  - `rateLimits` is left out: its counters exist to be written by failed attempts (wrong user
 *    codes, device-code polling).
 *  - Cosmos's own properties (`_ts`, `_etag`, `_rid`, `_self`, `_attachments`) are left out: they
 *    change with any write and say nothing of their own.
 *  - On user items, `lockout` is left out and `logins` (users stored before login records) is
 *    reduced to the newest successful sign-in, and login records of failed attempts are left out:
 *    the lockout rule (docs/security.md#lockout) requires every attempt, failed ones too, to be
 *    recorded in the login history and to count toward the lockout (`PUT /api/me/pin` with a
 *    wrong current PIN, the password grant and the device page with a wrong password all answer
 *    4xx *and* write that record). A rejected request that signs someone in (a successful
 *    record), or changes anything else on the user (hashes, refresh families, names, role),
 *    still changes the digest.
 *
 *  - On SCIM tokens, `lastUsedAt` is left out: every request that presents a live token marks it
 *    (at most once a minute), whatever the request then turns out to be.
 *
 * Nothing else is ignored: `lastSeenAt` on printers, for instance, only moves on a successful
 * refresh, so a rejection that touched it would be a bug and is reported.
 */
const IGNORED_CONTAINERS: ReadonlySet<ContainerName> = new Set(['rateLimits']);

type Item = Record<string, unknown>;

function normalize(container: ContainerName, item: Item): Item {
  const copy: Item = Object.fromEntries(Object.entries(item).filter(([key]) => !key.startsWith('_')));
  if (container === 'accounts' && copy.type === 'user') {
    const logins = Array.isArray(copy.logins) ? (copy.logins as { success?: unknown }[]) : [];
    copy.logins = logins.filter((login) => login.success === true).slice(-1);
    delete copy.lockout;
  }
  if (container === 'accounts' && copy.type === 'scim-token') delete copy.lastUsedAt;
  return copy;
}

/** Stable JSON: keys sorted, so two reads of unchanged items compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

export interface StoreSnapshot {
  /** container → item key (`<partition>|<id>`) → canonical JSON of the normalized item */
  readonly items: ReadonlyMap<string, string>;
  readonly digest: string;
}

/** Reads every item of every container the digest covers (regional and directory). */
export async function snapshotStore(services: Services): Promise<StoreSnapshot> {
  const names = (Object.keys(containerSpecs) as ContainerName[]).filter((name) => !IGNORED_CONTAINERS.has(name));
  const results = await Promise.all(
    names.map(async (name) => ({
      name,
      resources: (await services.store.container(name).items.query<Item>('SELECT * FROM c').fetchAll()).resources,
    })),
  );
  const items = new Map<string, string>();
  for (const { name, resources } of results) {
    const partitionKey = containerSpecs[name].partitionKeyPath.slice(1);
    for (const item of resources) {
      if (name === 'accounts' && item.type === 'login-record' && item.success !== true) continue;
      items.set(`${name}/${String(item[partitionKey])}|${String(item.id)}`, canonical(normalize(name, item)));
    }
  }
  const hash = createHash('sha256');
  for (const key of [...items.keys()].sort()) hash.update(`${key}\n${items.get(key)}\n`);
  return { items, digest: hash.digest('hex') };
}

/** Which items differ between two snapshots (for the failure message). */
export function describeChanges(before: StoreSnapshot, after: StoreSnapshot): string[] {
  const changes: string[] = [];
  for (const [key, value] of after.items) {
    const old = before.items.get(key);
    if (old === undefined) changes.push(`added ${key}: ${value.slice(0, 300)}`);
    else if (old !== value) changes.push(`changed ${key}:\n    before ${old.slice(0, 300)}\n    after  ${value.slice(0, 300)}`);
  }
  for (const key of before.items.keys()) if (!after.items.has(key)) changes.push(`removed ${key}`);
  return changes;
}
