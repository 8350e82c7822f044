import * as oauth from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTable } from '../../functions/routes.js';
import {
  Conflict,
  Forbidden,
  Invalid,
  NotFound,
  RateLimited,
  Unauthorized,
  Unavailable,
  UpstreamFailed,
  type DomainError,
  type DomainErrorKind,
} from '../../shared/errors.js';
import { defineRoute } from '../../shared/http/route.js';
import { buildRouteTable } from '../../shared/http/route-table.js';
import { createTenant, oauthClient, oauthEnv, type Person } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * One error vocabulary, four renderings (shared/http/error-rendering.ts). Test-only routes, one
 * per error format and case, throw a domain error (or a bug); the same error must answer the same
 * status and retry hint as RFC 9457 problem+json, as RFC 6749 JSON (the /oauth format), as an
 * HTML page and as a SCIM error (the /scim/v2 format). The product's /device page then shows the
 * HTML rendering on real requests.
 */

const FORMATS = ['problem', 'oauth', 'html', 'scim'] as const;
type Format = (typeof FORMATS)[number];

interface Case {
  readonly name: string;
  /** The domain kind the case covers, or `bug` for an error nobody anticipated. */
  readonly kind: DomainErrorKind | 'bug';
  readonly error: () => Error;
  readonly status: number;
  /** The problem type (the part after `problems/`) and its title. */
  readonly problem: readonly [type: string, title: string];
  /** Status and `error` on /oauth: RFC 6749 has codes for few of these. */
  readonly oauth: readonly [status: number, error: string];
  readonly headers?: Readonly<Record<string, string>>;
  /** Members the problem carries besides the standard ones. */
  readonly facts?: Readonly<Record<string, unknown>>;
}

// A `<` in a detail shows that the page escapes what it is given.
const INVALID_DETAIL = 'the printer needs a name without "<" or ">"';
const BUG_DETAIL = 'secret-in-a-bug pin=1234';

const CASES: readonly Case[] = [
  {
    name: 'invalid',
    kind: 'invalid',
    error: () => new Invalid(INVALID_DETAIL, { errors: [{ pointer: '/body/name', detail: 'is required' }] }),
    status: 400,
    problem: ['validation-failed', 'The request is not valid'],
    oauth: [400, 'invalid_request'],
    facts: { errors: [{ pointer: '/body/name', detail: 'is required' }] },
  },
  {
    name: 'unauthorized',
    kind: 'unauthorized',
    error: () => new Unauthorized('the account this token was issued to no longer exists'),
    status: 401,
    problem: ['unauthorized', 'Authentication is required'],
    oauth: [400, 'invalid_request'],
    headers: { 'www-authenticate': 'Bearer realm="roger", error="invalid_token"' },
  },
  {
    name: 'forbidden',
    kind: 'forbidden',
    error: () => new Forbidden('this organization has turned off QR sign-in at printers'),
    status: 403,
    problem: ['forbidden', 'Not allowed'],
    oauth: [400, 'invalid_request'],
  },
  {
    name: 'not-found',
    kind: 'not-found',
    error: () => new NotFound('no such job'),
    status: 404,
    problem: ['not-found', 'Not found'],
    oauth: [400, 'invalid_request'],
  },
  {
    name: 'conflict',
    kind: 'conflict',
    error: () => new Conflict('a printed job cannot be cancelled', { state: 'printed' }),
    status: 409,
    problem: ['conflict', 'Conflict with the current state'],
    oauth: [400, 'invalid_request'],
    facts: { state: 'printed' },
  },
  {
    name: 'conflict-with-code',
    kind: 'conflict',
    error: () => new Conflict('connect OneDrive again', { connect: '/api/onedrive/connect' }, 'onedrive-reconnect-required'),
    status: 409,
    problem: ['onedrive-reconnect-required', 'OneDrive must be connected again'],
    oauth: [400, 'invalid_request'],
    facts: { connect: '/api/onedrive/connect' },
  },
  {
    name: 'rate-limited',
    kind: 'rate-limited',
    error: () => new RateLimited(42, 'too many wrong codes; wait a few minutes'),
    status: 429,
    problem: ['too-many-requests', 'Too many requests'],
    oauth: [429, 'temporarily_unavailable'],
    headers: { 'retry-after': '42' },
  },
  {
    name: 'unavailable',
    kind: 'unavailable',
    error: () => new Unavailable(5, 'the messaging service did not answer; try again'),
    status: 503,
    problem: ['service-unavailable', 'Service unavailable'],
    oauth: [503, 'temporarily_unavailable'],
    headers: { 'retry-after': '5' },
  },
  {
    name: 'upstream-failed',
    kind: 'upstream-failed',
    error: () => new UpstreamFailed('OneDrive answered 418'),
    status: 502,
    problem: ['bad-gateway', 'An upstream service failed'],
    oauth: [500, 'server_error'],
  },
  {
    name: 'bug',
    kind: 'bug',
    error: () => new TypeError(BUG_DETAIL),
    status: 500,
    problem: ['internal-error', 'Internal error'],
    oauth: [500, 'server_error'],
  },
];

