/**
 * A local Azure Service Bus namespace for development and tests: an AMQP 1.0 broker on rhea that
 * the real @azure/service-bus SDK talks to over plain TCP (connection string with
 * `UseDevelopmentEmulator=true`) or over WebSockets on the same port (websocket.ts). It serves
 * the subset Roger Cloud uses (docs/flows.md#release-to-printers): topics,
 * subscriptions with correlation filters, peek-lock and settlement, dead-lettering, TTL,
 * duplicate detection, and SAS authorisation scoped by resource-URI prefix.
 *
 * Entities are provisioned through this API, not the administration client (that is HTTPS/ATOM).
 */
import type { AddressInfo, Server, Socket } from 'node:net';
import rhea from 'rhea';
import type { Connection, EventContext, link, Receiver, Sender, TerminusOptions } from 'rhea';
import { entityUri, parseLinkAddress, rightNeeded, type EntityAddress } from './addresses.js';
import { MAX_MESSAGE_SIZE } from './amqp-encoding.js';
import { ClaimStore, handlePutToken, putTokenReply } from './cbs.js';
import { EntityStore, type SubscriptionOptions, type SubscriptionQueue, type TopicOptions } from './entities.js';
import { handleManagementRequest } from './management.js';
import { serveRequests } from './request-response.js';
import { setAttachReply } from './rhea-internals.js';
import type { Right, SasRule } from './sas.js';
import { SubscriptionSender } from './subscription-sender.js';
import { TopicReceiver } from './topic-receiver.js';
import { listenForAmqp, OpenConnections, WEBSOCKET_PATH } from './websocket.js';

export type { SasRule } from './sas.js';
export type { SubscriptionOptions, TopicOptions } from './entities.js';
export { QuotaExceededError, STANDARD_TIER_QUOTAS } from './entities.js';

export interface LocalServiceBus {
  readonly host: string;
  readonly port: number;
  /** AMQP over WebSockets on the same port: `ws://<host>:<port>/$servicebus/websocket` (websocket.ts). */
  readonly webSocketUrl: string;
  /** Full-rights connection string for the app's sender: Endpoint=sb://127.0.0.1:<port>;SharedAccessKeyName=<rule>;SharedAccessKey=<key>;UseDevelopmentEmulator=true */
  connectionString(ruleName: string): string;
  createTopic(name: string, options?: TopicOptions): void;
  createSubscription(topic: string, name: string, options?: SubscriptionOptions): void;
  deleteSubscription(topic: string, name: string): boolean;
  hasSubscription(topic: string, name: string): boolean;
  /** Client connections open now, by transport: for tests. */
  openConnections(): { amqp: number; webSockets: number };
  /** Messages waiting (not locked) in a subscription, and in its dead-letter queue: for tests. */
  countMessages(topic: string, subscription: string): { active: number; deadLetter: number };
  /** Refuse new connections and close existing ones (tests simulate an outage), then accept again. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

export interface LocalServiceBusOptions {
  readonly port?: number;
  readonly host?: string;
  readonly rules: readonly SasRule[];
  /** Clock in ms for TTL, locks and SAS expiry (default Date.now). */
  readonly now?: () => number;
}

/** What the broker knows about one client connection. */
interface ConnectionState {
  readonly claims: ClaimStore;
  readonly consumers: Set<SubscriptionSender>;
}

/** Lock expiry, TTL and scheduled messages are applied by this sweep (the clock may be injected). */
const SWEEP_INTERVAL_MS = 100;

/** How long pause()/close() wait for a client to answer the broker's close frame. */
const CLOSE_HANDSHAKE_TIMEOUT_MS = 500;

/** rhea reads link options up the chain session → connection → these listen options. */
const CONNECTION_OPTIONS = {
  /** A transfer is accepted only once it has been published. */
  autoaccept: false,
  /** Credit is granted only once a link is authorised. */
  credit_window: 0,
  /** abandon (modified) and AMQP released mean different things to Service Bus. */
  treat_modified_as_released: false,
};

class LocalBroker implements LocalServiceBus {
  private readonly container = rhea.create_container({ id: 'roger-local-service-bus' });
  private readonly rules: ReadonlyMap<string, SasRule>;
  private readonly store = new EntityStore();
  private readonly connections = new Map<Connection, ConnectionState>();
  private readonly sockets = new Set<Socket>();
  private readonly transports = new OpenConnections();
  private readonly sweepTimer: NodeJS.Timeout;
  private server: Server | undefined;
  private listeningPort = 0;
  private closed = false;

