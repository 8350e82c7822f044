/** SAS token verification and resource-URI scoping, without a broker. */
import { createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { covers, normaliseResourceUri, verifyToken, type SasRule } from '../sas.js';

const RULE: SasRule = { name: 'printer-listen', key: 'listen-key', rights: ['Listen'] };
const RULES = new Map([[RULE.name, RULE]]);
const NOW_MS = 1_800_000_000_000;
const RESOURCE = 'sb://127.0.0.1:5672/releases/subscriptions/device0001';

function token(resource: string, key: string, expirySeconds: number, keyName = RULE.name): string {
  const sr = encodeURIComponent(resource);
  const sig = createHmac('sha256', key).update(`${sr}\n${expirySeconds}`).digest('base64');
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${expirySeconds}&skn=${keyName}`;
}

describe('verifyToken', () => {
  const valid = token(RESOURCE, RULE.key, NOW_MS / 1000 + 600);

  test('accepts a token signed with the rule key and returns its claim', () => {
    expect(verifyToken(valid, RULES, NOW_MS)).toEqual({
      ok: true,
      claim: {
        resource: '127.0.0.1:5672/releases/subscriptions/device0001',
        rights: ['Listen'],
        expiresAtMs: NOW_MS + 600_000,
        keyName: RULE.name,
      },
    });
  });

  test.each([
    ['a wrong key', token(RESOURCE, 'guess', NOW_MS / 1000 + 600)],
    ['an unknown rule', token(RESOURCE, RULE.key, NOW_MS / 1000 + 600, 'RootManageSharedAccessKey')],
    ['a resource changed after signing', valid.replace('device0001', 'device0002')],
    ['an expiry changed after signing', valid.replace(/se=\d+/, `se=${NOW_MS / 1000 + 6000}`)],
    ['junk appended to the signature', valid.replace('&se=', '%21%21&se=')],
    ['no SharedAccessSignature prefix', valid.replace('SharedAccessSignature ', '')],
    ['a missing field', valid.replace(/&skn=.*$/, '')],
  ])('refuses %s', (_label, candidate) => {
    expect(verifyToken(candidate, RULES, NOW_MS)).toMatchObject({ ok: false });
  });

  test('refuses a token at and after its expiry', () => {
    const expiring = token(RESOURCE, RULE.key, NOW_MS / 1000);
    expect(verifyToken(expiring, RULES, NOW_MS - 1)).toMatchObject({ ok: true });
    expect(verifyToken(expiring, RULES, NOW_MS)).toEqual({ ok: false, reason: 'ExpiredToken: The token is expired.' });
  });
});

describe('resource URI scoping', () => {
  const claim = normaliseResourceUri(RESOURCE);

  test('covers the subscription, its dead-letter queue and $management, case-insensitively', () => {
    expect(covers(claim, 'sb://127.0.0.1:5672/releases/Subscriptions/device0001')).toBe(true);
    expect(covers(claim, 'sb://127.0.0.1:5672/releases/Subscriptions/DEVICE0001/$DeadLetterQueue')).toBe(true);
    expect(covers(claim, 'sb://127.0.0.1:5672/releases/Subscriptions/device0001/$management')).toBe(true);
  });

  test('ignores the scheme, as Service Bus does for https:// resource URIs', () => {
    expect(covers(normaliseResourceUri('https://127.0.0.1:5672/releases'), 'sb://127.0.0.1:5672/releases/Subscriptions/x')).toBe(true);
  });

  test('does not cover the topic, a sibling, another port or another host', () => {
    expect(covers(claim, 'sb://127.0.0.1:5672/releases')).toBe(false);
    expect(covers(claim, 'sb://127.0.0.1:5672/releases/Subscriptions/device0002')).toBe(false);
    expect(covers(claim, 'sb://127.0.0.1:5673/releases/Subscriptions/device0001')).toBe(false);
    expect(covers(claim, 'sb://localhost:5672/releases/Subscriptions/device0001')).toBe(false);
  });

  test('is a plain string prefix, so an id that prefixes another id covers it (hence fixed-length ids)', () => {
    expect(covers(normaliseResourceUri('sb://h:1/releases/subscriptions/dev1'), 'sb://h:1/releases/Subscriptions/dev12')).toBe(true);
  });
});
