// A driver child of `npm run bench:scale` (docs/benchmarks.md#scale-run): it holds the AMQP
// receivers of its share of the printers, each on a connection of its own with only that
// printer's SAS token, as a printer would, and reports every message it gets to the parent.
import { ServiceBusClient, type ServiceBusReceiver, type WebSocketImpl } from '@azure/service-bus';
import { WebSocket, type ClientOptions } from 'ws';
import { wallClock, type Received, type ReceiversReport, type ReceiversStart } from './scale-protocol.js';

const ATTACH_TIMEOUT_MS = 60_000;
/** Connections opened at once: the broker shares the API's process and its two cores. */
const OPENING_AT_ONCE = 20;

const send = (report: ReceiversReport, sent?: () => void) => process.send!(report, undefined, {}, sent);

/**
 * The `ws` package's WebSocket pinned to the URL the API gave: the SDK builds
 * `wss://<host>:443/$servicebus/websocket` itself, where the local broker serves plain `ws://`
 * on its AMQP port (the URL the token answer gives).
 */
function webSocketFor(url: string): WebSocketImpl {
  return class extends WebSocket {
    constructor(_sdkUrl: string, protocols?: string | string[], options?: ClientOptions) {
      super(url, protocols, options);
    }
  } as unknown as WebSocketImpl;
}

async function main(start: ReceiversStart) {
  // Held for the life of the process.
  const clients: ServiceBusClient[] = [];
  const receivers: ServiceBusReceiver[] = [];
  let pending: Received[] = [];
  let errorCount = 0;
  const errorSamples: string[] = [];
  const attachErrors: string[] = [];
  const noteError = (text: string) => {
    errorCount += 1;
    if (errorSamples.length < 5) errorSamples.push(text.slice(0, 300));
  };
  // Batched to the parent every 50 ms: one IPC message per release would cost more than the release.
  const flush = setInterval(() => {
    if (pending.length > 0) send({ kind: 'received', messages: pending });
    pending = [];
  }, 50);
  const attachOne = async (printer: ReceiversStart['printers'][number]) => {
    const { host } = new URL(printer.amqpUrl);
    const webSocket = printer.webSocketUrl ? webSocketFor(printer.webSocketUrl) : undefined;
    const client = new ServiceBusClient(`Endpoint=sb://${host}/;SharedAccessSignature=${printer.sasToken};UseDevelopmentEmulator=true`, {
      retryOptions: { maxRetries: 1, retryDelayInMs: 200, timeoutInMs: 10_000 },
      ...(webSocket ? { webSocketOptions: { webSocket } } : {}),
    });
    clients.push(client);
    const [topic, , subscription] = printer.entityPath.split('/');
    const receiver = client.createReceiver(topic!, subscription!);
    receivers.push(receiver);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('not attached within 60 s')), ATTACH_TIMEOUT_MS);
      const handlers = {
        processMessage: async (message: { body: { jobId?: string }; applicationProperties?: Record<string, unknown>; messageId?: unknown }) => {
          pending.push([printer.deviceId, String(message.body?.jobId), String(message.applicationProperties?.printerId), String(message.messageId), wallClock()]);
        },
        processError: async (args: { error: Error }) => {
          noteError(`${args.error.name}: ${args.error.message}`);
          clearTimeout(timer);
          reject(args.error);
        },
        // The SDK calls this (its internal handler) once the link is open, just before it gives
        // credit: the only sign a streaming receiver is listening.
        postInitialize: async () => {
          clearTimeout(timer);
          resolve();
        },
      };
      receiver.subscribe(handlers, { autoCompleteMessages: true, maxConcurrentCalls: 1 });
    });
  };
  let attached = 0;
  let failed = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: OPENING_AT_ONCE }, async () => {
      while (next < start.printers.length) {
        const printer = start.printers[next++]!;
        try {
          await attachOne(printer);
          attached += 1;
        } catch (error) {
          failed += 1;
          if (attachErrors.length < 5) attachErrors.push(`${(error as Error).name}: ${(error as Error).message}`.slice(0, 300));
        }
      }
    }),
  );
  send({ kind: 'attached', attached, failed, errors: attachErrors });
  process.on('message', async (message: { kind: string }) => {
    if (message.kind !== 'close') return;
    clearInterval(flush);
    if (pending.length > 0) send({ kind: 'received', messages: pending });
    send({ kind: 'errors', count: errorCount, samples: errorSamples });
    // Not closed one by one (1,000 closes took about 10 s): the connections end with this
    // process, as a printer's do when it loses power, and the host is stopped right after.
    send({ kind: 'closed' }, () => process.exit(0));
  });
}

process.once('message', (start: ReceiversStart) => {
  main(start).catch((error: unknown) => {
    process.stderr.write(`receivers: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  });
});
