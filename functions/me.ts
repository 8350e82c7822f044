import { Type } from '@sinclair/typebox';
import { deviceIdOf, userIdOf } from '../shared/auth/principal.js';
import { readDevice } from '../shared/devices/devices.js';
import { HttpProblem } from '../shared/http/problem.js';
import { readLink } from '../shared/onedrive/links.js';
import { callerOf, defineRoute } from '../shared/http/route.js';
import { readTenant } from '../shared/tenants/tenants.js';
import { clientIp } from '../shared/http/client-ip.js';
import { userProblem } from '../shared/tenants/onboarding.js';
import { hashCredential } from '../shared/tokens/credential-hash.js';
import { LoginSchema } from '../shared/users/admin.js';
import { keptLogins } from '../shared/users/login-records.js';
import { requireActive } from '../shared/users/activation.js';
import { signIn } from '../shared/users/sign-in.js';
import { checkCredentialPolicy, PinSchema, publicUser, PublicUserSchema, readUser, updateUser } from '../shared/users/users.js';
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
    'Change one’s own PIN, proving the current PIN or password. A wrong one counts as a failed sign-in (lockout applies). Someone with neither (who signs in with Microsoft) sets a first PIN for the printers without `current`.',
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
        pin: PinSchema,
      },
      { additionalProperties: false },
    ),
  },
  responses: {
    204: { description: 'Changed' },
    400: { description: 'The new PIN breaks the tenant policy, or `current` is missing' },
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
      checkCredentialPolicy(tenant.policy, { pin: body.pin });
    } catch (error) {
      throw userProblem(error);
    }
    const pinHash = await hashCredential(body.pin);
    if (!user.pinHash && !user.passwordHash) {
      // Someone who signs in with Microsoft has no Roger secret to prove: their signed-in session
      // is the proof, and only for this first PIN (docs/flows.md, Sign in with Microsoft).
      const set = await updateUser(services.store, user, (current) => {
        if (current.pinHash || current.passwordHash) throw new Conflict('a PIN or password was set meanwhile: give the current one');
        return { ...current, pinHash };
      });
      if (!set) throw new HttpProblem('not-found', 'this account no longer exists');
      return { status: 204 };
    }
    if (body.current === undefined) throw new Invalid('give your current PIN or password', { field: 'current' });
    const ip = clientIp(headers, services.config.http.trustedProxyHops);
    const signedIn = await signIn(
      services,
      tenant,
      {
        loginName: user.username,
        secret: body.current,
        method: /^[0-9]+$/.test(body.current) ? 'pin' : 'password',
        clientId: caller.clientId,
        ...(ip ? { ip } : {}),
      },
      (current) => ({ ...current, pinHash }),
    );
    if (!signedIn || signedIn.id !== user.id)
      throw new HttpProblem('forbidden', 'the current PIN or password is wrong, or the account is locked for now');
    return { status: 204 };
  },
});
