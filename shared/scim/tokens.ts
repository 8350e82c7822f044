import { Type } from '@sinclair/typebox';
import { audit, type Actor } from '../audit/audit.js';
import { Conflict } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Services } from '../services.js';
import { replaceIfUnchanged, writeOnLatest } from '../store/conditional-replace.js';
import type { Store } from '../store/store.js';
import { newId, newSecret, secretMatches, hashSecret } from '../tokens/secrets.js';

/**
 * SCIM tokens (docs/security.md#scim-tokens): the bearer secret an identity provider's SCIM client
 * presents for one tenant. Created by the tenant's admins and shown once; stored hashed in the
 * tenant's partition of `accounts`. The token names its tenant and its id, so checking one is a
 * single point read: `scim1.<tenantId>.<tokenId>.<secret>`.
 */
export interface ScimTokenDoc {
  readonly id: string;
  readonly tenantId: string;
  readonly type: 'scim-token';
  readonly tokenId: string;
  readonly name: string;
  readonly hash: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly lastUsedAt?: string;
  readonly revokedAt?: string;
  readonly _etag?: string;
}

export const MAX_LIVE_SCIM_TOKENS = 10;
export const DEFAULT_SCIM_TOKEN_DAYS = 365;
export const MAX_SCIM_TOKEN_DAYS = 730;
/** `lastUsedAt` is written at most this often per token, so a busy SCIM client costs reads, not writes. */
export const LAST_USED_RESOLUTION_MS = 60_000;
const PREFIX = 'scim1';
const REVOKE_ATTEMPTS = 5;

const docId = (tokenId: string) => `scim-token:${tokenId}`;

export const ScimTokenRequestSchema = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 100, pattern: '^[^\\u0000-\\u001f\\u007f]*$' })),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SCIM_TOKEN_DAYS, description: 'Default 365.' })),
  },
  { additionalProperties: false },
);

export const ScimTokenSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  lastUsedAt: Type.Optional(Type.String({ format: 'date-time' })),
  revokedAt: Type.Optional(Type.String({ format: 'date-time' })),
});

export const CreatedScimTokenSchema = Type.Object({
  id: Type.String(),
  token: Type.String({ description: 'Shown this once: only its hash is kept.' }),
  name: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
});

/** What admins see of a token: never its hash. */
export function publicScimToken({ tokenId, name, createdAt, expiresAt, lastUsedAt, revokedAt }: ScimTokenDoc) {
  return { id: tokenId, name, createdAt, expiresAt, ...(lastUsedAt ? { lastUsedAt } : {}), ...(revokedAt ? { revokedAt } : {}) };
}

const HEX_ID = /^[0-9a-f]{32}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

/** The parts of a SCIM token, or undefined when it is not one (no I/O). */
export function parseScimToken(token: string): { tenantId: string; tokenId: string; secret: string } | undefined {
  const parts = token.split('.');
  if (parts.length !== 4 || parts[0] !== PREFIX) return undefined;
  const [, tenantId, tokenId, secret] = parts as [string, string, string, string];
  if (!HEX_ID.test(tenantId) || !HEX_ID.test(tokenId) || !SECRET.test(secret)) return undefined;
  return { tenantId, tokenId, secret };
}

const isLive = (doc: ScimTokenDoc, now: Date) => !doc.revokedAt && Date.parse(doc.expiresAt) > now.getTime();

async function readToken(store: Store, tenantId: string, tokenId: string): Promise<ScimTokenDoc | undefined> {
  const { resource } = await store.container('accounts').item(docId(tokenId), tenantId).read<ScimTokenDoc>();
  return resource?.type === 'scim-token' && resource.tenantId === tenantId && resource.tokenId === tokenId ? resource : undefined;
}

