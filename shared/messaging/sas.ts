import { createHmac } from 'node:crypto';

/**
 * A Service Bus shared access signature (the format the SDK and the service use):
 * `SharedAccessSignature sr=<enc(resource)>&sig=<enc(base64 HMAC-SHA256(enc(resource) + "\n" + expiry))>&se=<expiry>&skn=<rule>`.
 * Service Bus authorises any entity whose URI starts with the token's resource, which is why
 * printer ids are fixed-length (no id is a prefix of another: docs/security.md#printer-credentials-sas-scope).
 */
export function mintSasToken(resourceUri: string, ruleName: string, key: string, expiresAt: Date): string {
  const resource = encodeURIComponent(resourceUri);
  const expiry = Math.floor(expiresAt.getTime() / 1000);
  const signature = createHmac('sha256', key).update(`${resource}\n${expiry}`, 'utf8').digest('base64');
  return `SharedAccessSignature sr=${resource}&sig=${encodeURIComponent(signature)}&se=${expiry}&skn=${encodeURIComponent(ruleName)}`;
}
