import { get } from 'node:https';

/**
 * The browser's side of a Microsoft sign-in against the local stand-in, whose HTTPS listener has a
 * self-signed certificate (made at start): a GET that does not follow redirects, returning the
 * status and Location. A browser would show Entra's page; the stand-in approves at once.
 */
export function browserGet(url: string): Promise<{ status: number; location: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { rejectUnauthorized: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, location: response.headers.location, body: Buffer.concat(chunks).toString('utf8') }),
      );
      response.on('error', reject);
    }).on('error', reject);
  });
}
