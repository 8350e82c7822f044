import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort } from '../free-port.js';

/**
 * CPU time (user + system, ms) a process has used so far, from /proc (Linux; undefined
 * elsewhere). Per call it is steadier than calls per second on a machine others load too.
 */
export function processCpuMs(pid: number | undefined): number | undefined {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in clock ticks (100 per second).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** A server under test in its own process: the load comes from the bench process, not from inside it. */
export interface ServerProcess {
  readonly url: string;
  /** The first stdout line starting with `ready `, or the "listening on" line. */
  readonly readyLine: string;
  /** stdout lines since the last `drain()`. */
  drain(): string[];
  /** CPU time the server's process has used so far (ms), where /proc tells. */
  cpuMs(): number | undefined;
  stop(): Promise<void>;
}

async function startProcess(script: string, env: Record<string, string>, isReady: (line: string) => boolean): Promise<ServerProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let lines: string[] = [];
  let partial = '';
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const readyLine = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const parts = text.split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (isReady(line)) resolve(line);
      }
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${errors.slice(0, 2000)}`)));
  });
  return {
    url: `http://localhost:${port}`,
    readyLine,
    cpuMs: () => processCpuMs(child.pid),
    drain() {
      const drained = lines;
      lines = [];
      return drained;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Our API: `npm start`'s local host on the in-process Cosmos store and broker. */
export function startRoger(env: Record<string, string>): Promise<ServerProcess> {
  return startProcess('dist/tools/start.js', { SERVICEBUS_LOCAL_PORT: '0', MICROSOFT_LOCAL_PORT: '0', ...env }, (line) =>
    line.includes('listening on'),
  );
}

export function startPeer(refreshTokens: number, store: 'memory' | 'cosmos'): Promise<ServerProcess> {
  return startProcess('dist/tools/bench-peer.js', { REFRESH_TOKENS: String(refreshTokens), PEER_STORE: store }, (line) => line.startsWith('ready '));
}
