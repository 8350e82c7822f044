import type { Config } from './config/load-config.js';
import { openStore, type Store } from './store/store.js';

/**
 * What a handler may use: passed in, never imported as globals, so tests and the local host
 * wire the same code to their own servers.
 */
export interface Services {
  readonly config: Config;
  readonly store: Store;
  /** The one clock. */
  now(): Date;
}

export type ServicesProvider = () => Promise<Services>;

/**
 * Builds the services once, on first use, and reuses them for every later invocation of the
 * process (one Cosmos client per process, as the SDK wants). A failed start is retried on the
 * next call instead of being cached.
 */
export function lazyServices(config: Config): ServicesProvider & { close(): Promise<void> } {
  let pending: Promise<Services> | undefined;
  const provider = () => {
    pending ??= openStore(config).then(
      (store): Services => ({ config, store, now: () => new Date() }),
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };
  provider.close = async () => {
    const services = await pending?.catch(() => undefined);
    pending = undefined;
    await services?.store.close();
  };
  return provider;
}
