import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from '@sinclair/typebox';
import { routeTable } from '../../functions/routes.js';
import { defineRoute } from '../../shared/http/route.js';
import { buildRouteTable } from '../../shared/http/route-table.js';
import { enrollPrinter, pinSession } from '../helpers/printer.js';
import { api, createTenant, mobileSignIn, oauthEnv, OPERATOR_KEY } from '../helpers/roger.js';
import { startTestHost, type TestHost } from '../helpers/test-host.js';

/**
 * The conventions every route gets from the shared wrapper. Two test-only routes stand in for
 * JSON endpoints and for a bug; the product routes are served beside them unchanged.
 */
const echo = defineRoute({
  name: 'test-echo',
  methods: ['POST'],
  route: 'test/echo/{id}',
  authLevel: 'anonymous',
  summary: 'echo',
  tags: [],
  request: {
    params: Type.Object({ id: Type.String({ pattern: '^[a-z]+$' }) }),
    query: Type.Object({ verbose: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    body: Type.Object(
      { name: Type.String({ minLength: 1, maxLength: 50 }), copies: Type.Integer({ minimum: 1, maximum: 999 }) },
      { additionalProperties: false },
    ),
  },
  responses: { 201: { description: 'echo' } },
  handler: async ({ params, query, body }) => ({ status: 201, body: { id: params.id, verbose: query.verbose ?? false, ...body } }),
});

const SECRET_IN_ERROR = 'pin=1234 for alice@example.com';
const broken = defineRoute({
  name: 'test-broken',
  methods: ['GET'],
  route: 'test/broken',
  authLevel: 'anonymous',
  summary: 'broken',
  tags: [],
  responses: {},
  handler: async () => {
    throw new Error(SECRET_IN_ERROR);
  },
});

const jsonHeaders = { 'content-type': 'application/json' };

describe('HTTP conventions', () => {
  let host: TestHost;
  beforeAll(async () => {
    host = await startTestHost({
      env: { ...oauthEnv, HTTP_BODY_LIMIT_BYTES: '2048' },
      table: buildRouteTable([...routeTable.routes, echo, broken]),
    });
  });
  afterAll(() => host.close());

  const post = (path: string, body: string, headers: Record<string, string> = jsonHeaders) =>
    fetch(`${host.url}${path}`, { method: 'POST', headers, body });

  async function expectProblem(response: Response, status: number, kind: string) {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await response.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ type: `tag:roger.cloud,2026:problems/${kind}`, status });
    expect(typeof problem.title).toBe('string');
    expect(typeof problem.detail).toBe('string');
    return problem;
  }

  it('accepts valid JSON and validates params, query and body', async () => {
    const response = await post('/test/echo/abc?verbose=true', JSON.stringify({ name: 'a', copies: 2 }));
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ id: 'abc', verbose: true, name: 'a', copies: 2 });
  });

  it('answers malformed JSON with 400 naming the problem, without echoing the body', async () => {
    const problem = await expectProblem(await post('/test/echo/abc', '{"name": "secret-pin-9876",'), 400, 'malformed-json');
    expect(problem.detail).toMatch(/not valid JSON/);
    expect(JSON.stringify(problem)).not.toContain('secret-pin-9876');
  });

  it('answers malformed JSON with 400 naming the problem on every JSON endpoint of the product', async () => {
    // An admin's token (or, for panel routes, the admin's PIN session at a printer), so that
    // authentication passes and the body is what gets judged.
    const admin = { email: 'ada@example.test', username: 'ada', fullName: 'Ada Admin', password: 'ada-password-1' };
    await createTenant(host, 'conventions', admin);
    const { access_token } = await mobileSignIn(host, 'conventions', admin);
    expect(
      (
        await api(host, access_token, 'PUT', `/api/users/${(await api(host, access_token, 'GET', '/api/me')).body.user.id}/credentials`, {
          pin: '8642',
        })
      ).status,
    ).toBe(204);
    const printer = await enrollPrinter(host, access_token, 'Conventions printer');
    const session = await pinSession(host, printer, 'ada', '8642', 'jobs:submit scan');
    const jsonRoutes = routeTable.routes.filter((route) => route.request?.body);
    expect(jsonRoutes.length).toBeGreaterThan(3);
    for (const route of jsonRoutes) {
      const path = `/${route.route.replace(/\{\*?[A-Za-z_]+\}/g, '0123456789abcdef0123456789abcdef')}`;
      const token = route.auth && !route.auth.kinds.includes('user') ? session : access_token;
      const response = await fetch(`${host.url}${path}`, {
        method: route.methods[0],
        headers: { ...jsonHeaders, authorization: `Bearer ${token}`, 'x-operator-key': OPERATOR_KEY },
        body: '{',
      });
      expect(response.status, route.name).toBe(400);
      if (route.errorFormat === 'scim') {
        // SCIM routes say it in RFC 7644's error schema (their clients are provisioning services).
        expect(response.headers.get('content-type')).toBe('application/scim+json');
        expect(await response.json()).toMatchObject({
          status: '400',
          scimType: 'invalidSyntax',
          detail: expect.stringMatching(/not valid JSON/),
        });
        continue;
      }
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(await response.json()).toMatchObject({
        type: 'tag:roger.cloud,2026:problems/malformed-json',
        detail: expect.stringMatching(/not valid JSON/),
      });
    }
  });

  it('names each invalid field', async () => {
    const problem = await expectProblem(await post('/test/echo/abc', JSON.stringify({ copies: 0, x: 1 })), 400, 'validation-failed');
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { pointer: '/body/name', detail: 'is required' },
        { pointer: '/body/copies', detail: 'must be >= 1' },
        { pointer: '/body/x', detail: 'is not allowed here' },
      ]),
    );
    await expectProblem(await post('/test/echo/ABC', JSON.stringify({ name: 'a', copies: 1 })), 400, 'validation-failed');
    const query = await expectProblem(
      await post('/test/echo/abc?debug=1', JSON.stringify({ name: 'a', copies: 1 })),
      400,
      'validation-failed',
    );
    expect(query.errors).toEqual([{ pointer: '/query/debug', detail: 'is not allowed here' }]);
  });

  it('rejects unknown query parameters on routes that take none', async () => {
    await expectProblem(await fetch(`${host.url}/regions?x=1`), 400, 'validation-failed');
  });

  it('answers an empty body, invalid UTF-8 and a non-JSON content type clearly', async () => {
    await expectProblem(await post('/test/echo/abc', ''), 400, 'malformed-json');
    const invalidUtf8 = await fetch(`${host.url}/test/echo/abc`, {
      method: 'POST',
      headers: jsonHeaders,
      body: new Uint8Array([0x7b, 0xff, 0x7d]),
    });
    await expectProblem(invalidUtf8, 400, 'malformed-json');
    await expectProblem(
      await post('/test/echo/abc', 'name=a', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      'unsupported-media-type',
    );
    await expectProblem(
      await post('/test/echo/abc', '{}', { 'content-type': 'application/json; charset=latin1' }),
      415,
      'unsupported-media-type',
    );
    expect(
      (await post('/test/echo/abc', JSON.stringify({ name: 'a', copies: 1 }), { 'content-type': 'Application/JSON; charset=UTF-8' }))
        .status,
    ).toBe(201);
  });

  it('answers a body over the limit with 413', async () => {
    const big = JSON.stringify({ name: 'a', copies: 1, pad: 'x'.repeat(4096) });
    await expectProblem(await post('/test/echo/abc', big), 413, 'payload-too-large');
  });

  it('answers bodies beyond what the host accepts with 413 before any handler runs', async () => {
    const huge = 'x'.repeat(5 * 1024 * 1024);
    const response = await post('/test/echo/abc', huge);
    expect(response.status).toBe(413);
  });

  it('answers an unknown route with 404 and a wrong method with 405 and Allow', async () => {
    await expectProblem(await fetch(`${host.url}/no/such/thing`), 404, 'not-found');
    await expectProblem(await fetch(`${host.url}/`), 404, 'not-found');
    const wrongMethod = await fetch(`${host.url}/regions`, { method: 'DELETE' });
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD');
    await expectProblem(wrongMethod, 405, 'method-not-allowed');
    const wrongOnEcho = await fetch(`${host.url}/test/echo/abc`);
    expect(wrongOnEcho.headers.get('allow')).toBe('POST');
  });

  it('turns an unexpected exception into a 500 problem with an error id, logged once without its message', async () => {
    const response = await fetch(`${host.url}/test/broken`);
    const problem = await expectProblem(response, 500, 'internal-error');
    expect(problem.errorId).toBe(response.headers.get('x-request-id'));
    const text = JSON.stringify(problem);
    expect(text).not.toContain(SECRET_IN_ERROR);
    expect(text).not.toMatch(/\bat \S+:\d+/); // no stack frames
    const errorLines = host.logs.filter((line) => line.includes(`errorId=${problem.errorId}`));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/^error unhandled-error /);
    expect(host.logs.join('\n')).not.toContain(SECRET_IN_ERROR);
  });

  it('sets the security headers on every response, and no-store unless a route allows caching', async () => {
    for (const response of [await fetch(`${host.url}/health`), await fetch(`${host.url}/nowhere`), await post('/test/echo/abc', '{')]) {
      expect(response.headers.get('strict-transport-security')).toMatch(/^max-age=\d+; includeSubDomains$/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    }
  });

  it('logs one line per request: method, route template, status, time; no query string, no body', async () => {
    const before = host.logs.length;
    await fetch(`${host.url}/tenants/some-slug/region?secret=abc`);
    await post('/test/echo/abc', JSON.stringify({ name: 'Alice Example', copies: 1 }));
    const lines = host.logs.slice(before);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^information request method=GET route=\/tenants\/\{slug\}\/region status=400 ms=\d+ cosmosRequests=0 cosmosRU=0 cosmosBytesRead=0 cosmosBytesWritten=0 cosmosIndexedPaths=0 cosmosRUEstimate=0$/,
    );
    expect(lines[1]).toMatch(/^information request method=POST route=\/test\/echo\/\{id\} status=201 ms=\d+ /);
    expect(lines.join('\n')).not.toMatch(/secret|some-slug|Alice/);
  });
});
