import { describe, expect, it } from 'vitest';
import { cacheableJson, etagOf, ifNoneMatchHits } from '../../shared/http/etag.js';

describe('ETags', () => {
  it('is strong and depends on every byte', () => {
    expect(etagOf('{"a":1}')).toMatch(/^"[A-Za-z0-9_-]{32}"$/);
    expect(etagOf('{"a":1}')).not.toBe(etagOf('{"a":2}'));
  });

  it('compares If-None-Match weakly, in lists, and with *', () => {
    const tag = etagOf('x');
    expect(ifNoneMatchHits(tag, tag)).toBe(true);
    expect(ifNoneMatchHits(`W/${tag}`, tag)).toBe(true);
    expect(ifNoneMatchHits(`"other", ${tag}`, tag)).toBe(true);
    expect(ifNoneMatchHits('*', tag)).toBe(true);
    expect(ifNoneMatchHits('"other"', tag)).toBe(false);
    expect(ifNoneMatchHits(null, tag)).toBe(false);
  });

  it('answers 304 without a body when the client has the current version', () => {
    const first = cacheableJson(new Headers(), { a: 1 }, 60);
    expect(first.status).toBe(200);
    const again = cacheableJson(new Headers({ 'if-none-match': first.headers!.ETag! }), { a: 1 }, 60);
    expect(again).toEqual({ status: 304, headers: first.headers });
  });
});
