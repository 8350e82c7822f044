import { Type } from '@sinclair/typebox';
import type { Services } from '../shared/services.js';
import { deviceIdOf, userIdOf } from '../shared/auth/principal.js';
import { readDevice } from '../shared/devices/devices.js';
import { HttpProblem } from '../shared/http/problem.js';
import { readLink } from '../shared/onedrive/links.js';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { readTenant, type Tenant } from '../shared/tenants/tenants.js';
import { clientIp } from '../shared/http/client-ip.js';
import { userProblem } from '../shared/tenants/onboarding.js';
import { hashCredential } from '../shared/tokens/credential-hash.js';
import { keptLogins } from '../shared/users/login-records.js';
import { requireActive } from '../shared/users/activation.js';
import { signIn } from '../shared/users/sign-in.js';
import {
  checkCredentialPolicy,
  PinSchema,
  publicUser,
  PublicUserSchema,
  readUser,
  updateUser,
  type UserDoc,
} from '../shared/users/users.js';
import { drawIndexedPin, dropReplacedEntry, unclaimPin, withPinEntry } from '../shared/users/pin-index.js';
import { countUsers, LoginSchema } from '../shared/users/admin.js';
import { generatedPinLength } from '../shared/tenants/policy.js';
import { Conflict, Invalid } from '../shared/errors.js';
import { dayRange, DEFAULT_OWN_DAYS, ownUsage } from '../shared/usage/reports.js';
import { DaySchema, FiguresSchema, TotalsSchema } from '../shared/usage/schemas.js';

const PrinterSchema = Type.Object({ id: Type.String(), name: Type.String(), location: Type.String(), status: Type.String() });

export const me = defineRoute({
  name: 'me',
  methods: ['GET'],
  route: 'api/me',
  summary: 'Who am I: user (or printer), tenant, roles, scopes; for a session token also the printer.',
  tags: ['users'],
  auth: { kinds: ['user', 'session', 'device'] },
  responses: {
    200: {
      description: 'The caller',
      schema: Type.Object({
        kind: Type.String(),
        tenant: Type.Object({ id: Type.String(), slug: Type.String(), name: Type.String() }),
        user: Type.Optional(PublicUserSchema),
        printer: Type.Optional(PrinterSchema),
        onedrive: Type.Optional(
          Type.Object({
            status: Type.Union([Type.Literal('not-connected'), Type.Literal('connected'), Type.Literal('reconnect-required')]),
            connectedAt: Type.Optional(Type.String({ format: 'date-time' })),
          }),
        ),
        roles: Type.Array(Type.String()),
        scopes: Type.Array(Type.String()),
      }),
    },
  },
  handler: async (_input, { store }, context) => {
    const caller = callerOf(context, 'user', 'session', 'device');
    const userId = userIdOf(caller);
    const deviceId = deviceIdOf(caller);
    const [tenant, user, device, link] = await Promise.all([
      readTenant(store, caller.tenantId),
      userId ? readUser(store, caller.tenantId, userId) : undefined,
      deviceId ? readDevice(store, caller.tenantId, deviceId) : undefined,
      userId ? readLink(store, caller.tenantId, userId) : undefined,
    ]);
    if (!tenant || (userId && !user) || (deviceId && !device)) {
      throw new HttpProblem('not-found', 'this account no longer exists');
    }
    if (user) requireActive(user);
    return {
      status: 200,
      body: {
        kind: caller.kind,
        tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
        ...(user ? { user: publicUser(user) } : {}),
        ...(user ? { onedrive: link ? { status: link.status, connectedAt: link.connectedAt } : { status: 'not-connected' } } : {}),
        ...(device ? { printer: { id: device.id, name: device.name, location: device.location, status: device.status } } : {}),
        // As stored now (the token's claim may be minutes old); printer and session tokens have none.
        roles: caller.kind === 'user' && user ? [user.role] : [],
        scopes: [...caller.scopes],
      },
    };
  },
});

export const meLogins = defineRoute({
  name: 'me-logins',
  methods: ['GET'],
  route: 'api/me/logins',
  summary: 'The caller’s own sign-ins, newest first: time, client, method, success (IP only if the tenant policy keeps it).',
  tags: ['users'],
  auth: { kinds: ['user'] },
  responses: { 200: { description: 'Sign-ins', schema: Type.Object({ items: Type.Array(LoginSchema), continuationToken: Type.Null() }) } },
  handler: async (_input, { store, now }, context) => {
    const caller = callerOf(context, 'user');
    const [tenant, user] = await Promise.all([readTenant(store, caller.tenantId), readUser(store, caller.tenantId, caller.userId)]);
    if (!tenant || !user) throw new HttpProblem('not-found', 'this account no longer exists');
    return { status: 200, body: { items: await keptLogins(store, requireActive(user), tenant.policy, now()), continuationToken: null } };
  },
});

export const meUsage = defineRoute({
  name: 'me-usage',
  methods: ['GET'],
  route: 'api/me/usage',
  summary: `What the caller printed between two UTC days (both included, at most 366; default the last ${DEFAULT_OWN_DAYS} days): totals and one entry per day with jobs.`,
  tags: ['users'],
  auth: { kinds: ['user'] },
  request: {
    query: Type.Object(
      {
        from: Type.Optional(DaySchema('First day, UTC (`YYYY-MM-DD`).')),
        to: Type.Optional(DaySchema('Last day, UTC, included; default today.')),
      },
      { additionalProperties: false },
    ),
  },
  responses: {
    200: {
      description: 'Own totals',
      schema: Type.Object({
        from: Type.String(),
        to: Type.String(),
        totals: TotalsSchema,
        days: Type.Array(Type.Object({ day: Type.String(), ...FiguresSchema.properties })),
      }),
    },
    400: { description: 'A day that is not `YYYY-MM-DD`, `from` after `to`, or more than 366 days' },
  },
  handler: async ({ query }, { store, now }, context) => {
    const caller = callerOf(context, 'user');
    requireActive(await context.currentUser());
    return { status: 200, body: await ownUsage(store, caller.tenantId, caller.userId, dayRange(query, now())) };
  },
});

