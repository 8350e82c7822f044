import { createHash } from 'node:crypto';
import type { RouteResult } from './route.js';

/** A strong validator over the exact JSON that is sent. */
export function etagOf(json: string): string {
  return `"${createHash('sha256').update(json).digest('base64url').slice(0, 32)}"`;
}

/** RFC 9110 §13.1.2: If-None-Match uses weak comparison; `*` matches any current representation. */
export function ifNoneMatchHits(header: string | null, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return header.split(',').some((tag) => opaque(tag) === opaque(etag));
}

/**
 * A public, cacheable JSON response with an ETag: 304 without a body when the client already
 * has it, else 200. The body is serialized here once so the ETag matches the bytes sent.
 */
export function cacheableJson(requestHeaders: Headers, body: unknown, maxAgeSeconds: number): RouteResult {
  const json = JSON.stringify(body);
  const etag = etagOf(json);
  const headers = { ETag: etag, 'Cache-Control': `public, max-age=${maxAgeSeconds}` };
  if (ifNoneMatchHits(requestHeaders.get('if-none-match'), etag)) return { status: 304, headers };
  return { status: 200, body: json, headers, contentType: 'application/json' };
}
