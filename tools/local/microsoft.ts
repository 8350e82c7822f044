import { startLocalMicrosoft, type LocalMicrosoft } from '@roger-cloud/local-microsoft';
import type { Config } from '../../shared/config/load-config.js';
import { openOneDrive, type OneDrive } from '../../shared/onedrive/onedrive.js';
import { newSecret } from '../../shared/tokens/secrets.js';
import { seedDefaultTenant, seedLocalEntra } from './entra-seed.js';

/**
 * Local runs only (ENTRA_CLIENT_ID unset): Entra ID and Graph stood in by tools/microsoft in this
 * process, on the services' clock, with an app registration made up for the run. OneDrive is
 * then the same code as against Microsoft. `microsoft` is there for tests and the demo.
 */
export async function openLocalOneDrive(config: Config, now: () => Date): Promise<OneDrive & { microsoft: LocalMicrosoft }> {
  const clientId = 'roger-local';
  const clientSecret = newSecret();
  const microsoft = await startLocalMicrosoft({
    port: config.microsoft.localPort,
    clientId,
    clientSecret,
    now: () => now().getTime(),
    defaultTenant: seedDefaultTenant,
  });
  try {
    seedLocalEntra(microsoft);
    const onedrive = await openOneDrive(config, now, {
      clientId,
      clientSecret,
      authority: microsoft.authority,
      graphBaseUrl: microsoft.graphUrl,
    });
    return {
      ...onedrive,
      microsoft,
      async close() {
        await onedrive.close();
        await microsoft.close();
      },
    };
  } catch (error) {
    await microsoft.close();
    throw error;
  }
}