export const mePin = defineRoute({
  name: 'me-pin',
  methods: ['PUT'],
  route: 'api/me/pin',
  summary:
    'Change one’s own PIN, proving the current PIN or password. A wrong one counts as a failed sign-in (lockout applies). Someone with neither (who signs in with Microsoft) sets a first PIN for the printers without `current`. Where the tenant signs in with a PIN alone (`pinOnly`), leave out `pin`: Roger draws one and answers it, once.',
  tags: ['users'],
  auth: { kinds: ['user'] },
  request: {
    body: Type.Object(
      {
        current: Type.Optional(
          Type.String({
            minLength: 1,
            maxLength: 128,
            description: 'The current PIN or password; required once the user has either.',
          }),
        ),
        pin: Type.Optional(
          Type.String({
            pattern: PinSchema.pattern,
            description: 'The new PIN. Required, except under `pinOnly`, where it must be left out.',
          }),
        ),
      },
      { additionalProperties: false },
    ),
  },
  responses: {
    200: {
      description: 'Changed to a PIN Roger drew (`pinOnly`): the answer is its only copy',
      schema: Type.Object({ pin: Type.String() }),
    },
    204: { description: 'Changed' },
    400: { description: 'The new PIN breaks the tenant policy (under `pinOnly`, any chosen PIN), or `current` or `pin` is missing' },
    403: { description: 'The current PIN or password is wrong, or the account is locked' },
    409: { description: 'A first PIN was set meanwhile (another request): send `current`' },
  },
  handler: async ({ body, headers }, services, context) => {
    const caller = callerOf(context, 'user');
    const [tenant, user] = await Promise.all([
      readTenant(services.store, caller.tenantId),
      readUser(services.store, caller.tenantId, caller.userId),
    ]);
    if (!tenant || !user) throw new HttpProblem('not-found', 'this account no longer exists');
    requireActive(user);
    try {
      checkCredentialPolicy(tenant.policy, { ...(body.pin !== undefined ? { pin: body.pin } : {}) });
    } catch (error) {
      throw userProblem(error);
    }
    if (body.pin === undefined && !tenant.policy.pinOnly) throw new Invalid('give the new PIN', { field: 'pin' });
    // Under pinOnly the PIN is drawn and claimed in the index first (docs/security.md#pin-only-sign-in).
    const drawn =
      body.pin === undefined
        ? await drawIndexedPin(services, tenant.id, user.id, generatedPinLength(tenant.policy, await countUsers(services.store, tenant.id)))
        : undefined;
    const pin = drawn?.pin ?? body.pin!;
    // The user item names the new PIN's entry (none for a chosen PIN) in the same write as its hash.
    const entry = withPinEntry(drawn?.entryId, (latest) => latest);
    const changed = await changeOwnPin(services, caller.clientId, tenant, user, pin, body.current, headers, entry.apply).catch(
      async (error: unknown) => {
        if (drawn) await unclaimPin(services.store, tenant.id, drawn.entryId);
        throw error;
      },
    );
    if (!changed) {
      if (drawn) await unclaimPin(services.store, tenant.id, drawn.entryId);
      throw new HttpProblem('forbidden', 'the current PIN or password is wrong, or the account is locked for now');
    }
    // Exactly the entry this write replaced goes, best effort: the new PIN is already the user's.
    await dropReplacedEntry(services.store, context.log, tenant.id, entry.replaced(), drawn?.entryId);
    return drawn ? { status: 200, body: { pin: drawn.pin } } : { status: 204 };
  },
});

/** Writes the new PIN's hash, proven by `current` (a sign-in) or, for a first PIN, by the session alone. False: wrong or locked. */
async function changeOwnPin(
  services: Services,
  clientId: string,
  tenant: Tenant,
  user: UserDoc,
  pin: string,
  current: string | undefined,
  headers: Headers,
  withEntry: (latest: UserDoc) => UserDoc,
): Promise<boolean> {
  const pinHash = await hashCredential(pin);
  if (!user.pinHash && !user.passwordHash) {
    // Someone who signs in with Microsoft has no Roger secret to prove: their signed-in session
    // is the proof, and only for this first PIN (docs/flows.md, Sign in with Microsoft).
    const set = await updateUser(services.store, user, (latest) => {
      if (latest.pinHash || latest.passwordHash) throw new Conflict('a PIN or password was set meanwhile: give the current one');
      return withEntry({ ...latest, pinHash });
    });
    if (!set) throw new HttpProblem('not-found', 'this account no longer exists');
    return true;
  }
  if (current === undefined) throw new Invalid('give your current PIN or password', { field: 'current' });
  const ip = clientIp(headers, services.config.http.trustedProxyHops);
  const signedIn = await signIn(
    services,
    tenant,
    {
      loginName: user.username,
      secret: current,
      method: /^[0-9]+$/.test(current) ? 'pin' : 'password',
      clientId,
      ...(ip ? { ip } : {}),
    },
    (latest) => withEntry({ ...latest, pinHash }),
  );
  return signedIn !== undefined && signedIn.id === user.id;
}
