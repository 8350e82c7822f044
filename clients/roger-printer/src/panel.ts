import { createInterface, type Interface } from 'node:readline';
import type { Backoff } from '@roger-cloud/client-kit/backoff';
import { apiRequest } from '@roger-cloud/client-kit/http';
import { oauth } from '@roger-cloud/client-kit/oauth';
import { Disconnected } from './contracts.js';
import type { DeviceTokens } from './device-credentials.js';
import { codeLines, pollDeviceCode } from './device-flow.js';
import { registerBadge } from './badge-registration.js';
import { explain, explainBadgeRefusal, explainSignInRefusal } from './explain.js';
import { PanelSignIn, pinNeeded, refusedPrinterToken, sessionFrom, type PanelSession } from './panel-sign-in.js';
import type { SessionTokenStore } from './session-tokens.js';
import type { Terminal } from './terminal.js';

export interface PanelOptions {
  readonly credentials: DeviceTokens;
  readonly sessions: SessionTokenStore;
  readonly terminal: Terminal;
  readonly backoff: Backoff;
  /** Aborted when the agent stops. */
  readonly signal: AbortSignal;
  /** The one-line answer to `status`. */
  status(): string;
  /** `quit`, or the end of typing on a terminal (Ctrl-D, Ctrl-C). */
  quit(): void;
  /** The enrollment ended while the panel was using the printer's token. */
  disconnected(error: Disconnected): void;
}

const HELP = 'commands: qr | pin <username> | badge | pin-only | release [JOB-ID...] | register badge [LABEL] | status | quit';

/**
 * The printer's panel as a prompt (docs/clients.md#roger-printer): one command per line on
 * stdin. A person signs in with a session QR approved in the app, with username and PIN, with a
 * badge (and PIN, if the organization asks), or with a PIN alone where PINs say who someone is;
 * the last one signed in can release their queued jobs and register a badge. When stdin is not
 * a terminal (a demo, a test) its end does not stop the agent: the printer keeps printing with
 * nobody at the panel.
 */
export class Panel {
  readonly #signIn: PanelSignIn;
  #readline?: Interface;
  #lines?: AsyncIterator<string>;
  /** The session QR on show: a new `qr` replaces it. */
  #pendingQr?: AbortController;
  /** The last person signed in at the panel: `release` acts for them. */
  #current?: PanelSession;

  constructor(private readonly options: PanelOptions) {
    this.#signIn = new PanelSignIn(options.credentials, options.backoff, options.signal);
  }

  /** Reads commands until `quit` (or, on a terminal, the end of input); resolves when reading ends. */
  async run(): Promise<void> {
    const { terminal } = this.options;
    const readline = createInterface({
      input: process.stdin,
      output: terminal.echo,
      terminal: terminal.tty,
      prompt: 'panel> ',
      historySize: 0, // a PIN typed at the panel must not come back with the up arrow
    });
    this.#readline = readline;
    this.#lines = readline[Symbol.asyncIterator]();
    readline.on('SIGINT', () => this.options.quit());
    terminal.attach(readline);
    if (terminal.tty) terminal.line(HELP);
    try {
      for (;;) {
        if (terminal.tty) readline.prompt();
        const next = await this.#lines.next();
        if (next.done || this.options.signal.aborted) break;
        await this.#command(next.value.trim());
      }
    } finally {
      terminal.attach(undefined);
    }
    if (terminal.tty && !this.options.signal.aborted) this.options.quit();
  }

  close(): void {
    this.#pendingQr?.abort();
    this.#readline?.close();
  }

