import http from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon, { type Options, type Request } from 'autocannon';

export interface LoadResult {
  /** Mean requests per second over the measured window. */
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly requests: number;
  /** Responses by status code, e.g. { '200': 1523 }. */
  readonly statuses: Record<string, number>;
  readonly errors: number;
  /** CPU time the server's process used per call in the measured window (ms), where known. */
  readonly cpuMsPerCall?: number;
}

export interface LoadOptions {
  readonly connections: number;
  readonly seconds: number;
  /** Unmeasured run first, so the JIT and caches are warm for the measured one. */
  readonly warmupSeconds: number;
}

function run(options: Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * autocannon against one endpoint; `requests` may carry setupRequest/onResponse for chained calls.
 * `measuring` is called between the warm-up and the measured window (the bench drains the
 * host's request log there, so the cost per call is that of the measured calls).
 */
export async function load(url: string, requests: Request[], { connections, seconds, warmupSeconds }: LoadOptions, measuring?: () => void): Promise<LoadResult> {
  const base = { url, requests, connections, pipelining: 1, timeout: 30 } satisfies Options;
  if (warmupSeconds > 0) await run({ ...base, duration: warmupSeconds });
  measuring?.();
  const result = await run({ ...base, duration: seconds });
  const statuses: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = stats?.count ?? 0;
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    statuses,
    errors: result.errors + result.timeouts,
  };
}

/** Latency percentile (ms) of a list of samples. */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Chained calls, each using what the previous response of the same worker returned (rotating
 * refresh tokens). autocannon resets its per-connection context before every request of a
 * one-request list, so it cannot carry a token from one response to the next request; this
 * driver does, with `connections` keep-alive workers and the same warm-up and window.
 */
export async function chain(
  url: string,
  path: string,
  headers: Record<string, string>,
  starts: readonly string[],
  step: { body(state: string): string; next(status: number, body: string): string | undefined },
  { connections, seconds, warmupSeconds }: LoadOptions,
  measuring?: () => void,
): Promise<LoadResult & { readonly ends: string[] }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const target = new URL(path, url);
  const send = (body: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request(target, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      });
      request.on('error', reject);
      request.end(body);
    });
  const states: (string | undefined)[] = [...starts];
  const window = async (durationSeconds: number, record: boolean) => {
    const latencies: number[] = [];
    const statuses: Record<string, number> = {};
    let errors = 0;
    const deadline = performance.now() + durationSeconds * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: connections }, async (_, worker) => {
        while (performance.now() < deadline && states[worker] !== undefined) {
          const t0 = performance.now();
          try {
            const response = await send(step.body(states[worker]!));
            latencies.push(performance.now() - t0);
            statuses[response.status] = (statuses[response.status] ?? 0) + 1;
            states[worker] = step.next(response.status, response.body);
          } catch {
            errors += 1;
            states[worker] = undefined;
          }
        }
      }),
    );
    if (!record) return undefined;
    const elapsed = (performance.now() - started) / 1000;
    return { rps: latencies.length / elapsed, p50: Math.round(percentile(latencies, 50)), p99: Math.round(percentile(latencies, 99)), requests: latencies.length, statuses, errors };
  };
  try {
    if (warmupSeconds > 0) await window(warmupSeconds, false);
    measuring?.();
    const result = (await window(seconds, true))!;
    // Where each worker's chain stands: a later run goes on from there (a token used twice is a replay).
    return { ...result, ends: states.filter((state): state is string => state !== undefined) };
  } finally {
    agent.destroy();
  }
}