/** The tenant's tokens, newest first, revoked and expired ones too. */
export async function listScimTokens(store: Store, tenantId: string): Promise<ScimTokenDoc[]> {
  const { resources } = await store
    .container('accounts')
    .items.query<ScimTokenDoc>(
      {
        query: "SELECT * FROM c WHERE c.tenantId = @tenantId AND c.type = 'scim-token'",
        parameters: [{ name: '@tenantId', value: tenantId }],
      },
      { partitionKey: tenantId },
    )
    .fetchAll();
  // Sorted here: `createdAt` is not indexed in `accounts` (docs/data.md#indexing), and a tenant has few tokens.
  return resources.sort((x, y) => y.createdAt.localeCompare(x.createdAt));
}

/** An admin creates a token; the secret is in the answer only. Audited by ids. */
export async function createScimToken(
  { store, now }: Pick<Services, 'store' | 'now'>,
  admin: Actor,
  request: { name?: string; expiresInDays?: number },
  log: Logger,
): Promise<{ doc: ScimTokenDoc; token: string }> {
  const { tenantId } = admin;
  const time = now();
  const live = (await listScimTokens(store, tenantId)).filter((doc) => isLive(doc, time));
  if (live.length >= MAX_LIVE_SCIM_TOKENS) throw new Conflict(`a tenant may have at most ${MAX_LIVE_SCIM_TOKENS} live SCIM tokens`);
  const tokenId = newId();
  const secret = newSecret();
  const days = request.expiresInDays ?? DEFAULT_SCIM_TOKEN_DAYS;
  const { resource } = await store.container('accounts').items.create<ScimTokenDoc>({
    id: docId(tokenId),
    tenantId,
    type: 'scim-token',
    tokenId,
    name: request.name ?? '',
    hash: hashSecret(secret),
    createdAt: time.toISOString(),
    expiresAt: new Date(time.getTime() + days * 86_400_000).toISOString(),
  });
  await audit(store, log, { tenantId, actorId: admin.userId, action: 'tenant.scim-token-created', targetId: tokenId, at: now() });
  return { doc: resource!, token: `${PREFIX}.${tenantId}.${tokenId}.${secret}` };
}

/** An admin revokes a token of their tenant. Idempotent; only the first revocation is audited. */
export async function revokeScimToken({ store, now }: Pick<Services, 'store' | 'now'>, admin: Actor, tokenId: string, log: Logger) {
  const doc = await readToken(store, admin.tenantId, tokenId);
  if (!doc || doc.revokedAt) return;
  const revokedAt = now().toISOString();
  const revoked = await writeOnLatest(
    doc,
    (current) => replaceIfUnchanged(store.container('accounts'), { ...current, revokedAt }, current.tenantId),
    async (current) => {
      const latest = await readToken(store, current.tenantId, current.tokenId);
      return latest?.revokedAt ? undefined : latest;
    },
    REVOKE_ATTEMPTS,
  );
  if (!revoked) return;
  await audit(store, log, {
    tenantId: admin.tenantId,
    actorId: admin.userId,
    action: 'tenant.scim-token-revoked',
    targetId: tokenId,
    at: now(),
  });
}

/**
 * Who a SCIM request's bearer token speaks for: one point read in the tenant the token names,
 * the secret's hash compared in constant time, revoked and expired tokens refused. Marks the
 * token used (at most once a minute, conditional, best effort: a lost race or a failed write
 * does not refuse the request).
 */
export async function authenticateScimToken(
  { store, now }: Pick<Services, 'store' | 'now'>,
  bearer: string,
): Promise<{ tenantId: string; tokenId: string } | undefined> {
  const parsed = parseScimToken(bearer);
  if (!parsed) return undefined;
  const doc = await readToken(store, parsed.tenantId, parsed.tokenId);
  if (!doc || !secretMatches(parsed.secret, doc.hash)) return undefined;
  const time = now();
  if (!isLive(doc, time)) return undefined;
  if (!doc.lastUsedAt || time.getTime() - Date.parse(doc.lastUsedAt) >= LAST_USED_RESOLUTION_MS) {
    try {
      await replaceIfUnchanged(store.container('accounts'), { ...doc, lastUsedAt: time.toISOString() }, doc.tenantId);
    } catch {
      // Someone else marked it (or revoked it) first; lastUsedAt is a hint, not a record.
    }
  }
  return { tenantId: doc.tenantId, tokenId: doc.tokenId };
}
