import { Type } from '@sinclair/typebox';
import { HttpProblem } from '../shared/http/problem.js';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { sanitizeFileName } from '../shared/onedrive/file-names.js';
import { readLink } from '../shared/onedrive/links.js';
import { connectedLink } from '../shared/onedrive/onedrive.js';
import { FILE_EXTENSIONS, mayUse, readProfile } from '../shared/scans/profiles.js';
import { recordScan } from '../shared/scans/scans.js';
import { readTenant } from '../shared/tenants/tenants.js';
import { requireActive } from '../shared/users/activation.js';
import { readUser } from '../shared/users/users.js';

export const scansCreate = defineRoute({
  name: 'scans-create',
  methods: ['POST'],
  route: 'api/scans',
  summary:
    'Start a scan with a profile the user may use: an upload session in the user’s OneDrive Scan folder, where the printer sends the file. Only the time of the scan is kept.',
  tags: ['scan'],
  auth: { kinds: ['session'], anyScope: ['scan'] },
  request: {
    body: Type.Object(
      {
        profileId: Type.String({ pattern: '^[0-9a-f]{32}$' }),
        fileName: Type.String({
          minLength: 1,
          maxLength: 255,
          description: 'Made safe for OneDrive; the profile’s extension is added when missing.',
        }),
      },
      { additionalProperties: false },
    ),
  },
  responses: {
    200: {
      description: 'Upload the scan to `uploadUrl` (ranges, no Authorization header)',
      schema: Type.Object({
        uploadUrl: Type.String({ format: 'uri' }),
        expiresAt: Type.String({ format: 'date-time' }),
        fileName: Type.String({ description: 'The name it is uploaded as (OneDrive renames on a clash).' }),
        profile: Type.Object({ format: Type.String(), resolution: Type.Integer(), color: Type.String(), duplex: Type.Boolean() }),
      }),
    },
    404: { description: 'No such profile, or not one this user may use' },
    409: { description: 'OneDrive not connected, or must be connected again' },
  },
  handler: async ({ body }, services, context) => {
    const caller = callerOf(context, 'session');
    const { store } = services;
    const [tenant, user, profile, link] = await Promise.all([
      readTenant(store, caller.tenantId),
      readUser(store, caller.tenantId, caller.userId),
      readProfile(store, caller.tenantId, body.profileId),
      readLink(store, caller.tenantId, caller.userId),
    ]);
    if (!tenant || !user) throw new HttpProblem('forbidden', 'this account no longer exists');
    requireActive(user);
    if (!profile || !mayUse(profile, user.id, user.role)) throw new HttpProblem('not-found', 'no such scan profile');
    const connected = connectedLink(link);
    const fileName = sanitizeFileName(body.fileName, FILE_EXTENSIONS[profile.format]);
    const drive = await (await services.onedrive()).driveOf(services, connected, context.log);
    const session = await drive.createUploadSession(connected.scanFolderId, fileName, 'rename');
    await recordScan(store, tenant.id, services.now(), tenant.policy.jobRetentionDays);
    const { format, resolution, color, duplex } = profile;
    return {
      status: 200,
      body: { uploadUrl: session.uploadUrl, expiresAt: session.expiresAt, fileName, profile: { format, resolution, color, duplex } },
    };
  },
});
