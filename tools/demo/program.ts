import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { basename } from 'node:path';

/**
 * One of the reference clients (clients/roger, clients/roger-printer) as the demo runs it: the
 * real bundled program in a child process, as a person would start it in a terminal. Every line
 * it writes (stdout and stderr) is shown indented under its label, so the story reads as the
 * demo's own steps with the programs' answers beneath them. The demo reads what it needs (a user
 * code, a job id) from the same output, and types panel commands on stdin.
 */
export class Program {
  readonly exited: Promise<number | null>;
  #output = '';
  readonly #main = this.reader();
  #partial = { stdout: '', stderr: '' };

  private constructor(
    readonly label: string,
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly show: (line: string) => void,
  ) {
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].setEncoding('utf8').on('data', (chunk: string) => this.#take(stream, chunk));
    }
    this.exited = new Promise((resolve) =>
      child.on('close', (code) => {
        for (const stream of ['stdout', 'stderr'] as const) if (this.#partial[stream]) this.#take(stream, '\n');
        resolve(code);
      }),
    );
  }

  /**
   * `node <script> <args>` in the folder `cwd`, labelled `label`. The environment is the demo's without any ROGER_
   * setting of the person running it (their own API address or config folder), plus `env`.
   */
  static start(
    label: string,
    script: string,
    args: readonly string[],
    where: { cwd: string; env: Record<string, string> },
    show: (line: string) => void,
  ) {
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('ROGER_')));
    show(`${label} $ ${[basename(script, '.js'), ...args].map(quoted).join(' ')}`);
    const child = spawn(process.execPath, [script, ...args], { cwd: where.cwd, env: { ...inherited, ...where.env }, stdio: 'pipe' });
    return new Program(label, child, show);
  }

  /** Shows the program's lines as they come, and keeps them for waitFor. */
  #take(stream: 'stdout' | 'stderr', chunk: string) {
    const text = this.#partial[stream] + chunk;
    const lines = text.split('\n');
    this.#partial[stream] = lines.pop()!;
    for (const line of lines) {
      this.#output += `${line}\n`;
      this.show(`${this.label} │ ${line.replace(/\r/g, '')}`);
    }
  }

  /** The next match of `pattern` in the program's output after the last one waited for. */
  waitFor(pattern: RegExp, timeoutMs = WAIT_MS): Promise<RegExpMatchArray> {
    return this.#main.waitFor(pattern, timeoutMs);
  }

  /**
   * A reader of the output from here on, with its own place: for lines that may come in any
   * order (a released job may be printed before the panel says its session is signed in).
   */
  reader(): { waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray> } {
    let seen = this.#output.length;
    return {
      waitFor: async (pattern, timeoutMs = WAIT_MS) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const match = pattern.exec(this.#output.slice(seen));
          if (match) {
            seen += match.index + match[0].length;
            return match;
          }
          if (this.child.exitCode !== null) throw new Error(`${this.label} ended (exit ${this.child.exitCode}) before saying ${pattern}`);
          if (Date.now() > deadline) throw new Error(`${this.label} did not say ${pattern} within ${timeoutMs / 1000} s`);
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
      },
    };
  }

  /** A line typed at the program's prompt (the printer's panel). */
  type(line: string): void {
    this.show(`${this.label} > ${line}`);
    this.child.stdin.write(`${line}\n`);
  }

  /** Its exit code once it has ended by itself, or an error naming it. */
  async finished(timeoutMs = WAIT_MS): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.label} did not end within ${timeoutMs / 1000} s`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the program if it is still running (the demo failed half-way). */
  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
  }
}

/** Generous: on a busy machine (CI runs test files side by side) each step of a program may take a while. */
const WAIT_MS = 45_000;

const quoted = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
