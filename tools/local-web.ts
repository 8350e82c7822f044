import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

/**
 * Serves the built web app (web/dist, docs/web-app.md) under `/app/` for the local host: files
 * under `assets/` have hashed names and are cached for good; a path with no file extension is a
 * screen of the app, answered with index.html, which is never cached; a missing file is a 404.
 *
 * The policy: scripts only from this origin (no inline script). Styles need 'unsafe-inline':
 * Fluent UI's styling engine (Griffel) inserts its rules into <style> elements it creates at run
 * time, and its positioning (menus, dialogs) writes style attributes; neither carries a nonce
 * without one per response, which a static index.html cannot have. With `style-src 'self'` alone
 * Chromium blocks them (44 violations on the jobs screen, and hidden popups show), so 'unsafe-inline'
 * is there for style only; style cannot run code. The app's own base rules are a stylesheet file.
 * connect-src adds the origins of OneDrive's upload URLs: the browser sends documents there itself.
 * Trusted Types: the DOM's script sinks (innerHTML, script src, eval-like calls) refuse plain
 * strings, so a string that reached one could not run as code. The app writes to none (React sets
 * text and attributes; no dangerouslySetInnerHTML), nor do Fluent UI and Tabster: the browser tests
 * run under this policy and fail on any console error, a refused sink included.
 */
export function webAppCsp(uploadOrigins: readonly string[] = []): string {
  return (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
    `connect-src ${["'self'", ...uploadOrigins].join(' ')}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'`
  );
}

/**
 * Where the browser PUTs a document (docs/web-app.md#printing-a-file-and-onedrive): the origin of
 * Graph's upload URLs, which connect-src must allow. Against Microsoft, OneDrive for work or school
 * hands out upload URLs on the tenant's SharePoint host (`https://contoso-my.sharepoint.com/…`);
 * against the local stand-in, they are on its own origin (`graph`, the Graph base URL it serves).
 * None when OneDrive is off in this region.
 */
export function uploadOrigins(microsoft: { readonly clientId?: string; readonly disabledBecause?: string }, graph?: string): string[] {
  if (microsoft.disabledBecause) return [];
  if (microsoft.clientId) return [GRAPH_UPLOAD_ORIGIN];
  return graph ? [new URL(graph).origin] : [];
}

/** The hosts of OneDrive for work or school upload sessions in Microsoft's global cloud. */
export const GRAPH_UPLOAD_ORIGIN = 'https://*.sharepoint.com';

const HEADERS: Readonly<Record<string, string>> = {
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

/** True when the path is the web app's (`/app` or under `/app/`); the caller then lets this answer. */
export const isWebAppPath = (pathname: string) => pathname === '/app' || pathname.startsWith('/app/');

/** `csp`: the policy for this host (webAppCsp with its upload origins). */
export async function serveWebApp(root: string, method: string, pathname: string, res: ServerResponse, csp = webAppCsp()): Promise<void> {
  const send = (status: number, type: string, body: Buffer | string, cache: string) => {
    res.statusCode = status;
    for (const [name, value] of Object.entries(HEADERS)) res.setHeader(name, value);
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('Content-Type', type);
    res.setHeader('Cache-Control', cache);
    res.end(method === 'HEAD' ? undefined : body);
  };
  if (method !== 'GET' && method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(405, 'text/plain; charset=utf-8', 'method not allowed', 'no-store');
  }
  if (pathname === '/app') {
    res.setHeader('Location', '/app/');
    return send(308, 'text/plain; charset=utf-8', '', 'no-store');
  }
  let relative: string;
  try {
    relative = normalize(decodeURIComponent(pathname.slice('/app/'.length)));
  } catch {
    return send(400, 'text/plain; charset=utf-8', 'bad path', 'no-store');
  }
  if (relative.startsWith('..') || relative.includes(`${sep}..`) || relative.includes('\0')) {
    return send(404, 'text/plain; charset=utf-8', 'not found', 'no-store');
  }
  if (relative !== '.' && relative !== 'index.html') {
    const file = await readFile(join(root, relative)).catch(() => undefined);
    if (file) {
      const cache = relative.startsWith(`assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
      return send(200, TYPES[extname(relative)] ?? 'application/octet-stream', file, cache);
    }
    // A missing file is a 404, not the app: a stale hashed name must not be answered with HTML.
    // A file is a path whose last segment has an extension, as Front Door's rule tells screens
    // from files in Azure (infra/modules/web-route.bicep), where the storage site answers 404.
    if (relative.startsWith(`assets${sep}`) || extname(relative) !== '') {
      return send(404, 'text/plain; charset=utf-8', 'not found', 'no-store');
    }
  }
  const index = await readFile(join(root, 'index.html')).catch(() => undefined);
  if (!index) return send(404, 'text/plain; charset=utf-8', 'the web app is not built: run npm run build', 'no-store');
  return send(200, TYPES['.html']!, index, 'no-store');
}