  constructor(
    readonly host: string,
    rules: readonly SasRule[],
    private readonly now: () => number,
  ) {
    this.rules = new Map(rules.map((rule) => [rule.name, rule]));
    this.container.on('connection_open', (context: EventContext) => {
      this.connections.set(context.connection, { claims: new ClaimStore(), consumers: new Set() });
    });
    this.container.on('receiver_open', (context: EventContext) => {
      if (context.receiver) this.onClientSender(context.receiver);
    });
    this.container.on('sender_open', (context: EventContext) => {
      if (context.sender) this.onClientReceiver(context.sender);
    });
    this.container.on('connection_close', (context: EventContext) => this.forget(context.connection));
    this.container.on('disconnected', (context: EventContext) => this.forget(context.connection));
    // rhea re-emits link and connection errors nobody handled here; an EventEmitter 'error' without
    // a listener would throw. A client closing links with errors is not the broker's problem.
    this.container.on('error', () => undefined);
    this.sweepTimer = setInterval(() => this.store.sweep(this.now()), SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  get port(): number {
    return this.listeningPort;
  }

  get webSocketUrl(): string {
    return `ws://${this.host}:${this.port}${WEBSOCKET_PATH}`;
  }

  connectionString(ruleName: string): string {
    const rule = this.rules.get(ruleName);
    if (!rule) throw new Error(`No SAS rule named '${ruleName}'.`);
    return `Endpoint=sb://${this.host}:${this.port};SharedAccessKeyName=${rule.name};SharedAccessKey=${rule.key};UseDevelopmentEmulator=true`;
  }

  createTopic(name: string, options?: TopicOptions): void {
    this.store.createTopic(name, options);
  }

  createSubscription(topic: string, name: string, options?: SubscriptionOptions): void {
    this.store.createSubscription(topic, name, options);
  }

  deleteSubscription(topic: string, name: string): boolean {
    return this.store.deleteSubscription(topic, name);
  }

  hasSubscription(topic: string, name: string): boolean {
    return this.store.subscription(topic, name) !== undefined;
  }

  openConnections(): { amqp: number; webSockets: number } {
    return { amqp: this.transports.amqp, webSockets: this.transports.webSockets };
  }

  countMessages(topic: string, subscription: string): { active: number; deadLetter: number } {
    const found = this.store.requireSubscription(topic, subscription);
    const now = this.now();
    return { active: found.queue.availableCount(now), deadLetter: found.deadLetterQueue.availableCount(now) };
  }

  async pause(): Promise<void> {
    await this.stopListening();
  }

  async resume(): Promise<void> {
    if (this.closed) throw new Error('The local Service Bus is closed.');
    if (!this.server) await this.listen(this.listeningPort);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweepTimer);
    await this.stopListening();
  }

  async listen(port: number): Promise<void> {
    const server = listenForAmqp(this.container, { host: this.host, port }, CONNECTION_OPTIONS, this.transports);
    server.on('connection', (socket: Socket) => {
      socket.setNoDelay(true); // otherwise Nagle + delayed ACK stall small frames ~40 ms
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    this.server = server;
    this.listeningPort = (server.address() as AddressInfo).port;
  }

  /**
   * Stops accepting, then closes each AMQP connection with amqp:connection:forced (what Service Bus
   * sends when it drops a connection) and waits briefly for the client's close. Only destroying the
   * socket would leave a client that has not yet read the FIN sending on a dead link until its
   * operation timeout; after a close frame its next operation reconnects and fails at once.
   */
  private async stopListening(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([...this.connections.keys()].map((connection) => this.closeConnection(connection)));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private closeConnection(connection: Connection): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.forget(connection);
        resolve();
      };
      const timer = setTimeout(done, CLOSE_HANDSHAKE_TIMEOUT_MS);
      // Listeners on the connection stop rhea from bubbling these events to the container.
      connection.once('connection_close', done);
      connection.once('disconnected', done);
      connection.close({ condition: 'amqp:connection:forced', description: 'The local Service Bus is unavailable.' });
    });
  }

  private forget(connection: Connection): void {
    const state = this.connections.get(connection);
    if (!state) return;
    for (const consumer of state.consumers) consumer.detach();
    this.connections.delete(connection);
  }

  /** A client sender attached: its target is a topic, $cbs, or a $management node. */
  private onClientSender(receiver: Receiver): void {
    const address = (receiver.target as TerminusOptions | undefined)?.address ?? '';
    const parsed = parseLinkAddress(address);
    if (!parsed) return refuse(receiver, 'amqp:not-found', `The messaging entity '${address}' could not be found.`);
    if (parsed.kind === 'cbs') {
      acceptAttach(receiver, address);
      return serveRequests(receiver, (request) => {
        const result = handlePutToken(request, this.rules, this.now());
        if (result.claim) this.connections.get(receiver.connection)?.claims.add(result.claim, this.now());
        return putTokenReply(request, result);
      });
    }
    if (!this.authorise(receiver, address, rightNeeded(parsed.entity))) return;
    if (parsed.kind === 'management') {
      const queue = this.queueFor(parsed.entity);
      if (!queue) return refuse(receiver, 'amqp:not-found', `The messaging entity '${address}' could not be found.`);
      acceptAttach(receiver, address);
      return serveRequests(receiver, (request) => handleManagementRequest(request, queue, this.now()));
    }
    if (parsed.entity.kind !== 'topic') {
      return refuse(receiver, 'amqp:not-allowed', `Cannot send to '${address}': send to the topic instead.`);
    }
    const topic = this.store.topic(parsed.entity.topic);
    if (!topic) return refuse(receiver, 'amqp:not-found', `The messaging entity '${address}' could not be found.`);
    acceptAttach(receiver, address, { max_message_size: MAX_MESSAGE_SIZE });
    new TopicReceiver(receiver, topic.name, this.store, this.now);
  }

