import { Type, type Static } from '@sinclair/typebox';
import { audit, type Actor } from '../audit/audit.js';
import type { Principal } from '../auth/principal.js';
import { Conflict, NotFound } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import { StringEnum } from '../string-enum.js';
import { replaceIfUnchanged, writeOnLatest } from '../store/conditional-replace.js';
import { isNotFound } from '../store/cosmos-errors.js';
import type { Store } from '../store/store.js';
import { newId } from '../tokens/secrets.js';
import type { Role, UserDoc } from '../users/users.js';

/**
 * Scan profiles (docs/flows.md#onedrive-for-business): set by the tenant's admins, offered on the printer panel. Each says
 * how to scan and who may use it: anyone with one of `roles`, plus the users listed by id.
 * Stored in the tenant's partition of `accounts`, beside its users.
 */
export const ScanFormatSchema = Type.Union([Type.Literal('pdf'), Type.Literal('jpeg'), Type.Literal('tiff'), Type.Literal('png')]);
export type ScanFormat = Static<typeof ScanFormatSchema>;

export const ScanSettingsSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 80, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
    format: ScanFormatSchema,
    resolution: Type.Union(
      [150, 200, 300, 400, 600].map((dpi) => Type.Literal(dpi)),
      { description: 'Dots per inch.' },
    ),
    color: Type.Union([Type.Literal('color'), Type.Literal('grayscale'), Type.Literal('monochrome')]),
    duplex: Type.Boolean(),
    roles: Type.Array(StringEnum<Role>(['user', 'admin']), {
      uniqueItems: true,
      maxItems: 2,
      description: 'Users with one of these roles may use it.',
    }),
    userIds: Type.Array(Type.String({ pattern: '^[0-9a-f]{32}$' }), { uniqueItems: true, maxItems: 500, description: 'And these users.' }),
  },
  { additionalProperties: false },
);
export type ScanSettings = Static<typeof ScanSettingsSchema>;

export const ScanProfileSchema = Type.Intersect([Type.Object({ id: Type.String() }), Type.Partial(ScanSettingsSchema)]);

export interface ScanProfileDoc extends ScanSettings {
  readonly id: string;
  readonly tenantId: string;
  readonly type: 'scan-profile';
  readonly profileId: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly _etag?: string;
}

export const MAX_PROFILES_PER_TENANT = 100;
const docId = (profileId: string) => `scan-profile:${profileId}`;

export const FILE_EXTENSIONS: Readonly<Record<ScanFormat, string>> = { pdf: '.pdf', jpeg: '.jpg', tiff: '.tif', png: '.png' };

export function mayUse(profile: ScanProfileDoc, userId: string, role: Role): boolean {
  return profile.roles.includes(role) || profile.userIds.includes(userId);
}

/** Admins see who may use a profile; everyone else only how it scans. */
export function publicProfile(profile: ScanProfileDoc, forAdmin: boolean) {
  const { profileId, name, format, resolution, color, duplex, roles, userIds } = profile;
  return { id: profileId, name, format, resolution, color, duplex, ...(forAdmin ? { roles, userIds } : {}) };
}

export async function readProfile(store: Store, tenantId: string, profileId: string): Promise<ScanProfileDoc | undefined> {
  const { resource } = await store.container('accounts').item(docId(profileId), tenantId).read<ScanProfileDoc>();
  return resource?.type === 'scan-profile' && resource.tenantId === tenantId ? resource : undefined;
}

export async function requireProfile(store: Store, tenantId: string, profileId: string): Promise<ScanProfileDoc> {
  const profile = await readProfile(store, tenantId, profileId);
  if (!profile) throw new NotFound('no such scan profile');
  return profile;
}

