import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isCodeVerifier,
  redirectUriMatches,
  requireS256Challenge,
  s256Challenge,
  verifierMatches,
} from '../../shared/oauth/authorization-codes.js';
import { clientById } from '../../shared/oauth/clients.js';
import { OAuthError } from '../../shared/oauth/errors.js';

const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
const verifier = fc.string({ unit: fc.constantFrom(...UNRESERVED), minLength: 43, maxLength: 128 });

describe('PKCE (S256 only)', () => {
  it('RFC 7636 appendix B example', () => {
    expect(s256Challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });
  it('any verifier of the unreserved set, 43–128 long, matches its own challenge and no other', () => {
    fc.assert(
      fc.property(verifier, verifier, (a, b) => {
        expect(verifierMatches(a, s256Challenge(a))).toBe(true);
        if (a !== b) expect(verifierMatches(b, s256Challenge(a))).toBe(false);
      }),
    );
  });
  it('refuses verifiers too short, too long or outside the unreserved set, even when their hash matches', () => {
    for (const bad of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}+`, `${'a'.repeat(42)} `, `${'a'.repeat(42)}=`]) {
      expect(isCodeVerifier(bad)).toBe(false);
      expect(verifierMatches(bad, s256Challenge(bad))).toBe(false);
    }
    expect(verifierMatches(undefined, s256Challenge('a'.repeat(43)))).toBe(false);
  });
  it('refuses plain, a missing method and a missing challenge', () => {
    const challenge = s256Challenge('a'.repeat(43));
    expect(requireS256Challenge(challenge, 'S256')).toBe(challenge);
    for (const [c, m] of [
      [challenge, 'plain'],
      [challenge, undefined],
      [undefined, 'S256'],
      ['short', 'S256'],
    ] as const) {
      expect(() => requireS256Challenge(c, m)).toThrow(OAuthError);
    }
  });
});

describe('redirect URI matching', () => {
  const mobile = ['cloud.roger.mobile:/oauth2redirect'];
  const desktop = ['http://127.0.0.1/callback', 'http://[::1]/callback'];
  it('exact string match for non-loopback URIs', () => {
    expect(redirectUriMatches(mobile, 'cloud.roger.mobile:/oauth2redirect')).toBe(true);
    for (const other of [
      'cloud.roger.mobile:/oauth2redirect/',
      'CLOUD.roger.mobile:/oauth2redirect',
      'cloud.roger.mobile:/oauth2redirect?x=1',
    ]) {
      expect(redirectUriMatches(mobile, other)).toBe(false);
    }
    expect(redirectUriMatches(['https://roger.example/cb'], 'https://roger.example:444/cb')).toBe(false);
  });
  it('loopback redirects match on any port, same host and path only', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), (port) => {
        expect(redirectUriMatches(desktop, `http://127.0.0.1:${port}/callback`)).toBe(true);
        expect(redirectUriMatches(desktop, `http://[::1]:${port}/callback`)).toBe(true);
        expect(redirectUriMatches(desktop, `http://127.0.0.1:${port}/other`)).toBe(false);
        expect(redirectUriMatches(desktop, `http://localhost:${port}/callback`)).toBe(false);
        expect(redirectUriMatches(desktop, `https://127.0.0.1:${port}/callback`)).toBe(false);
        expect(redirectUriMatches(desktop, `http://127.0.0.1:${port}@evil.example/callback`)).toBe(false);
      }),
    );
    expect(redirectUriMatches(desktop, 'http://127.0.0.1:0/callback')).toBe(false);
    expect(redirectUriMatches(desktop, 'http://127.0.0.1:70000/callback')).toBe(false);
    expect(redirectUriMatches(mobile, 'http://127.0.0.1:8080/callback')).toBe(false);
  });
});

describe('registered redirect URIs', () => {
  it('the phone uses its private-use scheme, the desktop client loopback on any port', () => {
    expect(redirectUriMatches(clientById('roger-mobile')!.redirectUris!, 'cloud.roger.mobile:/oauth2redirect')).toBe(true);
    expect(redirectUriMatches(clientById('roger-desktop')!.redirectUris!, 'http://127.0.0.1:49152/callback')).toBe(true);
    expect(redirectUriMatches(clientById('roger-desktop')!.redirectUris!, 'cloud.roger.mobile:/oauth2redirect')).toBe(false);
    expect(clientById('roger-emb')!.redirectUris).toBeUndefined();
  });
});
