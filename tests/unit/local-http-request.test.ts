import azf, { type HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { LocalHttpRequest } from '../../tools/local-http-request.js';

/**
 * The local host's HttpRequest answers as @azure/functions' own does for the same request
 * (tools/local-http-request.ts): a handler cannot tell which host it runs in.
 */
const init = {
  method: 'POST',
  url: 'http://localhost:7071/oauth/token?a=1&b=two&b=3',
  headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '203.0.113.9:5000', 'X-Mixed-Case': 'yes' },
  params: { id: 'abc' },
  body: Buffer.from('\uFEFFgrant_type=refresh_token&name=J%C3%BCrgen&text=\u00e9t\u00e9', 'utf8'),
};
const both = (body: Buffer = init.body): [HttpRequest, HttpRequest] => [
  new LocalHttpRequest({ ...init, body }),
  new azf.HttpRequest({
    method: init.method,
    url: init.url,
    headers: init.headers,
    params: init.params,
    ...(body.length > 0 ? { body: { bytes: body } } : {}),
  }),
];

describe('the local host’s HttpRequest', () => {
  it('has the same method, URL, headers, query and route parameters', () => {
    const [local, library] = both();
    expect(local.method).toBe(library.method);
    expect(local.url).toBe(library.url);
    expect([...local.headers]).toEqual([...library.headers]);
    expect(local.headers.get('x-mixed-case')).toBe('yes');
    expect([...local.query]).toEqual([...library.query]);
    expect(local.params).toEqual(library.params);
    expect(local.user).toEqual(library.user);
  });

  it('reads the body as text, bytes and JSON as Request does, once', async () => {
    const [local, library] = both();
    expect(await local.text()).toBe(await library.text());
    expect(local.bodyUsed).toBe(true);
    await expect(local.text()).rejects.toThrow(TypeError);
    await expect(library.text()).rejects.toThrow(TypeError);
    await expect(local.formData()).rejects.toThrow(TypeError);

    const [localBytes, libraryBytes] = both();
    expect(Buffer.from(await localBytes.arrayBuffer())).toEqual(Buffer.from(await libraryBytes.arrayBuffer()));

    const json = Buffer.from('{"a":[1,"x"]}');
    const [localJson, libraryJson] = both(json);
    expect(await localJson.json()).toEqual(await libraryJson.json());
    const [localBad, libraryBad] = both(Buffer.from('{nope'));
    await expect(localBad.json()).rejects.toThrow(SyntaxError);
    await expect(libraryBad.json()).rejects.toThrow(SyntaxError);
  });

  it('bad UTF-8 decodes with replacement characters, as Request.text() does', async () => {
    const [local, library] = both(Buffer.from([0x61, 0xff, 0x62]));
    expect(await local.text()).toBe(await library.text());
  });

  it('without a body: readable any number of times, and no body stream', async () => {
    const [local, library] = both(Buffer.alloc(0));
    expect((await local.arrayBuffer()).byteLength).toBe(0);
    expect((await local.arrayBuffer()).byteLength).toBe(0);
    expect(local.bodyUsed).toBe(library.bodyUsed);
    expect(local.body).toBe(library.body);
  });

  it('the stream, form data and clone come from the library’s request', async () => {
    const [local, library] = both(Buffer.from('x=1&y=2'));
    const clone = local.clone();
    expect([...((await local.formData()) as unknown as Iterable<[string, string]>)]).toEqual([
      ...((await library.formData()) as unknown as Iterable<[string, string]>),
    ]);
    expect(local.bodyUsed).toBe(true);
    await expect(local.arrayBuffer()).rejects.toThrow(TypeError);
    expect(await clone.text()).toBe('x=1&y=2');
  });
});
