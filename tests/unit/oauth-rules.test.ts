import { describe, expect, it } from 'vitest';
import { formatUserCode, normalizeUserCode, parseDeviceCode } from '../../shared/oauth/device-codes.js';
import {
  checkRefreshToken,
  formatRefreshToken,
  newFamily,
  parseRefreshToken,
  ROTATED_FINGERPRINT_LENGTH,
  rotateFamily,
  withFamily,
} from '../../shared/oauth/refresh-families.js';
import { defaultTenantPolicy, lockDurationSeconds } from '../../shared/tenants/policy.js';
import { constantTimeEqual, hashSecret, newId, newSecret } from '../../shared/tokens/secrets.js';
import { applySignInAttempt } from '../../shared/users/sign-in.js';
import type { UserDoc } from '../../shared/users/users.js';

const t0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

describe('user codes (RFC 8628 §6.1)', () => {
  it('accepts any case, with or without the dash, and only the consonant alphabet', () => {
    expect(normalizeUserCode('bcdf-ghjk')).toBe('BCDFGHJK');
    expect(normalizeUserCode('BCDF GHJK')).toBe('BCDFGHJK');
    expect(normalizeUserCode('BCDF-GHJA')).toBeUndefined(); // vowel
    expect(normalizeUserCode('BCDF-GHJ')).toBeUndefined();
    expect(formatUserCode('BCDFGHJK')).toBe('BCDF-GHJK');
  });

  it('device codes name their record and carry 256 bits', () => {
    const secret = newSecret();
    expect(secret).toHaveLength(43);
    const id = newId();
    expect(parseDeviceCode(`dc1.${id}.${secret}`)).toEqual({ recordId: id, secret });
    expect(parseDeviceCode(`dc1.${id}.${secret}x`)).toBeUndefined();
  });
});

describe('refresh-token families', () => {
  const lifetime = { idleDays: 30, maxDays: 45 };
  const secret = newSecret();
  const family = newFamily('roger-mobile', 'jobs offline_access', hashSecret(secret), lifetime, t0);
  const token = (s: string) => parseRefreshToken(formatRefreshToken('u', newId(), newId(), family.id, s))!;

  it('recognises the current token, a rotated one, and nothing else', () => {
    expect(checkRefreshToken([family], token(secret), at(1)).outcome).toBe('valid');
    const rotated = rotateFamily(family, lifetime, at(10));
    expect(checkRefreshToken([rotated.family], token(rotated.secret), at(11)).outcome).toBe('valid');
    expect(checkRefreshToken([rotated.family], token(secret), at(11)).outcome).toBe('reused');
    expect(checkRefreshToken([rotated.family], token(newSecret()), at(11)).outcome).toBe('unknown');
  });

  it('keeps rotated tokens as 16-character fingerprints, and still knows a whole hash stored before them (docs/data.md#byte-budgets)', () => {
    let current = { family, secret };
    const used: string[] = [];
    for (let i = 0; i < 12; i++) {
      used.push(current.secret);
      current = rotateFamily(current.family, lifetime, at(10 + i));
    }
    expect(current.family.rotatedHashes).toHaveLength(10);
    expect(current.family.rotatedHashes.every((fingerprint) => fingerprint.length === ROTATED_FINGERPRINT_LENGTH)).toBe(true);
    expect(checkRefreshToken([current.family], token(used.at(-1)!), at(30)).outcome).toBe('reused');
    expect(checkRefreshToken([current.family], token(used[0]!), at(30)).outcome).toBe('unknown'); // beyond the 10 kept
    const stored = { ...current.family, rotatedHashes: [hashSecret(secret)] }; // as stored before issue 20
    expect(checkRefreshToken([stored], token(secret), at(30)).outcome).toBe('reused');
    expect(checkRefreshToken([stored], token(newSecret()), at(30)).outcome).toBe('unknown');
    // A corrupt entry shorter than a fingerprint matches no token (an empty one would match all).
    const corrupt = { ...current.family, rotatedHashes: ['', hashSecret(secret).slice(0, 4)] };
    expect(checkRefreshToken([corrupt], token(secret), at(30)).outcome).toBe('unknown');
  });

  it('slides the expiry on use, but never past the absolute cap', () => {
    expect(checkRefreshToken([family], token(secret), at(30 * 86400)).outcome).toBe('expired');
    let current = { family, secret };
    for (let day = 20; day <= 60; day += 20) current = rotateFamily(current.family, lifetime, at(day * 86400));
    expect(current.family.expiresAt).toBe(at(45 * 86400).toISOString());
  });

  it('keeps at most N families, dropping the least recently used and the expired', () => {
    const families = Array.from({ length: 3 }, (_, i) => newFamily('c', 's', hashSecret(String(i)), lifetime, at(i)));
    const kept = withFamily(families, newFamily('c', 's', 'h', lifetime, at(10)), 3, at(11));
    expect(kept.map((f) => f.lastUsedAt)).toEqual([at(1), at(2), at(10)].map((d) => d.toISOString()));
    expect(withFamily(families, family, 10, at(31 * 86400))).toHaveLength(1);
  });

  it('rejects malformed tokens', () => {
    expect(parseRefreshToken('rt1.x.y')).toBeUndefined();
    expect(parseRefreshToken(`rt1.u.${newId()}.${newId()}.${newId()}.${secret}`)).toBeTruthy();
  });
});

