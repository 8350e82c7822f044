// What functions/ holds: one file per resource, named for the URL segment that names it
// (`/api/jobs/{id}/release` -> jobs.ts, `/api/tenant` and `/api/tenants` -> tenant.ts,
// `/health` -> health.ts; the page at `/device` -> device-page.ts). Two files are named for what they serve
// rather than a path: oauth.ts, the OAuth endpoints with their `.well-known` documents, and
// discovery.ts, the lookups a client makes before it knows its region. not-found.ts takes every
// URL no other function does. So a URL leads to its file in one hop, and the routes of one
// resource share their schemas and helpers without importing each other.
import { buildRouteTable } from '../shared/http/route-table.js';
import { auditList } from './audit.js';
import { badgesCreate, badgesDelete, badgesList, meBadgesCreate } from './badges.js';
import { authorize, authorizeAccount, authorizeMicrosoft, authorizePassword } from './authorize-page.js';
import { deviceCodesApprove, deviceCodesDeny, deviceCodesGet } from './device-codes.js';
import { devicePage, devicePageDecision, devicePageSignIn } from './device-page.js';
import { devicesAmqpToken, devicesDelete, devicesList, devicesUpdate } from './devices.js';
import { regionsGet, regionsList, tenantRegion } from './discovery.js';
import { health } from './health.js';
import { jobsCancel, jobsCreate, jobsGet, jobsList, jobsPrinted, jobsReady, jobsRelease } from './jobs.js';
import { me, meLogins, mePin, meUsage } from './me.js';
import { microsoftSignInCallback } from './microsoft-sign-in.js';
import { notFound } from './not-found.js';
import { jwks, oauthDeviceAuthorization, oauthMetadata, oauthRevoke, oauthToken } from './oauth.js';
import { onedriveCallback, onedriveConnect, onedriveDisconnect, onedrivePrintFile, onedrivePrintList } from './onedrive.js';
import { openapi } from './openapi.js';
import { reportsUsage } from './reports.js';
import { scanProfilesCreate, scanProfilesDelete, scanProfilesGet, scanProfilesList, scanProfilesUpdate } from './scan-profiles.js';
import { scansCreate } from './scans.js';
import {
  scimGroupsCreate,
  scimGroupsDelete,
  scimGroupsGet,
  scimGroupsList,
  scimGroupsPatch,
  scimGroupsReplace,
  scimResourceTypeGet,
  scimResourceTypes,
  scimSchemaGet,
  scimSchemas,
  scimServiceProviderConfig,
  scimUsersCreate,
  scimUsersDelete,
  scimUsersGet,
  scimUsersList,
  scimUsersPatch,
  scimUsersReplace,
} from './scim.js';
import { scimTokensCreate, scimTokensList, scimTokensRevoke } from './scim-tokens.js';
import { tenantGet, tenantsCreate, tenantUpdate } from './tenant.js';
import { tenantEntraCallback, tenantEntraConnect } from './tenant-entra.js';
import {
  usersCreate,
  usersCredentials,
  usersErase,
  usersExport,
  usersGet,
  usersList,
  usersLogins,
  usersPinReset,
  usersUpdate,
} from './users.js';

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
  authorize,
  authorizeAccount,
  authorizePassword,
  authorizeMicrosoft,
  microsoftSignInCallback,
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
  badgesList,
  badgesCreate,
  badgesDelete,
  me,
  meBadgesCreate,
  meLogins,
  mePin,
  meUsage,
  tenantGet,
  tenantUpdate,
  tenantEntraConnect,
  tenantEntraCallback,
  scimTokensCreate,
  scimTokensList,
  scimTokensRevoke,
  auditList,
  reportsUsage,
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
  // SCIM 2.0 provisioning
  scimServiceProviderConfig,
  scimResourceTypes,
  scimResourceTypeGet,
  scimSchemas,
  scimSchemaGet,
  scimUsersCreate,
  scimUsersList,
  scimUsersGet,
  scimUsersReplace,
  scimUsersPatch,
  scimUsersDelete,
  scimGroupsCreate,
  scimGroupsList,
  scimGroupsGet,
  scimGroupsReplace,
  scimGroupsPatch,
  scimGroupsDelete,
  // last: everything no other function takes
  notFound,
]);
