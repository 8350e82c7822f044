import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import type { EnrolledPrinter } from '../../../tests/helpers/printer.js';
import { oauthEnv } from '../../../tests/helpers/roger.js';
import { startTestHost, type TestHost } from '../../../tests/helpers/test-host.js';
import { writeState } from '../src/state.js';

/**
 * roger-printer as a person runs it: `node clients/roger-printer/bin/roger-printer.js …` in a
 * child process, its panel fed line by line on stdin, its output read as it comes. Short
 * backoffs (the test-only knobs) so faults recover within a test's time.
 */
const BIN = fileURLToPath(new URL('../bin/roger-printer.js', import.meta.url));

export class AgentProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  #seen = 0;

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  static start(args: string[], env: Record<string, string> = {}): AgentProcess {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ROGER_PRINTER_BACKOFF_MS: '50', ROGER_PRINTER_BACKOFF_MAX_MS: '200', ...env },
      stdio: 'pipe',
    });
    return new AgentProcess(child);
  }

  /**
   * The program on a terminal of its own, as a person at a console runs it: util-linux `script`
   * gives it a pseudo-terminal, and what is typed here reaches it as keystrokes. Its output is
   * then the terminal's (the prompt, escape sequences, CR LF).
   */
  static startOnTerminal(args: string[], env: Record<string, string> = {}): AgentProcess {
    const command = [process.execPath, BIN, ...args].map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('script', ['--quiet', '--flush', '--return', '--command', command, '/dev/null'], {
      env: { ...process.env, ROGER_PRINTER_BACKOFF_MS: '50', ROGER_PRINTER_BACKOFF_MAX_MS: '200', TERM: 'dumb', ...env },
      stdio: 'pipe',
    });
    return new AgentProcess(child);
  }

  /** The next stdout match of `pattern` after the last one waited for. */
  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rest = this.stdout.slice(this.#seen);
      const match = pattern.exec(rest);
      if (match) {
        this.#seen += match.index + match[0].length;
        return match;
      }
      if (this.child.exitCode !== null)
        throw new Error(`roger-printer exited (${this.child.exitCode}) before ${pattern}:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  /** `quit` at the panel; resolves with the exit code. */
  async quit(): Promise<number | null> {
    this.type('quit');
    return this.exited;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

export interface WorkFolder {
  readonly dir: string;
  readonly state: string;
  readonly output: string;
  remove(): Promise<void>;
}

/** A folder of the test's own for the state file and the output. */
export async function workFolder(): Promise<WorkFolder> {
  const dir = await mkdtemp(join(tmpdir(), 'roger-printer-'));
  return { dir, state: join(dir, 'state.json'), output: join(dir, 'printed'), remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * What a test file of the real program needs around it: a test host (started before its tests,
 * closed after), and the agents and folders its tests make, killed and removed at the end.
 * `env` is added to every agent's environment; `startHost` starts another kind of host (one
 * with the Graph stand-in, for tests that print).
 */
export function agentsOnTestHost(
  env: Record<string, string> = {},
  startHost: () => Promise<TestHost> = () => startTestHost({ env: oauthEnv }),
) {
  let host: TestHost | undefined;
  const agents: AgentProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    host = await startHost();
  });
  afterAll(async () => {
    agents.forEach((agent) => agent.kill());
    await Promise.all(cleanups.map((cleanup) => cleanup()));
    await host?.close();
  });
  return {
    get host(): TestHost {
      if (!host) throw new Error('the test host is started in beforeAll');
      return host;
    },
    start(args: string[], on: 'pipe' | 'terminal' = 'pipe'): AgentProcess {
      const agent = on === 'terminal' ? AgentProcess.startOnTerminal(args, env) : AgentProcess.start(args, env);
      agents.push(agent);
      return agent;
    },
    async folder(): Promise<WorkFolder> {
      const made = await workFolder();
      cleanups.push(made.remove);
      return made;
    },
  };
}

/** The arguments of `start` for a printer against `host`. */
export const startArgs = (host: TestHost, folder: { state: string; output: string }, ...more: string[]) => [
  'start',
  '--api',
  host.url,
  '--state',
  folder.state,
  '--output',
  folder.output,
  ...more,
];

/** A state file for a printer enrolled by a fixture (set-up for tests about what follows enrollment). */
export const writeEnrolledState = (host: TestHost, path: string, printer: EnrolledPrinter, name?: string) =>
  writeState(path, {
    apiUrl: host.url,
    deviceId: printer.deviceId,
    refreshToken: printer.refresh,
    ...(name ? { name } : {}),
    enrolledAt: new Date().toISOString(),
  });
