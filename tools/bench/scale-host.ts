import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { freePort } from '../free-port.js';
import { rogerBenchEnv } from './roger-fixture.js';

/** One reading of the API process's memory, from the probe it runs (below). */
export interface MemorySample {
  /** Seconds since the host was started. */
  readonly at: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
}

export interface RouteTotals {
  calls: number;
  ms: number;
  cosmosRequests: number;
}

/** The local host as `npm start` runs it (API, in-process Cosmos server and broker), in a child process. */
export interface ScaleHost {
  readonly url: string;
  readonly pid: number;
  /** Every memory reading so far, one a second. */
  readonly memory: readonly MemorySample[];
  /** The first lines on stderr (warnings and errors), kept short. */
  readonly errors: readonly string[];
  /** Requests the host logged, by status. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Per `METHOD /route`: calls, and the sums of their time in the host and their Cosmos requests (from its request log). */
  readonly routes: Readonly<Record<string, RouteTotals>>;
  /** CPU seconds the API process has used so far (user + system, /proc/<pid>/stat). */
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The probe reads process.memoryUsage() inside the API process each second and prints it: the
 * heap can only be read from inside, and a `--import` module changes nothing in the app itself.
 */
const MEMORY_PROBE =
  'data:text/javascript,setInterval(()=>{const m=process.memoryUsage();process.stdout.write(`scale-memory rss=${m.rss} heapUsed=${m.heapUsed}\\n`)},1000).unref()';

const MiB = 2 ** 20;

/**
 * `env` may only carry real settings of the host (docs/operations.md#settings): the bench's own
 * (operator key, 1 s poll interval, two trusted proxy hops so each simulated printer or phone has
 * an address of its own, as behind Front Door).
 */
export async function startScaleHost(env: Record<string, string> = {}): Promise<ScaleHost> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', MEMORY_PROBE, 'dist/tools/start.js'], {
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'production',
      PORT: String(port),
      SERVICEBUS_LOCAL_PORT: '0',
      MICROSOFT_LOCAL_PORT: '0',
      ...rogerBenchEnv,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started = Date.now();
  const memory: MemorySample[] = [];
  const errors: string[] = [];
  const statuses: Record<string, number> = {};
  const routes: Record<string, RouteTotals> = {};
  const keep = (line: string) => {
    if (errors.length < 50) errors.push(line.slice(0, 500));
  };
  let partial = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        const probe = /^scale-memory rss=(\d+) heapUsed=(\d+)/.exec(line);
        if (probe) {
          memory.push({ at: (Date.now() - started) / 1000, rssMiB: Number(probe[1]) / MiB, heapUsedMiB: Number(probe[2]) / MiB });
          continue;
        }
        const request = / request method=(\S+) route=(\S+) status=(\d+) ms=(\d+) cosmosRequests=(\d+)/.exec(line);
        if (request) {
          const [, method, route, status, ms, cosmosRequests] = request;
          statuses[status!] = (statuses[status!] ?? 0) + 1;
          const totals = (routes[`${method} ${route}`] ??= { calls: 0, ms: 0, cosmosRequests: 0 });
          totals.calls += 1;
          totals.ms += Number(ms);
          totals.cosmosRequests += Number(cosmosRequests);
        } else if (line.includes('listening on')) resolve();
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => keep(chunk));
    child.once('exit', (code) => reject(new Error(`the API exited with ${code}: ${errors.join('\n').slice(0, 2000)}`)));
  });
  await ready;
  return {
    url: `http://localhost:${port}`,
    pid: child.pid!,
    memory,
    errors,
    statuses,
    routes,
    async cpuSeconds() {
      // Fields 14 and 15 (utime, stime) in clock ticks, 100 a second on Linux; the name in
      // field 2 has no spaces here ("node").
      const fields = (await readFile(`/proc/${child.pid}/stat`, 'utf8')).split(' ');
      return (Number(fields[13]) + Number(fields[14])) / 100;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
