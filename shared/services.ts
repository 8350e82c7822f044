import type { Config } from './config/load-config.js';
import type { MicrosoftSignIn } from './microsoft/msal.js';
import type { Messaging } from './messaging/messaging.js';
import { tracedMessaging } from './messaging/traced-messaging.js';
import type { OneDrive } from './onedrive/onedrive.js';
import { tracedOneDrive } from './onedrive/traced-onedrive.js';
import type { Store } from './store/store.js';
import { noTelemetry, type Telemetry } from './telemetry/telemetry.js';
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
  /**
   * Sign in with Microsoft through MSAL, opened on first use like OneDrive (MSAL is large).
   * Throws Unavailable `microsoft-sign-in-not-configured` when the region has no app registration.
   */
  microsoft(): Promise<MicrosoftSignIn>;
  /** The one clock. */
  now(): Date;
  /** Counts, dependency spans and log records for the operator (telemetry/telemetry.ts); `noTelemetry` unless the host turns it on. */
  readonly telemetry: Telemetry;
}

export type ServicesProvider = () => Promise<Services>;

/**
 * How the services reach Cosmos DB, Service Bus and Entra ID/Graph; the host chooses. The
 * Functions entry passes `azureAdapters` (azure-adapters.ts); `npm start`, the demo, the bench
 * and the tests pass the stand-ins of tools/local/. Nothing past the host knows which it got:
 * both hand over the same Store, Messaging and OneDrive, built by the same code.
 */
export interface Adapters {
  /** Every Cosmos request is a dependency span of `telemetry` (the SDK's HTTP client is the boundary). */
  store(config: Config, telemetry: Telemetry): Promise<Store>;
  /** The Service Bus client the app sends with, and how printer subscriptions are made. */
  messaging(config: Config): Promise<Messaging>;
  /** OneDrive through the app registration and the Entra ID and Graph endpoints the host names. */
  onedrive(config: Config, now: () => Date): Promise<OneDrive>;
  /** Sign in with Microsoft: the same app registration through MSAL, at the authority (and over the TLS trust) the host names. */
  microsoft(config: Config, now: () => Date): Promise<MicrosoftSignIn>;
}

/**
 * Builds the services once, on first use, and reuses them for every later invocation of the
 * process (one Cosmos client per process, as the SDK wants). A failed start is retried on the
 * next call instead of being cached. `clock` is replaceable so tests can move time forward
 * (token expiry, lockout, 90-day idle refresh tokens) without waiting.
 */
export function lazyServices(
  config: Config,
  adapters: Adapters,
  clock: () => Date = () => new Date(),
  telemetry: Telemetry = noTelemetry,
): ServicesProvider & { close(): Promise<void> } {
  let pending: Promise<Services> | undefined;
  const messaging = openedOnce(async () => tracedMessaging(await adapters.messaging(config), telemetry));
  // Without the app registration's secret, OneDrive answers 503 onedrive-not-configured and nothing else changes.
  const onedrive = openedOnce(async () => {
    if (config.microsoft.disabledBecause) throw (await import('./onedrive/onedrive.js')).notConfiguredProblem();
    return tracedOneDrive(await adapters.onedrive(config, clock), telemetry);
  });
  const microsoft = openedOnce(async () => {
    if (config.microsoft.disabledBecause) throw (await import('./microsoft/unavailable.js')).signInNotConfiguredProblem();
    return adapters.microsoft(config, clock);
  });
  const provider = () => {
    pending ??= Promise.all([adapters.store(config, telemetry), loadKeyRing(config.oauth.signingKeys)]).then(
      ([store, keys]): Services => ({
        config,
        store,
        keys,
        messaging: messaging.get,
        onedrive: onedrive.get,
        microsoft: microsoft.get,
        now: clock,
        telemetry,
      }),
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
    await microsoft.close();
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
