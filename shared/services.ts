import type { Config } from './config/load-config.js';
import type { Messaging } from './messaging/messaging.js';
import type { OneDrive } from './onedrive/onedrive.js';
import { openStore, type Store } from './store/store.js';
import { loadKeyRing, type KeyRing } from './tokens/key-ring.js';

/**
 * What a handler may use: passed in, never imported as globals, so tests and the local host
 * wire the same code to their own servers.
 */
export interface Services {
  readonly config: Config;
  readonly store: Store;
  /** Access-token signing and verification keys. */
  readonly keys: KeyRing;
  /**
   * Service Bus, opened on first use: only the functions that release jobs or manage printers
   * load the SDK (cold starts of the others stay short). One client per process.
   */
  messaging(): Promise<Messaging>;
  /** Entra ID and Graph for users' OneDrive, opened on first use like messaging (the Graph SDK is large). */
  onedrive(): Promise<OneDrive>;
  /** The one clock. */
  now(): Date;
}

export type ServicesProvider = () => Promise<Services>;

/**
 * Builds the services once, on first use, and reuses them for every later invocation of the
 * process (one Cosmos client per process, as the SDK wants). A failed start is retried on the
 * next call instead of being cached. `clock` is replaceable so tests can move time forward
 * (token expiry, lockout, 90-day idle refresh tokens) without waiting.
 */
export function lazyServices(
  config: Config,
  clock: () => Date = () => new Date(),
): ServicesProvider & { close(): Promise<void> } {
  let pending: Promise<Services> | undefined;
  const messaging = openedOnce(() => import('./messaging/messaging.js').then(({ openMessaging }) => openMessaging(config)));
  const onedrive = openedOnce(() => import('./onedrive/onedrive.js').then(({ openOneDrive }) => openOneDrive(config, clock)));
  const provider = () => {
    pending ??= Promise.all([openStore(config), loadKeyRing(config.oauth.signingKeys)]).then(
      ([store, keys]): Services => ({ config, store, keys, messaging: messaging.get, onedrive: onedrive.get, now: clock }),
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
    await messaging.close();
    await onedrive.close();
    await services?.store.close();
  };
  return provider;
}

/** A client opened on first use and then shared; a failed open is retried on the next call. */
function openedOnce<T extends { close(): Promise<void> }>(open: () => Promise<T>) {
  let opened: Promise<T> | undefined;
  return {
    get(): Promise<T> {
      opened ??= open().catch((error: unknown) => {
        opened = undefined;
        throw error;
      });
      return opened;
    },
    async close(): Promise<void> {
      const client = await opened?.catch(() => undefined);
      opened = undefined;
      await client?.close();
    },
  };
}