/** All of the tenant's profiles, by name (at most MAX_PROFILES_PER_TENANT exist). */
export async function listProfiles(store: Store, tenantId: string): Promise<ScanProfileDoc[]> {
  const { resources } = await store
    .container('accounts')
    .items.query<ScanProfileDoc>(
      {
        query: "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type = 'scan-profile' ORDER BY c.name",
        parameters: [{ name: '@tenantId', value: tenantId }],
      },
      { partitionKey: tenantId },
    )
    .fetchAll();
  return resources;
}

/** An admin creates a profile in their tenant; audited. */
export async function createProfile(
  { store, now }: Pick<Services, 'store' | 'now'>,
  admin: Actor,
  settings: ScanSettings,
  log: Logger,
): Promise<ScanProfileDoc> {
  const { tenantId } = admin;
  if ((await listProfiles(store, tenantId)).length >= MAX_PROFILES_PER_TENANT) {
    throw new Conflict(`a tenant may have at most ${MAX_PROFILES_PER_TENANT} scan profiles`);
  }
  const profileId = newId();
  const time = now().toISOString();
  const { resource } = await store.container('accounts').items.create<ScanProfileDoc>({
    ...settings,
    id: docId(profileId),
    tenantId,
    type: 'scan-profile',
    profileId,
    createdAt: time,
    updatedAt: time,
  });
  await audit(store, log, { tenantId, actorId: admin.userId, action: 'scan-profile.created', targetId: profileId, at: now() });
  return resource!;
}

/** Admins edit a profile now and then (and an erasure takes its user off it); each 412 is one such write. */
const PROFILE_WRITE_ATTEMPTS = 5;

/**
 * Applies `change` to the profile as stored when it is written: another admin's edit (or an
 * erasure) written first is read again and kept, and `change` applied on top, so neither is
 * lost. Undefined when the profile is gone.
 */
export function changeProfile(
  store: Store,
  profile: ScanProfileDoc,
  change: (current: ScanProfileDoc) => ScanProfileDoc,
): Promise<ScanProfileDoc | undefined> {
  const reread = (current: ScanProfileDoc) => readProfile(store, current.tenantId, current.profileId);
  return writeOnLatest(
    profile,
    (current) => replaceIfUnchanged(store.container('accounts'), change(current), current.tenantId),
    reread,
    PROFILE_WRITE_ATTEMPTS,
  );
}

/**
 * An admin changes a profile; audited (the fields, not their values). Only the fields sent
 * change: two admins editing different fields at once both get theirs.
 */
export async function updateProfile(
  { store, now }: Pick<Services, 'store' | 'now'>,
  admin: Actor,
  profileId: string,
  changes: Partial<ScanSettings>,
  log: Logger,
): Promise<ScanProfileDoc> {
  const profile = await requireProfile(store, admin.tenantId, profileId);
  const time = now().toISOString();
  const updated = await changeProfile(store, profile, (current) => ({ ...current, ...changes, updatedAt: time }));
  if (!updated) throw new NotFound('no such scan profile');
  await audit(store, log, {
    tenantId: admin.tenantId,
    actorId: admin.userId,
    action: 'scan-profile.changed',
    targetId: updated.profileId,
    details: { fields: Object.keys(changes) },
    at: now(),
  });
  return updated;
}

/** An admin deletes a profile. Idempotent, but only a deletion is audited: deleting nothing leaves no record. */
export async function deleteProfile(
  { store, now }: Pick<Services, 'store' | 'now'>,
  admin: Actor,
  profileId: string,
  log: Logger,
): Promise<void> {
  try {
    await store.container('accounts').item(docId(profileId), admin.tenantId).delete();
  } catch (error) {
    if (!isNotFound(error)) throw error;
    return;
  }
  await audit(store, log, {
    tenantId: admin.tenantId,
    actorId: admin.userId,
    action: 'scan-profile.deleted',
    targetId: profileId,
    at: now(),
  });
}

/** Admin views are for the app, not a printer session; the role is the one stored now. */
export const isAdmin = (caller: Principal, user: UserDoc) => caller.kind === 'user' && user.role === 'admin';
