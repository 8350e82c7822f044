import type { Telemetry } from '../telemetry/telemetry.js';
import type { Drive } from './graph-drive.js';
import type { OneDrive } from './onedrive.js';

/**
 * Graph calls as dependency spans, at the boundary the services hand out (services.ts): the
 * operation only. Folder names, file names, item ids and tokens are the arguments, and none of
 * them is recorded. A Graph call's span includes the token MSAL may renew for it; the consent's
 * code redemption is a span of its own (graph-tokens.ts).
 */
export function tracedOneDrive(onedrive: OneDrive, telemetry: Telemetry): OneDrive {
  return {
    ...onedrive,
    driveOf: async (services, link, log, fresh) => tracedDrive(await onedrive.driveOf(services, link, log, fresh), telemetry),
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
    deleteItem: (itemId) => graph('deleteItem', () => drive.deleteItem(itemId)),
    ensureChildFolder: (parentId, name) => graph('ensureChildFolder', () => drive.ensureChildFolder(parentId, name)),
    moveItem: (itemId, folderId) => graph('moveItem', () => drive.moveItem(itemId, folderId)),
  };
}
