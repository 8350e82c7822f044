import { startLocalMicrosoft, type LocalMicrosoft } from '@roger-cloud/local-microsoft';
import type { Config } from '../../shared/config/load-config.js';
import { openMicrosoftSignIn, type MicrosoftSignIn } from '../../shared/microsoft/msal.js';
import { openOneDrive, type OneDrive } from '../../shared/onedrive/onedrive.js';
import { newSecret } from '../../shared/tokens/secrets.js';
import { seedDefaultTenant, seedLocalEntra } from './entra-seed.js';

/**
 * Local runs only (ENTRA_CLIENT_ID unset): Entra ID and Graph stood in by tools/microsoft in this
 * process, on the services' clock, with an app registration made up for the run. OneDrive and
 * Sign in with Microsoft are then the same code as against Microsoft. One stand-in per
 * configuration serves both (so a test signs in and connects OneDrive in one simulated Entra):
 * OneDrive over its plain listener, MSAL over its HTTPS one, whose self-signed certificate,
 * made at start, MSAL's network client is told to trust. `microsoft` is there for tests and the demo.
 */
interface SharedStandIn {
  readonly microsoft: LocalMicrosoft;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The HTTPS listener's certificate (PEM). */
  readonly cert: string;
  users: number;
}

const standIns = new WeakMap<Config, Promise<SharedStandIn>>();

async function acquire(config: Config, now: () => Date): Promise<SharedStandIn> {
  let pending = standIns.get(config);
  if (!pending) {
    pending = (async () => {
      const clientId = 'roger-local';
      const clientSecret = newSecret();
      // A CommonJS package: Node names its export, the bundle (dist/) only gives `default`.
      const selfsigned = await import('selfsigned');
      const generate = selfsigned.generate ?? (selfsigned as unknown as { default: typeof selfsigned }).default.generate;
      const tls = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
        keySize: 2048,
        algorithm: 'sha256',
        extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
      });
      const microsoft = await startLocalMicrosoft({
        port: config.microsoft.localPort,
        clientId,
        clientSecret,
        now: () => now().getTime(),
        defaultTenant: seedDefaultTenant,
        secure: { key: tls.private, cert: tls.cert },
      });
      seedLocalEntra(microsoft);
      return { microsoft, clientId, clientSecret, cert: tls.cert, users: 0 };
    })();
    pending.catch(() => standIns.delete(config));
    standIns.set(config, pending);
  }
  const shared = await pending;
  shared.users += 1;
  return shared;
}

async function release(config: Config, shared: SharedStandIn): Promise<void> {
  shared.users -= 1;
  if (shared.users > 0) return;
  standIns.delete(config);
  await shared.microsoft.close();
}

/**
 * `registration`: the made-up app registration, for tests that play an OAuth client of their own
 * against the stand-in (a link's refresh token as stored before OneDrive used MSAL).
 */
export async function openLocalOneDrive(
  config: Config,
  now: () => Date,
): Promise<OneDrive & { microsoft: LocalMicrosoft; registration: { clientId: string; clientSecret: string } }> {
  const shared = await acquire(config, now);
  try {
    const onedrive = await openOneDrive(config, now, {
      authority: shared.microsoft.secureAuthority!,
      graphBaseUrl: shared.microsoft.graphUrl,
    });
    return {
      ...onedrive,
      microsoft: shared.microsoft,
      registration: { clientId: shared.clientId, clientSecret: shared.clientSecret },
      async close() {
        await onedrive.close();
        await release(config, shared);
      },
    };
  } catch (error) {
    await release(config, shared);
    throw error;
  }
}

/** `timeoutMs`: how long MSAL's requests wait for the stand-in (tests of a silent Entra shorten it). */
export async function openLocalMicrosoftSignIn(
  config: Config,
  now: () => Date,
  options: { timeoutMs?: number } = {},
): Promise<MicrosoftSignIn & { microsoft: LocalMicrosoft }> {
  const shared = await acquire(config, now);
  try {
    const signIn = await openMicrosoftSignIn(config, now, {
      clientId: shared.clientId,
      clientSecret: shared.clientSecret,
      authority: shared.microsoft.secureAuthority!,
      ca: shared.cert,
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    });
    return {
      ...signIn,
      microsoft: shared.microsoft,
      async close() {
        await signIn.close();
        await release(config, shared);
      },
    };
  } catch (error) {
    await release(config, shared);
    throw error;
  }
}
