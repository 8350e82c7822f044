import { describe, expect, it } from 'vitest';
import { SessionTokenStore } from '../src/session-tokens.js';

/** The panel's session tokens (docs/clients.md#roger-printer): in memory, bounded, and never handed out once expired. */
describe('the session tokens the panel keeps', () => {
  it('gives a session’s token until it expires, then forgets it', () => {
    let now = 1_000_000;
    const sessions = new SessionTokenStore(8, () => now);
    sessions.remember('s1', 'token-1', new Date(now + 60_000));
    expect(sessions.tokenFor('s1')).toBe('token-1');
    expect(sessions.tokenFor('unknown')).toBeUndefined();
    now += 60_000;
    expect(sessions.tokenFor('s1')).toBeUndefined();
    expect(sessions.size).toBe(0);
  });

  it('keeps only the newest sessions, a renewed one counting as new', () => {
    const sessions = new SessionTokenStore(2);
    const later = new Date(Date.now() + 60_000);
    sessions.remember('a', 'ta', later);
    sessions.remember('b', 'tb', later);
    sessions.remember('a', 'ta2', later); // a is now the newest
    sessions.remember('c', 'tc', later); // b, the oldest, goes
    expect(sessions.tokenFor('b')).toBeUndefined();
    expect(sessions.tokenFor('a')).toBe('ta2');
    expect(sessions.tokenFor('c')).toBe('tc');
    expect(sessions.size).toBe(2);
  });
});
