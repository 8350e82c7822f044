import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createTenant, mobileSignIn, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';
import { statusCounts, together } from '../races/race-kit.js';

/**
 * Issue 13, defect 6 (user-code guessing is rate-limited: docs/security.md#rate-limits): no more wrong codes are
 * answered than the limit (10 per 10 minutes), however many are sent at once.
 */
const admin: Person = { email: 'ann@guess.test', username: 'ann', fullName: 'Ann Admin', password: 'ann-password-12' };
const LIMIT = 10;

/** A well-formed user code nobody was given (the alphabet has no vowels). */
const wrongCode = (i: number) => `BBBB-${'BCDFGHJKLMNPQRSTVWXZ'[Math.floor(i / 20) % 20]}${'BCDFGHJKLMNPQRSTVWXZ'[i % 20]}BB`;

describe('defect 6: the user-code guessing limit is exceeded with parallel requests', () => {
  let host: TestHost;
  let token: string;

  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv });
    await createTenant(host, 'guess', admin);
    token = (await mobileSignIn(host, 'guess', admin)).access_token;
  });
  afterAll(() => host.close());

  it('60 wrong codes at once: at most 10 answered 404, the rest 429 with Retry-After', async () => {
    const answers = await together(60, (i) => api(host, token, 'GET', `/api/device-codes/${wrongCode(i)}`));
    const counts = statusCounts(answers);
    expect(counts[404] ?? 0, JSON.stringify(counts)).toBeLessThanOrEqual(LIMIT);
    expect((counts[404] ?? 0) + (counts[429] ?? 0)).toBe(60);
    for (const limited of answers.filter((a) => a.status === 429)) expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('approvals and denials at once are held to the same limit', async () => {
    host.advanceClock(601); // a new window
    try {
      const answers = await together(40, (i) =>
        api(host, token, 'POST', i % 2 ? '/api/device-codes/approve' : '/api/device-codes/deny', { user_code: wrongCode(100 + i) }),
      );
      expect(statusCounts(answers)[404] ?? 0).toBeLessThanOrEqual(LIMIT);
    } finally {
      host.advanceClock(-601);
    }
  });
});
