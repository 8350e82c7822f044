import { clearLine, cursorTo, type Interface } from 'node:readline';
import { Writable } from 'node:stream';

/**
 * The agent's terminal (docs/clients.md#roger-printer): lines for the person at the printer on
 * stdout, problems on stderr. On a TTY a line printed while the `panel> ` prompt waits is
 * written above it and the prompt drawn again, so what someone is typing is not torn apart.
 */
export class Terminal {
  readonly tty: boolean;
  /** What readline writes to: stdout, except while a PIN is typed (nothing is echoed then). */
  readonly echo: Writable;
  #muted = false;
  #panel?: Interface;

  constructor(private readonly stdout: NodeJS.WriteStream = process.stdout) {
    this.tty = Boolean(process.stdin.isTTY && stdout.isTTY);
    const muted = () => this.#muted;
    this.echo = Object.assign(
      new Writable({
        write(chunk, encoding, done) {
          if (!muted()) stdout.write(chunk, encoding);
          done();
        },
      }),
      { isTTY: stdout.isTTY },
    );
    // readline measures the line against the terminal's width.
    Object.defineProperty(this.echo, 'columns', { get: () => stdout.columns });
  }

  /** The panel's readline, once it reads: lines are then printed above its prompt. */
  attach(panel: Interface | undefined): void {
    this.#panel = panel;
  }

  line(text: string): void {
    if (!this.tty || !this.#panel || this.#muted) {
      this.stdout.write(`${text}\n`);
      return;
    }
    clearLine(this.stdout, 0);
    cursorTo(this.stdout, 0);
    this.stdout.write(`${text}\n`);
    this.#panel.prompt(true);
  }

  error(text: string): void {
    if (this.tty && this.#panel && !this.#muted) {
      clearLine(this.stdout, 0);
      cursorTo(this.stdout, 0);
    }
    process.stderr.write(`${text}\n`);
    if (this.tty && this.#panel && !this.#muted) this.#panel.prompt(true);
  }

  /** Typing is not echoed until `unmute()`: for a PIN. */
  mute(): void {
    this.#muted = true;
  }

  unmute(): void {
    this.#muted = false;
  }
}
