import { createHash, randomBytes } from 'node:crypto';
import { CryptoProvider } from '@azure/msal-node';
import { describe, expect, it } from 'vitest';
import { isNameOfUpload, sanitizeFileName } from '../../shared/onedrive/file-names.js';
import { createTokenCipher } from '../../shared/onedrive/token-cipher.js';

const key = (kid: string) => ({ kid, key: randomBytes(32).toString('base64') });

describe('token cipher (AES-256-GCM, key id beside the ciphertext)', () => {
  const k1 = key('one');
  const k2 = key('two');

  it('seals with the first key, opens with any configured key, for the same owner only', () => {
    const sealed = createTokenCipher({ keys: [k1] }).seal('refresh-token-value', 't|u');
    expect(sealed).toMatch(/^v1\.one\./);
    expect(sealed).not.toContain('refresh-token-value');
    expect(createTokenCipher({ keys: [k2, k1] }).open(sealed, 't|u')).toBe('refresh-token-value');
    expect(() => createTokenCipher({ keys: [k2] }).open(sealed, 't|u')).toThrow(/key one is not configured/);
    expect(() => createTokenCipher({ keys: [k1] }).open(sealed, 't|other')).toThrow(/authentication failed/);
  });

  it('uses a fresh IV each time and detects any changed byte', () => {
    const cipher = createTokenCipher({ keys: [k1] });
    expect(cipher.seal('x', 'o')).not.toBe(cipher.seal('x', 'o'));
    const sealed = cipher.seal('secret', 'o');
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[3]!, 'base64url');
    flipped[0]! ^= 1;
    expect(() => cipher.open([...parts.slice(0, 3), flipped.toString('base64url'), parts[4]].join('.'), 'o')).toThrow();
    expect(() => cipher.open('v2.one.a.b.c', 'o')).toThrow(/unknown format/);
    expect(cipher.kidOf(sealed)).toBe('one');
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => createTokenCipher({ keys: [{ kid: 'short', key: randomBytes(16).toString('base64') }] })).toThrow(/not 32 bytes/);
  });
});

describe('PKCE (RFC 7636), made by MSAL for the OneDrive consent and Microsoft sign-in (shared/microsoft/msal.ts)', () => {
  it('makes a verifier of 43 to 128 unreserved characters, at least 256 bits, and its S256 challenge', async () => {
    const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
    expect(verifier).toMatch(/^[A-Za-z0-9._~-]{43,128}$/);
    expect(challenge).toBe(createHash('sha256').update(verifier).digest('base64url'));
  });
});

describe('OneDrive file names', () => {
  it('recognises an upload under its own name or as OneDrive renamed it on a conflict', () => {
    expect(isNameOfUpload('Report.pdf', 'Report.pdf')).toBe(true);
    expect(isNameOfUpload('report.PDF', 'Report.pdf')).toBe(true);
    expect(isNameOfUpload('Report 1.pdf', 'Report.pdf')).toBe(true);
    expect(isNameOfUpload('Report 12.pdf', 'Report.pdf')).toBe(true);
    expect(isNameOfUpload('README 2', 'README')).toBe(true);
    expect(isNameOfUpload('Report 0.pdf', 'Report.pdf')).toBe(false);
    expect(isNameOfUpload('Report x.pdf', 'Report.pdf')).toBe(false);
    expect(isNameOfUpload('Other.pdf', 'Report.pdf')).toBe(false);
    expect(isNameOfUpload('Report 1.docx', 'Report.pdf')).toBe(false);
  });

  it('makes scan names safe for OneDrive and gives them the profile’s extension', () => {
    expect(sanitizeFileName('Invoice: March?', '.pdf')).toBe('Invoice_ March_.pdf');
    expect(sanitizeFileName('a/b\\c|d*e"f<g>h', '.pdf')).toBe('a_b_c_d_e_f_g_h.pdf');
    expect(sanitizeFileName('  .hidden. ', '.jpg')).toBe('hidden.jpg');
    expect(sanitizeFileName('scan.PDF', '.pdf')).toBe('scan.PDF');
    expect(sanitizeFileName('...', '.tif')).toBe('scan.tif');
    expect(sanitizeFileName('line\nbreak\u0000', '.png')).toBe('line_break_.png');
    const long = sanitizeFileName('x'.repeat(300), '.pdf');
    expect(long).toHaveLength(200);
    expect(long.endsWith('.pdf')).toBe(true);
  });
});