const EVERY_KIND: readonly DomainErrorKind[] = [
  'invalid',
  'unauthorized',
  'forbidden',
  'not-found',
  'conflict',
  'rate-limited',
  'unavailable',
  'upstream-failed',
];

const probePath = (format: Format, c: Case) => `/test/errors/${format}/${c.name}`;

const probes = FORMATS.flatMap((format) =>
  CASES.map((c) =>
    defineRoute({
      name: `test-errors-${format}-${c.name}`,
      methods: ['GET'],
      route: probePath(format, c).slice(1),
      summary: `throws ${c.name}`,
      tags: [],
      responses: {},
      errorFormat: format,
      handler: async () => {
        throw c.error();
      },
    }),
  ),
);

/** The detail as the caller sees it: a bug's message never leaves the server. */
const detailOf = (c: Case) =>
  c.kind === 'bug' ? 'something went wrong on our side; quote the errorId to support' : (c.error() as DomainError).detail;

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

describe('error formats', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost({ env: oauthEnv, table: buildRouteTable([...routeTable.routes, ...probes]) });
  });
  afterAll(() => host.close());

  it('the cases cover every kind of domain error', () => {
    expect(new Set(CASES.map((c) => c.kind))).toEqual(new Set([...EVERY_KIND, 'bug']));
    for (const c of CASES.filter((c) => c.kind !== 'bug')) expect((c.error() as DomainError).kind).toBe(c.kind);
  });

  describe.each(CASES)('$name', (c) => {
    const expectHeaders = (response: Response) => {
      for (const [name, value] of Object.entries(c.headers ?? {})) expect(response.headers.get(name), name).toBe(value);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    };

    it('problem+json: the stable type, title, status, detail and facts', async () => {
      const path = probePath('problem', c);
      const response = await fetch(`${host.url}${path}`);
      expect(response.status).toBe(c.status);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expectHeaders(response);
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        type: `tag:roger.cloud,2026:problems/${c.problem[0]}`,
        title: c.problem[1],
        status: c.status,
        detail: detailOf(c),
        instance: path,
        ...c.facts,
      });
      if (c.kind === 'bug') expect(body.errorId).toEqual(expect.any(String));
    });

    it('RFC 6749 JSON: error and error_description, never cached', async () => {
      const response = await fetch(`${host.url}${probePath('oauth', c)}`);
      expect(response.status).toBe(c.oauth[0]);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(response.headers.get('pragma')).toBe('no-cache');
      for (const [name, value] of Object.entries(c.headers ?? {})) {
        // RFC 6750's challenge belongs to protected resources; the /oauth format keeps only the retry hint.
        if (name !== 'www-authenticate') expect(response.headers.get(name), name).toBe(value);
      }
      expect(await response.json()).toEqual({ error: c.oauth[1], error_description: detailOf(c) });
    });

    it('SCIM: the SCIM error schema with the same status (a string there), retry hint and detail; the SCIM realm', async () => {
      const response = await fetch(`${host.url}${probePath('scim', c)}`);
      expect(response.status).toBe(c.status);
      expect(response.headers.get('content-type')).toBe('application/scim+json');
      for (const [name, value] of Object.entries(c.headers ?? {})) {
        const expected = name === 'www-authenticate' ? 'Bearer realm="roger-scim", error="invalid_token"' : value;
        expect(response.headers.get(name), name).toBe(expected);
      }
      const body = (await response.json()) as Record<string, unknown>;
      expect(body).toEqual({
        schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
        status: String(c.status),
        ...(c.kind === 'invalid' ? { scimType: 'invalidValue' } : {}),
        detail:
          c.kind === 'bug'
            ? expect.stringMatching(/^something went wrong on our side; quote the errorId to support \(errorId .+\)$/)
            : detailOf(c),
      });
      expect(JSON.stringify(body)).not.toContain(BUG_DETAIL);
    });

    it('HTML: a page with the same status, the problem’s title and the escaped detail', async () => {
      const response = await fetch(`${host.url}${probePath('html', c)}`);
      expect(response.status).toBe(c.status);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expectHeaders(response);
      // The pages' own policy: their one style sheet, nothing else.
      expect(response.headers.get('content-security-policy')).toMatch(
        /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'/,
      );
      const page = await response.text();
      expect(page).toMatch(/^<!doctype html>/);
      expect(page).toContain(`<h1>${c.problem[1]}</h1>`);
      expect(page).toContain(`<div class="alert" role="alert"><p>${escapeHtml(detailOf(c))}</p></div>`);
      expect(page).not.toContain(BUG_DETAIL);
      expect(page).not.toContain('<script');
      if (c.kind === 'bug') {
        const errorId = /<span class="code">([^<]+)<\/span>/.exec(page)?.[1];
        expect(errorId).toBeDefined();
        expect(host.logs.some((line) => line.includes('unhandled-error') && line.includes(errorId!))).toBe(true);
      }
    });
  });

  describe('product routes: the device page answers its errors as pages, /oauth as RFC 6749', () => {
    const alice: Person = { email: 'alice@fabrikam.example', username: 'alice', fullName: 'Alice', password: 'correct-horse-42' };
    beforeAll(() => createTenant(host, 'fabrikam', alice));

    const postForm = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${host.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
        redirect: 'manual',
      });

    async function expectPage(response: Response, status: number, ...texts: string[]) {
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-/);
      const page = await response.text();
      expect(page).toMatch(/^<!doctype html>/);
      for (const text of texts) expect(page).toContain(text);
      expect(page).toContain('<a href="/device">Start again</a>');
      return page;
    }

    it('a repeated form field on POST /device: 400, a page saying which, not problem+json', async () => {
      const response = await postForm('/device', 'csrf=a&csrf=b&user_code=BCDF-GHJK&tenant=fabrikam&username=alice&password=x');
      await expectPage(response, 400, '<h1>The request is not valid</h1>', 'parameter csrf is repeated');
    });

    it('the same repeated field on /oauth/token is RFC 6749’s invalid_request (§3.1)', async () => {
      const response = await postForm('/oauth/token', 'grant_type=password&grant_type=password&client_id=roger-mobile');
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toEqual({ error: 'invalid_request', error_description: 'parameter grant_type is repeated' });
    });

    it('a body that is no form, or too large: 415 with Accept, 413', async () => {
      const json = await fetch(`${host.url}/device`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(json.headers.get('accept')).toBe('application/x-www-form-urlencoded');
      await expectPage(json, 415, 'send the body as application/x-www-form-urlencoded');
      const large = await postForm('/device/decision', `ticket=${'x'.repeat(70_000)}`);
      await expectPage(large, 413, '<h1>The request body is too large</h1>');
    });

    it('a code answered meanwhile: the approval code’s NotFound in the page’s own words', async () => {
      const desktop = await oauthClient(host, 'roger-desktop');
      const { user_code: userCode } = await oauth.initiateDeviceAuthorization(desktop, { scope: 'jobs offline_access' });
      const cookie = (await fetch(`${host.url}/device`)).headers.get('set-cookie')!;
      const csrf = /roger_device_csrf=([^;]+)/.exec(cookie)![1]!;
      const headers = { cookie: `roger_device_csrf=${csrf}` };
      const signIn = new URLSearchParams({ csrf, user_code: userCode, tenant: 'fabrikam', username: 'alice', password: alice.password });
      const signedIn = await postForm('/device', signIn.toString(), headers);
      expect(signedIn.status).toBe(200);
      const ticket = /name="ticket" value="([^"]+)"/.exec(await signedIn.text())![1]!;
      const decide = () => postForm('/device/decision', new URLSearchParams({ csrf, ticket, decision: 'deny' }).toString(), headers);

      expect((await decide()).status).toBe(200);
      await expectPage(
        await decide(),
        404,
        '<h1>This request is no longer pending</h1>',
        'Start again from your device to get a new code.',
      );
    });
  });
});
