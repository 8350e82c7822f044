import { get as httpsGet } from 'node:https';

/**
 * Just enough of a browser for the demo's Microsoft steps (the OneDrive consent, the Entra
 * connection and a sign-in with Microsoft): follows redirects (our host over http, the Entra
 * stand-in over https with the certificate it made at start, which only this demo skips
 * checking), keeps our cookies (CSRF, the Microsoft sign-in binding), and submits a page's form
 * with its hidden fields. Stops at a redirect to the app (cloud.roger.mobile:).
 */
export function demoBrowser(base: string) {
  const cookies = new Map<string, string>();
  const load = async (url: string, init: { method?: string; body?: string } = {}) => {
    if (url.startsWith('https:')) {
      return new Promise<{ status: number; location?: string; text: string }>((resolve, reject) => {
        httpsGet(url, { rejectUnauthorized: false }, (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              ...(response.headers.location ? { location: response.headers.location } : {}),
              text,
            }),
          );
        }).on('error', reject);
      });
    }
    const headers: Record<string, string> = { 'accept-language': 'en' };
    if (cookies.size > 0) headers.cookie = [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (init.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      headers,
      redirect: 'manual',
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const [name = '', value = ''] = pair.split('=');
      if (value) cookies.set(name, value);
      else cookies.delete(name);
    }
    const location = response.headers.get('location') ?? undefined;
    return { status: response.status, ...(location ? { location } : {}), text: await response.text() };
  };
  const go = async (url: string, init: { method?: string; body?: string } = {}, rewrite = (next: string) => next) => {
    let answer = await load(url, init);
    while (answer.status >= 300 && answer.status < 400 && answer.location && /^https?:/.test(answer.location)) {
      answer = await load(rewrite(new URL(answer.location, base).href));
    }
    return answer;
  };
  const submit = (page: string, action: string, fields: Record<string, string>, rewrite?: (next: string) => string) => {
    const form = new RegExp(`<form[^>]*action="${action}"[^>]*>([\\s\\S]*?)</form>`).exec(page)?.[1] ?? '';
    const hidden = Object.fromEntries(
      [...form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]),
    );
    return go(`${base}${action}`, { method: 'POST', body: new URLSearchParams({ ...hidden, ...fields }).toString() }, rewrite);
  };
  return { go, submit };
}
