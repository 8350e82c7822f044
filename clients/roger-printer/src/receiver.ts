import type { ReceiverOptions } from './contracts.js';

/**
 * Placeholder: receives releases over AMQP until `signal` aborts; rejects with Disconnected when
 * the printer's enrollment ends. Filled in by the work on receiving jobs.
 */
export async function runReceiver(_options: ReceiverOptions): Promise<void> {
  throw new Error('not yet built');
}