  /** A client receiver attached: its source is a subscription (or DLQ), or a reply link. */
  private onClientReceiver(sender: Sender): void {
    const address = (sender.source as TerminusOptions | undefined)?.address ?? '';
    const parsed = parseLinkAddress(address);
    if (!parsed) return refuse(sender, 'amqp:not-found', `The messaging entity '${address}' could not be found.`);
    if (parsed.kind === 'cbs') return acceptAttach(sender, address); // the put-token reply link
    if (!this.authorise(sender, address, rightNeeded(parsed.entity))) return;
    if (parsed.kind === 'entity' && parsed.entity.kind === 'topic') {
      return refuse(sender, 'amqp:not-allowed', `Cannot receive from topic '${address}': receive from a subscription.`);
    }
    const queue = this.queueFor(parsed.entity);
    if (!queue) return refuse(sender, 'amqp:not-found', `The messaging entity '${address}' could not be found.`);
    if (parsed.kind === 'management') return acceptAttach(sender, address); // the $management reply link
    // Echo the client's settle modes: peekLock asks for unsettled transfers (snd 0, rcv "second"),
    // receiveAndDelete for pre-settled ones (snd 1), which rhea then sends settled.
    acceptAttach(sender, address, { snd_settle_mode: sender.snd_settle_mode, rcv_settle_mode: sender.rcv_settle_mode });
    const consumer = new SubscriptionSender(sender, queue, sender.snd_settle_mode === 1 ? 'receiveAndDelete' : 'peekLock', this.now);
    const state = this.connections.get(sender.connection);
    state?.consumers.add(consumer);
    sender.on('sender_close', () => {
      consumer.detach();
      state?.consumers.delete(consumer);
    });
  }

  /**
   * The link's entity URI must be covered by a claim this connection put on $cbs. Service Bus
   * builds it from the namespace host; here the host is the one in the client's AMQP open frame
   * and the port is the broker's, matching the audience the SDK puts tokens for.
   */
  private authorise(amqpLink: link, address: string, right: Right): boolean {
    const uri = entityUri(amqpLink.connection.hostname ?? this.host, this.port, address);
    if (this.connections.get(amqpLink.connection)?.claims.authorises(uri, right, this.now())) return true;
    refuse(
      amqpLink,
      'amqp:unauthorized-access',
      `Unauthorized access. '${right}' claim(s) are required to perform this operation. Resource: '${uri}'.`,
    );
    return false;
  }

  private queueFor(entity: EntityAddress): SubscriptionQueue | undefined {
    if (entity.kind !== 'subscription') return undefined;
    const subscription = this.store.subscription(entity.topic, entity.subscription);
    if (!subscription) return undefined;
    return entity.deadLetter ? subscription.deadLetterQueue : subscription.queue;
  }
}

/** Completes the attach rhea will send back, echoing the client's terminus addresses. */
function acceptAttach(amqpLink: link, address: string, fields: Parameters<typeof setAttachReply>[1] = {}): void {
  const remote = amqpLink.is_receiver()
    ? (amqpLink.source as TerminusOptions | undefined)
    : (amqpLink.target as TerminusOptions | undefined);
  const peer = { address: remote?.address ?? '' };
  if (amqpLink.is_receiver()) {
    amqpLink.set_target({ address });
    amqpLink.set_source(peer);
  } else {
    amqpLink.set_source({ address });
    amqpLink.set_target(peer);
  }
  setAttachReply(amqpLink, fields);
}

/**
 * Refusing an attach the AMQP way: answer it with a null terminus (rhea's local source/target are
 * still unset) and detach at once with the error, which the SDK maps to its error codes
 * (amqp:not-found → MessagingEntityNotFound, amqp:unauthorized-access → UnauthorizedAccess).
 */
function refuse(amqpLink: link, condition: string, description: string): void {
  amqpLink.close({ condition, description });
}

export async function startLocalServiceBus(options: LocalServiceBusOptions): Promise<LocalServiceBus> {
  const broker = new LocalBroker(options.host ?? '127.0.0.1', options.rules, options.now ?? Date.now);
  try {
    await broker.listen(options.port ?? 0);
  } catch (error) {
    await broker.close();
    throw error;
  }
  return broker;
}
