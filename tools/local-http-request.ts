// Classes come through the default import: named value imports of @azure/functions fail in
// plain Node ESM (docs/architecture.md#two-hosts-one-app, upstream issue #287).
import azf from '@azure/functions';
import type { HttpRequest, HttpRequestParams, HttpRequestUser } from '@azure/functions';

export interface LocalHttpRequestInit {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly params: HttpRequestParams;
  /** Empty for none (GET and HEAD never have one, as in @azure/functions). */
  readonly body: Buffer;
}

const unusable = () => new TypeError('Body is unusable: Body has already been read');
const decoder = new TextDecoder(); // UTF-8, a leading BOM dropped, bad bytes replaced: as Request.text()

/**
 * The local host's `HttpRequest`: what @azure/functions' own class offers, with the headers,
 * URL, query and body read straight from what node:http received. The library's class wraps a
 * web `Request`, whose construction (headers validated twice, the body made a web stream) and
 * stream-based reading were about a sixth of the local host's CPU per small request
 * (docs/benchmarks.md#reading-it). Whatever the app does not read this way (`body` as a stream,
 * `formData`, `blob`, `user`, `clone`) goes to a real HttpRequest made on first use, so a
 * handler still cannot tell the difference. A body can be read once, as with Request.
 */
export class LocalHttpRequest implements HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly params: HttpRequestParams;
  readonly #init: LocalHttpRequestInit;
  #query?: URLSearchParams;
  #used = false;
  #real?: HttpRequest;

  constructor(init: LocalHttpRequestInit) {
    this.#init = init;
    this.method = init.method;
    this.url = init.url;
    this.headers = new Headers(init.headers);
    this.params = init.params;
  }

  get query(): URLSearchParams {
    return (this.#query ??= new URL(this.url).searchParams);
  }

  /** The library's own request over the same data, for what is rarely read. */
  #library(): HttpRequest {
    const { method, url, headers, params, body } = this.#init;
    return (this.#real ??= new azf.HttpRequest({ method, url, headers, params, ...(body.length > 0 ? { body: { bytes: body } } : {}) }));
  }

  get user(): HttpRequestUser | null {
    return this.#library().user;
  }

  get body(): ReadableStream | null {
    return this.#library().body;
  }

  get bodyUsed(): boolean {
    return this.#used || (this.#real?.bodyUsed ?? false);
  }

  /** The body's bytes, once (a request without a body may be read any number of times). */
  #take(): Buffer {
    const { body } = this.#init;
    if (body.length === 0) return body;
    if (this.bodyUsed) throw unusable();
    this.#used = true;
    return body;
  }

  readonly arrayBuffer = async (): Promise<ArrayBuffer> => {
    const bytes = this.#take();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  };

  readonly text = async (): Promise<string> => decoder.decode(this.#take());

  readonly json = async (): Promise<unknown> => JSON.parse(await this.text()) as unknown;

  readonly blob = async (): Promise<Blob> => {
    if (this.#used) throw unusable();
    return (await this.#library().blob()) as Blob;
  };

  readonly formData = async (): Promise<FormData> => {
    if (this.#used) throw unusable();
    return this.#library().formData();
  };

  readonly clone = (): HttpRequest => {
    if (this.#used) throw unusable();
    return this.#library().clone();
  };
}
