import { performance } from 'node:perf_hooks';

/** What the scale run's driver and its receiver children (scale-receivers.ts) say to each other over IPC. */

/** What the parent sends: the printers to listen for, and for each how it connects. */
export interface ReceiversStart {
  readonly printers: readonly {
    readonly deviceId: string;
    readonly amqpUrl: string;
    readonly entityPath: string;
    readonly sasToken: string;
    /** Set for the printers that connect over WebSockets. */
    readonly webSocketUrl?: string;
  }[];
}

/** One message as a receiver got it: whose receiver, which job, whom the message says it is for. */
export type Received = readonly [receiver: string, jobId: string, printerId: string, messageId: string, atMs: number];

export type ReceiversReport =
  | { readonly kind: 'attached'; readonly attached: number; readonly failed: number; readonly errors: readonly string[] }
  | { readonly kind: 'received'; readonly messages: readonly Received[] }
  | { readonly kind: 'errors'; readonly count: number; readonly samples: readonly string[] }
  | { readonly kind: 'closed' };

/** The wall clock in ms with sub-ms precision, comparable with the parent's (same machine). */
export const wallClock = () => performance.timeOrigin + performance.now();

