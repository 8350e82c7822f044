import type { LockoutScope, RefusalStatus, SignInMethod, SignInOutcome } from './metric-names.js';

/**
 * What the app tells an operator, as the domain says it: counts of what happened, the calls it
 * made to Cosmos DB, Service Bus and Microsoft, and its log events. The host chooses where it
 * goes (telemetry/start.ts): nowhere (`noTelemetry`, the default), Azure Monitor, or the console.
 * Nothing here knows OpenTelemetry, so the domain does not either.
 *
 * Every attribute is a name from a fixed list, a number, a status or an id the app made up:
 * never emails, names, usernames, PINs, passwords, tokens, codes, file names or addresses
 * (docs/security.md#logs-errors-and-telemetry). The methods take only those, so a caller cannot
 * pass anything else.
 */
export interface Telemetry {
  /** One sign-in attempt and how it ended (`roger.sign_ins`). */
  signIn(method: SignInMethod, outcome: SignInOutcome): void;
  /** A lock began (`roger.lockouts`). */
  lockout(scope: LockoutScope): void;
  /** A rotated refresh token came back; its family was revoked (`roger.refresh_reuse`). */
  refreshReuse(): void;
  /** One release operation reached the planner (`roger.releases`). */
  release(): void;
  /** Messages sent to printers over Service Bus (`roger.messages_sent`). */
  messagesSent(count: number): void;
  /** The app answered 429 or 503 (`roger.refusals`). */
  refusal(status: RefusalStatus): void;
  /**
   * Runs `work` as one call to a service the app depends on (a dependency span). `outcome`
   * reads what the call answered; a throw is recorded by its error's name and status only.
   */
  dependency<T>(call: DependencyCall, work: () => Promise<T>, outcome?: (result: T) => DependencyOutcome): Promise<T>;
  /**
   * One log event with its fields as attributes (the logger calls this; logging/logger.ts).
   * `time` (ms since the epoch) when it happened earlier than now: a record replayed from the
   * queue kept while telemetry starts (deferred.ts).
   */
  log(level: LogLevel, event: string, fields: Readonly<Record<string, string | number | boolean | undefined>>, time?: number): void;
  /**
   * True when these log records replace the Functions host's log: in Azure the worker sends its
   * own (the host only repeats `context.log` lines, without attributes), so the logger stops
   * writing lines there.
   */
  readonly replacesHostLog: boolean;
}

export type LogLevel = 'info' | 'warn' | 'error';

export type DependencySystem = 'cosmosdb' | 'servicebus' | 'graph' | 'entra';

/** One call to a dependency: the service, what was done, and to which container, topic or resource. */
export interface DependencyCall {
  readonly system: DependencySystem;
  /** From a fixed vocabulary: `read`, `query`, `send`, `createUploadSession`, `token`, … */
  readonly operation: string;
  /** A container, topic or resource kind: never an item id or anything a person typed. */
  readonly target?: string;
}

export interface DependencyOutcome {
  readonly statusCode?: number;
  /** Cosmos DB request units. */
  readonly requestCharge?: number;
  /** Messages in a Service Bus batch. */
  readonly messageCount?: number;
}

/** Telemetry that goes nowhere: what the domain gets unless a host turns telemetry on. */
export const noTelemetry: Telemetry = {
  signIn: () => undefined,
  lockout: () => undefined,
  refreshReuse: () => undefined,
  release: () => undefined,
  messagesSent: () => undefined,
  refusal: () => undefined,
  dependency: (_call, work) => work(),
  log: () => undefined,
  replacesHostLog: false,
};
