import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/load-config.js';
import { lookupHashes } from '../../shared/tokens/lookup-keys.js';

const key = () => ({ kid: `k${randomBytes(3).toString('hex')}`, key: randomBytes(32).toString('base64') });
const configWith = (...keys: { kid: string; key: string }[]) => loadConfig({ ROGER_LOOKUP_KEYS: JSON.stringify({ keys }) });

describe('keyed hashes for badge numbers and PINs (ROGER_LOOKUP_KEYS)', () => {
  it('is an HMAC per key, the current key first, lowercase hex, stable for the same input', () => {
    const [a, b] = [key(), key()];
    const config = configWith(a, b);
    const hashes = lookupHashes(config, 'badge', 't1', '04A1B2C3');
    expect(hashes.map((h) => h.kid)).toEqual([a.kid, b.kid]);
    for (const { hash } of hashes) expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashes[0]!.hash).not.toBe(hashes[1]!.hash);
    expect(lookupHashes(config, 'badge', 't1', '04A1B2C3')).toEqual(hashes);
  });

  it('a key change changes the hash; the same key in another ring gives the same hash', () => {
    const [a, b] = [key(), key()];
    const underA = lookupHashes(configWith(a), 'badge', 't1', '1234567890')[0]!.hash;
    expect(lookupHashes(configWith(b), 'badge', 't1', '1234567890')[0]!.hash).not.toBe(underA);
    // After a promotion the old key is second: what was stored under it is still found.
    expect(lookupHashes(configWith(b, a), 'badge', 't1', '1234567890')[1]!.hash).toBe(underA);
  });

  it('purposes, tenants and values never collide, even when their characters would join alike', () => {
    const config = configWith(key());
    const hashOf = (purpose: 'badge' | 'pin', tenant: string, value: string) => lookupHashes(config, purpose, tenant, value)[0]!.hash;
    const all = [
      hashOf('badge', 't1', '123456'),
      hashOf('pin', 't1', '123456'),
      hashOf('badge', 't2', '123456'),
      hashOf('badge', 't1', '1234567'),
      // "t1" + "1123456" and "t11" + "123456" would be one string if joined without lengths.
      hashOf('badge', 't11', '23456'),
      hashOf('badge', 't', '1123456'),
    ];
    expect(new Set(all).size).toBe(all.length);
  });

  it('unset (local runs): one key generated per process, the same for every config', () => {
    const first = lookupHashes(loadConfig({}), 'pin', 't1', '123456');
    expect(first).toHaveLength(1);
    expect(lookupHashes(loadConfig({}), 'pin', 't1', '123456')).toEqual(first);
  });

  it('refuses keys the app cannot use, without echoing them', () => {
    const a = key();
    expect(() => configWith(a, { ...key(), kid: a.kid })).toThrow(/ROGER_LOOKUP_KEYS: two keys share a kid/);
    const short = { kid: 'a', key: a.key.slice(4) };
    let message = '';
    try {
      configWith(short);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/ROGER_LOOKUP_KEYS: /);
    expect(message).not.toContain(short.key.slice(0, 16));
  });
});
