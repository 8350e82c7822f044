import { describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { EmailDomainSchema, emailDomainOf } from '../../shared/tenants/tenants.js';

/** What a typed email domain becomes before the directory is asked (findTenantForSignIn). */
describe('email domains for sign-in discovery', () => {
  it('lower-cases ASCII domains and gives a Unicode one its punycode form', () => {
    expect(emailDomainOf('Contoso.COM')).toBe('contoso.com');
    expect(emailDomainOf(' contoso.com ')).toBe('contoso.com');
    expect(emailDomainOf('bücher.example')).toBe('xn--bcher-kva.example');
    expect(emailDomainOf('xn--bcher-kva.example')).toBe('xn--bcher-kva.example');
    expect(emailDomainOf('mail.contoso.co.uk')).toBe('mail.contoso.co.uk');
  });

  it('is undefined for what no email domain can be', () => {
    for (const text of [
      '',
      'localhost',
      'contoso',
      '.com',
      'contoso..com',
      'contoso.com.',
      '-contoso.com',
      'a/b.com',
      'a?b.com',
      'a#b.com',
      '127.0.0.1',
      '[::1]',
      'x'.repeat(64) + '.com',
      'contoso.c0m-',
    ]) {
      expect(emailDomainOf(text), text).toBeUndefined();
    }
  });

  it('the operator’s schema takes the directory form only', () => {
    expect(Value.Check(EmailDomainSchema, 'contoso.com')).toBe(true);
    expect(Value.Check(EmailDomainSchema, 'xn--bcher-kva.example')).toBe(true);
    for (const text of ['Contoso.com', 'bücher.example', 'ada@contoso.com', 'contoso', 'contoso.com.']) {
      expect(Value.Check(EmailDomainSchema, text), text).toBe(false);
    }
  });
});
