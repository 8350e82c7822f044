import { describe, expect, it } from 'vitest';
import { addressBucket } from '../../shared/rate-limit.js';

describe('rate-limit keys for client addresses', () => {
  it('an IPv4 address is its own bucket; no address is one shared bucket', () => {
    expect(addressBucket('203.0.113.7')).toBe('ip:203.0.113.7');
    expect(addressBucket(undefined)).toBe('ip:unknown');
  });

  it('every IPv6 address of one /64 falls in one bucket, whatever its spelling', () => {
    const bucket = 'ip6-64:2001:db8:0:1';
    for (const ip of ['2001:db8:0:1::7', '2001:db8:0:1:ffff:ffff:ffff:ffff', '2001:db8::1:0:0:0:9', '2001:db8:0:1:2:3:4:5'])
      expect(addressBucket(ip), ip).toBe(bucket);
    expect(addressBucket('2001:db8:0:2::7')).not.toBe(bucket);
    expect(addressBucket('::1')).toBe('ip6-64:0:0:0:0');
    expect(addressBucket('fe80::1')).toBe('ip6-64:fe80:0:0:0');
    // Every key must be a valid Cosmos item id.
    for (const ip of ['2001:db8::1', '203.0.113.7', undefined]) expect(addressBucket(ip)).not.toMatch(/[/\\?#]/);
  });
});