describe('lockout (docs/security.md#lockout)', () => {
  const policy = { ...defaultTenantPolicy, lockoutThreshold: 3, lockoutSeconds: 10 };
  const user = { lockout: { failures: 0, locks: 0 } } as unknown as UserDoc;
  const attempt = { method: 'pin' as const, clientId: 'roger-emb' };

  it('locks on the threshold-th failure, refuses the right PIN while locked, and clears on success', () => {
    let state = user;
    const records: boolean[] = [];
    for (let i = 0; i < 3; i++) {
      const outcome = applySignInAttempt(state, policy, attempt, false, at(i));
      records.push(outcome.record.success);
      state = outcome.user;
    }
    expect(state.lockout).toEqual({ failures: 0, locks: 1, lockedUntil: at(12).toISOString() });
    const whileLocked = applySignInAttempt(state, policy, attempt, true, at(5));
    expect(whileLocked.success).toBe(false);
    expect(whileLocked.user.lockout).toEqual(state.lockout);
    const after = applySignInAttempt(state, policy, attempt, true, at(13));
    expect(after.success).toBe(true);
    expect(after.user.lockout).toEqual({ failures: 0, locks: 0 });
    expect([...records, after.record.success]).toEqual([false, false, false, true]);
    // Nothing changed while locked: the very same user, so the sign-in writes its record alone.
    expect(whileLocked.user).toBe(state);
  });

  it('a success on a clean account leaves the user as it was (only a login record is written); a failure changes it', () => {
    const clean = applySignInAttempt(user, policy, attempt, true, t0);
    expect(clean.user).toBe(user);
    expect(clean.record).toEqual({ at: t0.toISOString(), clientId: 'roger-emb', success: true, method: 'pin' });
    expect(applySignInAttempt(user, policy, attempt, false, t0).user).not.toBe(user);
    expect(clean.user).not.toHaveProperty('logins', expect.arrayContaining([expect.anything()]));
  });

  it('doubles the lock each time, capped at a day', () => {
    expect([0, 1, 2].map((n) => lockDurationSeconds(policy, n))).toEqual([10, 20, 40]);
    expect(lockDurationSeconds(policy, 30)).toBe(86400);
  });

  it('keeps the IP only when the tenant policy says so', () => {
    const withIp = { ...attempt, ip: '203.0.113.7' };
    expect(applySignInAttempt(user, policy, withIp, true, t0).record).not.toHaveProperty('ip');
    const keeping = applySignInAttempt(user, { ...policy, loginHistoryKeepsIp: true }, withIp, true, t0);
    expect(keeping.record).toHaveProperty('ip', '203.0.113.7');
  });
});

describe('secrets', () => {
  it('compares in constant time and by value', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });
});
