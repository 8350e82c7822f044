import type { Telemetry } from '../telemetry/telemetry.js';
import type { Drive } from './graph-drive.js';
import type { OneDrive } from './onedrive.js';

/**
 * Graph and Entra ID calls as dependency spans, at the boundary the services hand out
 * (services.ts): the operation only. Folder names, file names, item ids and tokens are the
 * arguments, and none of them is recorded. A Graph call's span includes the Entra token renewal
 * it may need.
 */
export function tracedOneDrive(onedrive: OneDrive, telemetry: Telemetry): OneDrive {
  const { entra } = onedrive;
  const token = (grant: string) => ({ system: 'entra', operation: 'token', target: grant }) as const;
  return {
    ...onedrive,
    entra: {
      authorizationUrl: (input) => entra.authorizationUrl(input),
      redeemCode: (code, verifier) => telemetry.dependency(token('authorization_code'), () => entra.redeemCode(code, verifier)),
      refresh: (refreshToken) => telemetry.dependency(token('refresh_token'), () => entra.refresh(refreshToken)),
    },
    driveOf: async (store, link, log, fresh) => tracedDrive(await onedrive.driveOf(store, link, log, fresh), telemetry),
    close: () => onedrive.close(),
  };
}

function tracedDrive(drive: Drive, telemetry: Telemetry): Drive {
  const graph = <T>(operation: keyof Drive, work: () => Promise<T>) =>
    telemetry.dependency({ system: 'graph', operation, target: 'drive' }, work);
  return {
    ensureFolder: (name) => graph('ensureFolder', () => drive.ensureFolder(name)),
    createUploadSession: (folderId, fileName, conflict) =>
      graph('createUploadSession', () => drive.createUploadSession(folderId, fileName, conflict)),
    item: (itemId) => graph('item', () => drive.item(itemId)),
    downloadUrl: (itemId) => graph('downloadUrl', () => drive.downloadUrl(itemId)),
    children: (folderId, page) => graph('children', () => drive.children(folderId, page)),
  };
}
