import { Agent, request, type IncomingHttpHeaders } from 'node:http';

/**
 * A request exactly as the fuzzer means it: `fetch` would normalize the path (`..`, `%2e`),
 * merge duplicate headers and refuse some methods and bodies, so the fuzzer speaks
 * node:http with a raw request target and raw header lines instead.
 */
export interface RawRequest {
  readonly method: string;
  /** The request target as sent: path and query, already percent-encoded (bytes 0x21–0xFF). */
  readonly target: string;
  /** Header lines in order; a name may repeat. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: Uint8Array;
  /** Send the body with `Transfer-Encoding: chunked` instead of a `Content-Length`. */
  readonly chunked?: boolean;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly contentType: string;
  readonly text: string;
}

export function describeRequest(req: RawRequest): string {
  const body = req.body ? `${req.body.length} bytes: ${JSON.stringify(Buffer.from(req.body.subarray(0, 200)).toString('utf8'))}` : 'none';
  const headers = req.headers.map(([n, v]) => `${n}: ${v.length > 120 ? `${v.slice(0, 120)}…(${v.length})` : v}`).join(' | ');
  const target = req.target.length > 300 ? `${req.target.slice(0, 300)}…(${req.target.length})` : req.target;
  return `${req.method} ${target}${req.chunked ? ' (chunked)' : ''}\n  headers: ${headers}\n  body: ${body}`;
}

export function rawClient(baseUrl: string) {
  const base = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  return {
    send(req: RawRequest): Promise<RawResponse> {
      // Node's server refuses HTTP/1.1 without Host (and the array form skips `setHost`).
      const lines: string[] = req.headers.some(([n]) => n.toLowerCase() === 'host') ? [] : ['Host', base.host];
      for (const [name, value] of req.headers) lines.push(name, value);
      if (req.body && !req.chunked && !req.headers.some(([n]) => n.toLowerCase() === 'content-length')) {
        lines.push('Content-Length', String(req.body.length));
      }
      // Said explicitly: for GET, HEAD, DELETE and OPTIONS Node would otherwise send the bytes unframed.
      if (req.body && req.chunked) lines.push('Transfer-Encoding', 'chunked');
      return new Promise<RawResponse>((resolve, reject) => {
        const outgoing = request(
          {
            host: base.hostname,
            port: base.port,
            method: req.method,
            path: req.target,
            // The array form keeps duplicates and order (same shape as IncomingMessage.rawHeaders).
            headers: lines,
            agent,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('error', reject);
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                contentType: String(res.headers['content-type'] ?? ''),
                text: Buffer.concat(chunks).toString('utf8'),
              }),
            );
          },
        );
        outgoing.on('error', reject);
        outgoing.setTimeout(15_000, () => outgoing.destroy(new Error(`no answer within 15 s: ${describeRequest(req)}`)));
        if (req.body && req.body.length > 0) outgoing.write(req.body);
        outgoing.end();
      });
    },
    close(): void {
      agent.destroy();
    },
  };
}