  async #command(line: string): Promise<void> {
    const [command, ...args] = line.split(/\s+/).filter(Boolean);
    if (!command) return;
    try {
      switch (command.toLowerCase()) {
        case 'qr':
          return await this.#qr();
        case 'pin':
          return await this.#pin(args[0]);
        case 'badge':
          return await this.#badge(args);
        case 'pin-only':
          return await this.#pinOnly(args);
        case 'register':
          return await this.#register(args);
        case 'release':
          return await this.#release(args);
        case 'status':
          return this.options.terminal.line(this.options.status());
        case 'quit':
        case 'exit':
          return this.options.quit();
        case 'help':
          return this.options.terminal.line(HELP);
        default:
          // Not repeated back: a line that is no command may be a PIN typed at the wrong
          // moment (after a bare `pin`), and the agent's output often goes to a log.
          return this.options.terminal.line(`unknown command: ${HELP}`);
      }
    } catch (error) {
      this.#failed(command, error);
    }
  }

  #failed(what: string, error: unknown): void {
    if (error instanceof Disconnected) return this.options.disconnected(error);
    if (this.options.signal.aborted) return;
    this.options.terminal.error(`${what} failed: ${explain(error)}`);
  }

  /** A session QR: shown now, approved later in the app; the poll runs while the panel takes other commands. */
  async #qr(): Promise<void> {
    this.#pendingQr?.abort();
    const shown = new AbortController();
    this.#pendingQr = shown;
    const { config, authorization } = await this.#signIn.startSession();
    for (const line of await codeLines(authorization, 'session code')) this.options.terminal.line(line);
    void this.#awaitApproval(config, authorization, shown).catch((error: unknown) => this.#failed('qr', error));
  }

  async #awaitApproval(config: oauth.Configuration, authorization: oauth.DeviceAuthorizationResponse, shown: AbortController) {
    const { terminal } = this.options;
    let tokens: oauth.TokenEndpointResponse | undefined;
    try {
      tokens = await pollDeviceCode(config, authorization, {
        backoff: this.options.backoff,
        signal: AbortSignal.any([this.options.signal, shown.signal]),
      });
    } catch (error) {
      if (shown.signal.aborted || this.options.signal.aborted) return; // replaced by a new QR, or stopping
      if (error instanceof oauth.ResponseBodyError && error.error === 'access_denied')
        return terminal.line('sign-in refused: the request was denied');
      throw error;
    } finally {
      if (this.#pendingQr === shown) this.#pendingQr = undefined;
    }
    if (!tokens) return terminal.line(`session code expired: type qr for a new one`);
    // The approval has already released the person's queued jobs to this printer (SPEC §3.3).
    this.#signedIn(sessionFrom(tokens));
  }

  async #pin(username: string | undefined): Promise<void> {
    const { terminal } = this.options;
    if (!username) return terminal.line('usage: pin <username>');
    const pin = await this.#secretLine('PIN: ');
    if (pin === undefined) return;
    await this.#signInBy(undefined, () => this.#signIn.withPin(username, pin));
  }

  /**
   * One sign-in at the panel: `signed in`, or `sign-in refused: <why>` for what the token
   * endpoint answered about the person (`way` names the method when the organization has it off).
   * The printer's own token refused, a network failure or the end of the enrollment go on up.
   */
  async #signInBy(way: string | undefined, attempt: () => Promise<PanelSession | undefined>): Promise<void> {
    try {
      const session = await attempt();
      if (session) this.#signedIn(session);
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError && !refusedPrinterToken(error)) {
        const why = way ? explainSignInRefusal(error, way) : explain(error);
        return this.options.terminal.line(`sign-in refused: ${why}`);
      }
      throw error;
    }
  }

  /**
   * A badge, as a card reader types it (a line of digits or hex) and, when the organization wants
   * badge and PIN, the PIN asked for next and both sent again once. Both hidden: a badge number is
   * a credential, and the agent's output often goes to a log. Nothing is taken from the command
   * line itself, for the same reason.
   */
  async #badge(args: string[]): Promise<void> {
    const { terminal } = this.options;
    if (args.length > 0) return terminal.line('usage: badge (then tap the badge, or type its number)');
    const badge = await this.#secretLine('badge: ');
    if (badge === undefined) return;
    if (!badge.trim()) return terminal.line('sign-in refused: no badge was read');
    await this.#signInBy('badge sign-in', async () => {
      try {
        return await this.#signIn.withBadge(badge.trim());
      } catch (error) {
        if (!pinNeeded(error)) throw error;
        const pin = await this.#secretLine('PIN: ');
        return pin === undefined ? undefined : this.#signIn.withBadge(badge.trim(), pin);
      }
    });
  }

  /** A PIN alone, for organizations whose PINs are long enough to say who someone is (policy `pinOnly`). */
  async #pinOnly(args: string[]): Promise<void> {
    const { terminal } = this.options;
    if (args.length > 0) return terminal.line('usage: pin-only (then type the PIN)');
    const pin = await this.#secretLine('PIN: ');
    if (pin === undefined) return;
    await this.#signInBy('PIN-only sign-in', () => this.#signIn.withPinOnly(pin));
  }

  /** `register badge [LABEL]`: the badge tapped next becomes the signed-in person's, confirmed with their PIN (POST /api/me/badges, their session token). */
  async #register(args: string[]): Promise<void> {
    const { terminal } = this.options;
    const [what, ...label] = args;
    if (what?.toLowerCase() !== 'badge') return terminal.line('usage: register badge [LABEL]');
    const session = this.#liveSession();
    if (!session) return terminal.line('register badge: sign in first (qr, pin or badge)');
    const number = await this.#secretLine('badge: ');
    if (number === undefined) return;
    if (!number.trim()) return terminal.line('badge not registered: no badge was read');
    // The PIN of the person signed in, asked every time: a session left open at the panel must not
    // let the next person tie their badge to it (docs/security.md#badges). Hidden like the badge.
    const pin = await this.#secretLine('PIN: ');
    if (pin === undefined) return;
    if (!pin.trim()) return terminal.line('badge not registered: no PIN was typed');
    try {
      await registerBadge(
        this.options.credentials.apiUrl,
        { token: session.token, signal: this.options.signal },
        { number: number.trim(), pin: pin.trim(), ...(label.length > 0 ? { label: label.join(' ') } : {}) },
      );
    } catch (error) {
      if (this.options.signal.aborted) throw error;
      return terminal.line(`badge not registered: ${explainBadgeRefusal(error)}`);
    }
    terminal.line('badge registered');
  }

  /** The last person signed in at the panel, while their session lasts. */
  #liveSession(): PanelSession | undefined {
    const session = this.#current;
    return session && session.expiresAt.getTime() > Date.now() ? session : undefined;
  }

  /** The next line typed, not echoed on a terminal. */
  async #secretLine(prompt: string): Promise<string | undefined> {
    const { terminal } = this.options;
    if (terminal.tty) {
      process.stdout.write(prompt);
      terminal.mute();
    } else {
      terminal.line(prompt);
    }
    try {
      const next = await this.#lines!.next();
      return next.done ? undefined : next.value;
    } finally {
      if (terminal.tty) {
        terminal.unmute();
        process.stdout.write('\n');
      }
    }
  }

  #signedIn(session: PanelSession): void {
    this.options.sessions.remember(session.sessionId, session.token, session.expiresAt);
    this.#current = session;
    this.options.terminal.line(`signed in: session ${session.sessionId}`);
  }

  /** The named jobs, or every queued job of the person signed in, sent to this printer. */
  async #release(jobIds: string[]): Promise<void> {
    const { terminal, credentials } = this.options;
    const session = this.#liveSession();
    if (!session) return terminal.line('release: sign in first (qr, pin or badge)');
    const call = { token: session.token, signal: this.options.signal };
    const ids = jobIds.length > 0 ? jobIds : await queuedJobIds(credentials.apiUrl, call);
    let released = 0;
    for (const id of ids) {
      try {
        await apiRequest(credentials.apiUrl, `/api/jobs/${encodeURIComponent(id)}/release`, { ...call, method: 'POST' });
        released++;
      } catch (error) {
        terminal.error(`release ${id} failed: ${explain(error)}`);
      }
    }
    terminal.line(`released ${released}`);
  }
}

/** Pages of 100 read at most: 2,000 queued jobs is more than one person sends to a printer. */
const MAX_QUEUED_PAGES = 20;

/** Every queued job of the session's person, page by page (bounded, so an answer that never ends cannot hold the panel). */
async function queuedJobIds(apiUrl: string, call: { token: string; signal: AbortSignal }): Promise<string[]> {
  const ids: string[] = [];
  let continuation: string | undefined;
  for (let pages = 0; pages < MAX_QUEUED_PAGES; pages++) {
    const query = new URLSearchParams({ state: 'queued', limit: '100', ...(continuation ? { continuationToken: continuation } : {}) });
    const page = await apiRequest<{ items: { id: string }[]; continuationToken?: string | null }>(apiUrl, `/api/jobs?${query}`, call);
    ids.push(...page.items.map((job) => job.id));
    continuation = page.continuationToken ?? undefined;
    if (!continuation) break;
  }
  return ids;
}
