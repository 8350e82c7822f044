import { buildRouteTable } from '../shared/http/route-table.js';
import { deviceCodesApprove, deviceCodesDeny, deviceCodesGet } from './device-codes.js';
import { devicePage, devicePageDecision, devicePageSignIn } from './device-page.js';
import { auditList } from './audit-log.js';
import { devicesAmqpToken, devicesDelete, devicesList, devicesUpdate } from './devices.js';
import { health } from './health.js';
import { jobsCancel, jobsCreate, jobsGet, jobsList, jobsPrinted, jobsReady, jobsRelease } from './jobs.js';
import { jwks } from './jwks.js';
import { me, meLogins, mePin } from './me.js';
import { notFound } from './not-found.js';
import { onedriveCallback, onedriveConnect, onedriveDisconnect, onedrivePrintFile, onedrivePrintList } from './onedrive.js';
import { scanProfilesCreate, scanProfilesDelete, scanProfilesGet, scanProfilesList, scanProfilesUpdate } from './scan-profiles.js';
import { scansCreate } from './scans.js';
import { oauthDeviceAuthorization } from './oauth-device-authorization.js';
import { oauthMetadata } from './oauth-metadata.js';
import { oauthRevoke } from './oauth-revoke.js';
import { oauthToken } from './oauth-token.js';
import { openapi } from './openapi.js';
import { regionsGet } from './regions-get.js';
import { regionsList } from './regions-list.js';
import { tenantRegion } from './tenant-region.js';
import { tenantGet, tenantUpdate } from './tenant.js';
import { tenantsCreate } from './tenants-create.js';
import { usersErase, usersExport, usersList, usersLogins, usersPinReset, usersUpdate } from './users-admin.js';
import { usersCreate } from './users-create.js';
import { usersCredentials } from './users-credentials.js';
import { usersGet } from './users-get.js';

/**
 * The route table: every HTTP function of the app. `functions/index.ts` registers it with the
 * Functions host; `tools/local-host.ts` serves it; `GET /openapi.json` describes it.
 */
export const routeTable = buildRouteTable([
  // discovery and operations
  regionsList,
  regionsGet,
  tenantRegion,
  health,
  openapi,
  // OAuth 2.0 authorization server
  oauthMetadata,
  jwks,
  oauthDeviceAuthorization,
  oauthToken,
  oauthRevoke,
  deviceCodesGet,
  deviceCodesApprove,
  deviceCodesDeny,
  devicePage,
  devicePageSignIn,
  devicePageDecision,
  // tenants and users
  tenantsCreate,
  usersCreate,
  usersGet,
  usersCredentials,
  usersList,
  usersUpdate,
  usersPinReset,
  usersLogins,
  usersExport,
  usersErase,
  me,
  meLogins,
  mePin,
  tenantGet,
  tenantUpdate,
  auditList,
  // printers
  devicesAmqpToken,
  devicesDelete,
  devicesList,
  devicesUpdate,
  // print jobs and release
  jobsCreate,
  jobsList,
  jobsGet,
  jobsCancel,
  jobsReady,
  jobsRelease,
  jobsPrinted,
  // OneDrive
  onedriveConnect,
  onedriveCallback,
  onedriveDisconnect,
  onedrivePrintList,
  onedrivePrintFile,
  // scan
  scanProfilesList,
  scanProfilesCreate,
  scanProfilesGet,
  scanProfilesUpdate,
  scanProfilesDelete,
  scansCreate,
  // last: everything no other function takes
  notFound,
]);
