/** The local Entra + Graph double, driven over HTTP with fetch only, as the app's code would. */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalMicrosoft, type LocalMicrosoft } from '../local-microsoft.js';

const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
const CLIENT_SECRET = 'local-secret';
const REDIRECT_URI = 'http://localhost:7071/api/onedrive/callback';
const SCOPE = 'Files.ReadWrite offline_access';

let clockMs = 1_800_000_000_000;
let ms: LocalMicrosoft;

beforeAll(async () => {
  ms = await startLocalMicrosoft({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, now: () => clockMs });
});
afterAll(() => ms.close());

/** Parsed JSON answers, read loosely in assertions. */
type Json = Record<string, any>;

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorize(params: Record<string, string>): Promise<Response> {
  const query = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    state: 'st-1',
    code_challenge_method: 'S256',
    ...params,
  });
  return fetch(`${ms.authority}/oauth2/v2.0/authorize?${query}`, { redirect: 'manual' });
}

/** The redirect's query parameters. */
function redirectParams(response: Response): URLSearchParams {
  expect(response.status).toBe(302);
  const location = new URL(response.headers.get('location') ?? '');
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
  return location.searchParams;
}

async function signIn(upn: string): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkce();
  const params = redirectParams(await authorize({ login_hint: upn, code_challenge: challenge }));
  return { code: params.get('code') ?? '', verifier };
}

async function token(form: Record<string, string>): Promise<{ status: number; body: Json; response: Response }> {
  const response = await fetch(`${ms.authority}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, ...form }),
  });
  return { status: response.status, body: (await response.json()) as Json, response };
}

function redeem(code: string, verifier: string, extra: Record<string, string> = {}): ReturnType<typeof token> {
  return token({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT_URI, ...extra });
}

async function tokensFor(upn: string): Promise<{ access: string; refresh: string }> {
  const { code, verifier } = await signIn(upn);
  const { status, body } = await redeem(code, verifier);
  expect(status).toBe(200);
  return { access: body.access_token, refresh: body.refresh_token };
}

function graph(access: string | undefined, method: string, path: string, body?: unknown): Promise<Response> {
  const url = path.startsWith('http') ? path : `${ms.graphUrl}/v1.0${path}`;
  return fetch(url, {
    method,
    headers: { ...(access ? { Authorization: `Bearer ${access}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
}

async function createSession(access: string, parentId: string, name: string, behavior?: string): Promise<string> {
  const body = behavior ? { item: { '@microsoft.graph.conflictBehavior': behavior } } : undefined;
  const response = await graph(access, 'POST', `/me/drive/items/${parentId}:/${encodeURIComponent(name)}:/createUploadSession`, body);
  expect(response.status).toBe(200);
  const session = (await response.json()) as Json;
  expect(session.nextExpectedRanges).toEqual(['0-']);
  return session.uploadUrl;
}

function putFragment(
  uploadUrl: string,
  bytes: Buffer,
  first: number,
  total: number,
  headers: Record<string, string> = {},
): Promise<Response> {
  const chunk = bytes.subarray(first, Math.min(first + 4096, total));
  return fetch(uploadUrl, {
    method: 'PUT',
    headers: { 'Content-Range': `bytes ${first}-${first + chunk.length - 1}/${total}`, ...headers },
    body: chunk,
  });
}

/** Uploads in 4 KiB fragments and returns the final answer. */
async function upload(access: string, parentId: string, name: string, bytes: Buffer, behavior?: string): Promise<Response> {
  const uploadUrl = await createSession(access, parentId, name, behavior);
  for (let first = 0; ; first += 4096) {
    const response = await putFragment(uploadUrl, bytes, first, bytes.length);
    if (first + 4096 >= bytes.length) return response;
    expect(response.status).toBe(202);
    expect(((await response.json()) as Json).nextExpectedRanges).toEqual([`${first + 4096}-`]);
  }
}

async function makeFolder(access: string, parent: string, name: string, behavior = 'fail'): Promise<Response> {
  return graph(access, 'POST', `/me/drive/${parent}/children`, { name, folder: {}, '@microsoft.graph.conflictBehavior': behavior });
}

const PDF = randomBytes(10_000);

describe('Entra authorize', () => {
  test('approves at once and redirects with a code and the state', async () => {
    const params = redirectParams(await signInResponse('alice@contoso.example'));
    expect(params.get('state')).toBe('st-1');
    expect(params.get('code')).toMatch(/^[\w-]{40,}$/);
  });

  test.each([
    ['an unknown client', { client_id: 'someone-else' }],
    ['a relative redirect_uri', { redirect_uri: '/callback' }],
    ['a redirect_uri with a fragment', { redirect_uri: `${REDIRECT_URI}#x` }],
    ['a non-http redirect_uri', { redirect_uri: 'javascript:alert(1)' }],
  ])('answers a 400 page, never a redirect, for %s', async (_label, params) => {
    const response = await authorize({ code_challenge: pkce().challenge, ...params });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });

  test.each([
    ['response_type token', { response_type: 'token', code_challenge: pkce().challenge }],
    ['no code_challenge', {}],
    ['code_challenge_method plain', { code_challenge: pkce().challenge, code_challenge_method: 'plain' }],
  ])('redirects invalid_request for %s', async (_label, params) => {
    const redirected = redirectParams(await authorize(params));
    expect(redirected.get('error')).toBe('invalid_request');
    expect(redirected.get('state')).toBe('st-1');
    expect(redirected.get('code')).toBeNull();
  });
});

function signInResponse(upn: string): Promise<Response> {
  return authorize({ login_hint: upn, code_challenge: pkce().challenge });
}

describe('Entra token endpoint', () => {
  test('redeems a code with PKCE for Bearer tokens, uncached, and Graph knows the user', async () => {
    const { code, verifier } = await signIn('bob@contoso.example');
    const { status, body, response } = await redeem(code, verifier);
    expect(status).toBe(200);
    expect(response.headers.get('cache-control')).toContain('no-store');
    expect(body).toMatchObject({ token_type: 'Bearer', scope: SCOPE, expires_in: 3600, ext_expires_in: 3600 });
    expect(body.refresh_token).not.toBe(body.access_token);
    const drive = (await (await graph(body.access_token, 'GET', '/me/drive')).json()) as Json;
    expect(drive).toMatchObject({
      driveType: 'business',
      owner: { user: { id: ms.addAccount('bob@contoso.example'), displayName: 'bob' } },
    });
  });

  test('refuses a wrong verifier, a reused code, a changed redirect_uri, a bad secret and an expired code as Entra does', async () => {
    const { code, verifier } = await signIn('carol@contoso.example');
    expect(await redeem(code, pkce().verifier)).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_codes: [501481] } });
    expect(await redeem(code, verifier, { redirect_uri: `${REDIRECT_URI}/other` })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_codes: [70000] },
    });
    expect(await redeem(code, verifier, { client_secret: 'guess' })).toMatchObject({
      status: 401,
      body: { error: 'invalid_client', error_codes: [7000215] },
    });
    expect((await redeem(code, verifier)).status).toBe(200);
    const reused = await redeem(code, verifier);
    expect(reused).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_codes: [54005] } });
    expect(reused.body.error_description).toMatch(/^AADSTS54005: /);
    expect(reused.body).toHaveProperty('trace_id');
    expect(reused.body).toHaveProperty('correlation_id');

    const late = await signIn('carol@contoso.example');
    clockMs += 11 * 60_000;
    expect(await redeem(late.code, late.verifier)).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_codes: [70008] } });
  });

  test('refuses unknown refresh tokens and unsupported grant types', async () => {
    expect(await token({ grant_type: 'refresh_token', refresh_token: 'nope' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_codes: [9002313] },
    });
    expect(await token({ grant_type: 'password' })).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
  });

  test('rotates refresh tokens without revoking the one used', async () => {
    const { refresh } = await tokensFor('dave@contoso.example');
    const first = await token({ grant_type: 'refresh_token', refresh_token: refresh });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(refresh);
    expect(first.body.scope).toBe(SCOPE);
    expect((await graph(first.body.access_token, 'GET', '/me/drive')).status).toBe(200);
    expect((await token({ grant_type: 'refresh_token', refresh_token: refresh })).status).toBe(200);
    expect((await token({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token })).status).toBe(200);
  });

  test('revoked consent kills refresh and access tokens and blocks sign-in until restored', async () => {
    const upn = 'erin@contoso.example';
    const { access, refresh } = await tokensFor(upn);
    ms.revokeConsent(upn);
    const refused = await token({ grant_type: 'refresh_token', refresh_token: refresh });
    expect(refused).toMatchObject({ status: 400, body: { error: 'invalid_grant', error_codes: [65001] } });
    expect(refused.body.error_description).toContain('AADSTS65001');
    const graphAnswer = await graph(access, 'GET', '/me/drive');
    expect(graphAnswer.status).toBe(401);
    expect(((await graphAnswer.json()) as Json).error.code).toBe('InvalidAuthenticationToken');
    expect(redirectParams(await signInResponse(upn)).get('error')).toBe('consent_required');

    ms.restoreConsent(upn);
    const again = await tokensFor(upn);
    expect((await graph(again.access, 'GET', '/me/drive')).status).toBe(200);
    expect((await token({ grant_type: 'refresh_token', refresh_token: refresh })).status).toBe(400);
  });

  test('failTokenNext answers 429/503 with Retry-After, invalid_client or nothing, and leaves the code redeemable', async () => {
    const { code, verifier } = await signIn('fay@contoso.example');
    const failedBefore = ms.stats.failedTokenRequests;
    ms.failTokenNext(1, 503, 9);
    const down = await redeem(code, verifier);
    expect(down).toMatchObject({ status: 503, body: { error: 'temporarily_unavailable', error_codes: [90033] } });
    expect(down.response.headers.get('retry-after')).toBe('9');
    ms.failTokenNext(1, 429);
    const throttled = await redeem(code, verifier);
    expect(throttled).toMatchObject({ status: 429, body: { error: 'temporarily_unavailable' } });
    expect(throttled.response.headers.get('retry-after')).toBe('1');
    ms.failTokenNext(1, 'invalid_client');
    expect(await redeem(code, verifier)).toMatchObject({ status: 401, body: { error: 'invalid_client', error_codes: [7000222] } });

    ms.failTokenNext(1, 'silent');
    const silent = fetch(`${ms.authority}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: REDIRECT_URI,
      }),
      signal: AbortSignal.timeout(300),
    });
    await expect(silent).rejects.toMatchObject({ name: 'TimeoutError' });

    expect(ms.stats.failedTokenRequests - failedBefore).toBe(4);
    expect((await redeem(code, verifier)).status).toBe(200);
  });
});

describe('Graph authentication and throttling', () => {
  test('answers 401 InvalidAuthenticationToken without, with unknown and with expired tokens', async () => {
    const { access } = await tokensFor('frank@contoso.example');
    for (const candidate of [undefined, 'not-a-token']) {
      const response = await graph(candidate, 'GET', '/me/drive/root');
      expect(response.status).toBe(401);
      expect(((await response.json()) as Json).error.code).toBe('InvalidAuthenticationToken');
    }
    clockMs += 3600_000;
    const expired = (await (await graph(access, 'GET', '/me/drive/root')).json()) as Json;
    expect(expired.error).toMatchObject({ code: 'InvalidAuthenticationToken', message: expect.stringMatching(/expired/) });
  });

  test('throttleNext answers 429 with Retry-After (then 503), before auth, and then serves normally', async () => {
    const { access } = await tokensFor('grace@contoso.example');
    const throttledBefore = ms.stats.throttled;
    ms.throttleNext(2, 7);
    for (const candidate of [access, undefined]) {
      const response = await graph(candidate, 'GET', '/me/drive');
      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('7');
      expect(((await response.json()) as Json).error.code).toBe('activityLimitReached');
    }
    ms.throttleNext(1, 3, 503);
    expect(((await (await graph(access, 'GET', '/me/drive')).json()) as Json).error.code).toBe('serviceNotAvailable');
    expect((await graph(access, 'GET', '/me/drive')).status).toBe(200);
    expect(ms.stats.throttled - throttledBefore).toBe(3);
  });

  test('says when a route is not served by the double, and 404s unknown paths', async () => {
    const { access } = await tokensFor('heidi@contoso.example');
    const response = await graph(access, 'GET', '/me/messages');
    expect(response.status).toBe(400);
    expect(((await response.json()) as Json).error).toMatchObject({
      code: 'invalidRequest',
      message: expect.stringContaining('local Graph'),
    });
    expect((await fetch(`${ms.url}/nothing-here`)).status).toBe(404);
  });
});

describe('OneDrive', () => {
  test('creates a folder (201), refuses the name again with fail (409, any case) and renames with rename', async () => {
    const { access } = await tokensFor('ivan@contoso.example');
    const created = await makeFolder(access, 'root', 'Print');
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: 'Print', folder: { childCount: 0 }, parentReference: { path: '/drive/root:' } });
    const conflict = await makeFolder(access, 'root', 'PRINT');
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as Json).error.code).toBe('nameAlreadyExists');
    expect(((await (await makeFolder(access, 'root', 'print', 'rename')).json()) as Json).name).toBe('print 1');
    expect(ms.listFolder('ivan@contoso.example', '')).toEqual(['Print', 'print 1']);
  });

  test('uploads in ordered fragments, serves the item with a download URL and the exact bytes back', async () => {
    const upn = 'judy@contoso.example';
    const { access } = await tokensFor(upn);
    const print = (await (await makeFolder(access, 'root', 'Print')).json()) as Json;
    const uploadedBefore = ms.stats.uploadedBytes;
    const done = await upload(access, print.id, 'report.pdf', PDF);
    expect(done.status).toBe(201);
    const item = (await done.json()) as Json;
    expect(item).toMatchObject({
      name: 'report.pdf',
      size: PDF.length,
      file: { mimeType: 'application/pdf' },
      parentReference: { id: print.id, path: '/drive/root:/Print' },
    });
    expect(ms.stats.uploadedBytes - uploadedBefore).toBe(PDF.length);
    expect(ms.fileBytes(upn, 'print/REPORT.pdf')?.equals(PDF)).toBe(true);

    const read = (await (await graph(access, 'GET', `/me/drive/items/${item.id}`)).json()) as Json;
    const downloadUrl: string = read['@microsoft.graph.downloadUrl'];
    expect(downloadUrl.startsWith(`${ms.url}/download/`)).toBe(true);
    const head = await fetch(downloadUrl, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(PDF.length));
    const downloadedBefore = ms.stats.downloadedBytes;
    const download = await fetch(downloadUrl);
    expect(download.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await download.arrayBuffer()).equals(PDF)).toBe(true);
    expect(ms.stats.downloadedBytes - downloadedBefore).toBe(PDF.length);
  });

  test('applies the conflict behaviour when the upload completes: rename, fail, replace', async () => {
    const upn = 'ken@contoso.example';
    const { access } = await tokensFor(upn);
    const print = (await (await makeFolder(access, 'root', 'Print')).json()) as Json;
    const original = (await (await upload(access, print.id, 'report.pdf', PDF)).json()) as Json;
    expect(((await (await upload(access, print.id, 'report.pdf', PDF, 'rename')).json()) as Json).name).toBe('report 1.pdf');
    expect(((await (await upload(access, print.id, 'report.pdf', PDF, 'rename')).json()) as Json).name).toBe('report 2.pdf');
    const failed = await upload(access, print.id, 'report.pdf', PDF, 'fail');
    expect(failed.status).toBe(409);
    expect(((await failed.json()) as Json).error.code).toBe('nameAlreadyExists');
    const smaller = PDF.subarray(0, 100);
    const replaced = await upload(access, print.id, 'Report.pdf', smaller, 'replace');
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toMatchObject({ id: original.id, size: 100 });
    expect(ms.listFolder(upn, 'Print')).toEqual(['report 1.pdf', 'report 2.pdf', 'report.pdf']);
  });

  test('refuses fragments out of order (416), reports status for resuming, and cancels on DELETE', async () => {
    const { access } = await tokensFor('liam@contoso.example');
    const uploadUrl = await createSession(access, 'root', 'scan.pdf');
    expect((await putFragment(uploadUrl, PDF, 0, PDF.length)).status).toBe(202);
    const skipped = await putFragment(uploadUrl, PDF, 8192, PDF.length);
    expect(skipped.status).toBe(416);
    // Graph's error object only: Graph promises nextExpectedRanges on the status GET, not on a 416.
    expect(Object.keys((await skipped.json()) as Json)).toEqual(['error']);
    expect(((await (await fetch(uploadUrl)).json()) as Json).nextExpectedRanges).toEqual(['4096-']);
    expect((await fetch(uploadUrl, { method: 'DELETE' })).status).toBe(204);
    expect((await putFragment(uploadUrl, PDF, 4096, PDF.length)).status).toBe(404);
  });

  test('refuses an upload fragment that carries an Authorization header', async () => {
    const { access } = await tokensFor('mia@contoso.example');
    const uploadUrl = await createSession(access, 'root', 'scan.pdf');
    const response = await putFragment(uploadUrl, PDF, 0, PDF.length, { Authorization: `Bearer ${access}` });
    expect(response.status).toBe(401);
    expect((await putFragment(uploadUrl, PDF, 0, PDF.length)).status).toBe(202);
  });

  test('answers a browser on another origin (CORS preflight for PUT with Content-Range, origin echoed on answers and errors), never with credentials', async () => {
    const { access } = await tokensFor('noa@contoso.example');
    const uploadUrl = await createSession(access, 'root', 'scan.pdf');
    const origin = 'http://localhost:7071';
    const preflight = (method: string, headers: string) =>
      fetch(uploadUrl, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': headers },
      });
    const allowed = await preflight('PUT', 'content-range,content-type');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(origin);
    expect(allowed.headers.get('access-control-allow-methods')).toBe('PUT, GET, DELETE');
    expect(allowed.headers.get('access-control-allow-headers')).toBe('Content-Range, Content-Type');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    for (const refused of [await preflight('PUT', 'authorization,content-range'), await preflight('POST', 'content-range')]) {
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    }
    const put = await putFragment(uploadUrl, PDF, 0, PDF.length, { Origin: origin });
    expect(put.status).toBe(202);
    expect(put.headers.get('access-control-allow-origin')).toBe(origin);
    expect(put.headers.get('vary')).toBe('Origin');
    const skipped = await putFragment(uploadUrl, PDF, 8192, PDF.length, { Origin: origin });
    expect([skipped.status, skipped.headers.get('access-control-allow-origin')]).toEqual([416, origin]);
  });

  test('dropUploadNext loses the next fragment’s connection without accepting it (the status says where to resume); holdUploadNext holds one until released', async () => {
    const { access } = await tokensFor('noa@contoso.example');
    const uploadUrl = await createSession(access, 'root', 'dropped.pdf');
    expect((await putFragment(uploadUrl, PDF, 0, PDF.length)).status).toBe(202);
    ms.dropUploadNext(1);
    const dropped = ms.stats.droppedUploads;
    await expect(putFragment(uploadUrl, PDF, 4096, PDF.length)).rejects.toThrow();
    expect(ms.stats.droppedUploads).toBe(dropped + 1);
    expect(((await (await fetch(uploadUrl)).json()) as Json).nextExpectedRanges).toEqual(['4096-']);
    expect((await putFragment(uploadUrl, PDF, 4096, PDF.length)).status).toBe(202);

    ms.holdUploadNext(1);
    let answered = false;
    const held = putFragment(uploadUrl, PDF, 8192, PDF.length).then((response) => ((answered = true), response));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toBe(false);
    ms.releaseUploads();
    expect((await held).status).toBe(201);
  });

  test('holdUploadNext holds only a fragment of a live session: one for an unknown URL is refused at once (404)', async () => {
    const { access } = await tokensFor('noa@contoso.example');
    const uploadUrl = await createSession(access, 'root', 'gone.pdf');
    expect((await fetch(uploadUrl, { method: 'DELETE' })).status).toBe(204);
    ms.holdUploadNext(1);
    expect((await putFragment(uploadUrl, PDF, 0, PDF.length)).status).toBe(404);
    const live = await createSession(access, 'root', 'held.pdf');
    let answered = false;
    const held = putFragment(live, PDF, 0, PDF.length).then((response) => ((answered = true), response));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toBe(false); // the hold was still there for a fragment that can be taken in
    ms.releaseUploads();
    expect((await held).status).toBe(202);
  });

  test('loseUploadAnswerNext carries the fragment out and drops only its answer: the last one creates the file and closes the session', async () => {
    const upn = 'olga@contoso.example';
    const { access } = await tokensFor(upn);
    const uploadUrl = await createSession(access, 'root', 'lost.pdf');
    expect((await putFragment(uploadUrl, PDF, 0, PDF.length)).status).toBe(202);
    ms.loseUploadAnswerNext(1);
    const lost = ms.stats.lostUploadAnswers;
    await expect(putFragment(uploadUrl, PDF, 4096, PDF.length)).rejects.toThrow();
    expect(ms.stats.lostUploadAnswers).toBe(lost + 1);
    expect(((await (await fetch(uploadUrl)).json()) as Json).nextExpectedRanges).toEqual(['8192-']);
    const rest = async (from: number) => {
      for (let first = from; first < PDF.length; first += 4096) {
        if (first + 4096 >= PDF.length) ms.loseUploadAnswerNext(1);
        const put = putFragment(uploadUrl, PDF, first, PDF.length);
        if (first + 4096 >= PDF.length) await expect(put).rejects.toThrow();
        else expect((await put).status).toBe(202);
      }
    };
    await rest(8192);
    expect((await fetch(uploadUrl)).status).toBe(404);
    expect(ms.fileBytes(upn, 'lost.pdf')?.equals(PDF)).toBe(true);
  });

  test('failUploadNext answers 429 or 503 with Retry-After, without taking the fragment in; Retry-After is not exposed to a page', async () => {
    const { access } = await tokensFor('olga@contoso.example');
    const uploadUrl = await createSession(access, 'root', 'busy.pdf');
    ms.failUploadNext(2, 429, 7);
    const origin = 'http://localhost:7071';
    const busy = await putFragment(uploadUrl, PDF, 0, PDF.length, { Origin: origin });
    expect([busy.status, busy.headers.get('retry-after'), ((await busy.json()) as Json).error.code]).toEqual([
      429,
      '7',
      'activityLimitReached',
    ]);
    expect(busy.headers.get('access-control-expose-headers')).toBeNull();
    expect((await putFragment(uploadUrl, PDF, 0, PDF.length)).status).toBe(429);
    expect(((await (await fetch(uploadUrl)).json()) as Json).nextExpectedRanges).toEqual(['0-']);
    ms.failUploadNext(1, 503);
    const down = await putFragment(uploadUrl, PDF, 0, PDF.length);
    expect([down.status, down.headers.get('retry-after')]).toEqual([503, '1']);
    expect((await putFragment(uploadUrl, PDF, 0, PDF.length)).status).toBe(202);
  });

  test('addresses items by path, as the SDK upload task does, and refuses invalid names', async () => {
    const upn = 'noah@contoso.example';
    const { access } = await tokensFor(upn);
    ms.putFile(upn, 'Print/Old/a.txt', Buffer.from('a'));
    const session = await graph(access, 'POST', '/me/drive/root:/Print/Old/b%20c.txt:/createUploadSession', {});
    const { uploadUrl } = (await session.json()) as Json;
    expect((await fetch(uploadUrl, { method: 'PUT', headers: { 'Content-Range': 'bytes 0-1/2' }, body: 'hi' })).status).toBe(201);
    const item = (await (await graph(access, 'GET', '/me/drive/root:/print/old/B%20C.txt:')).json()) as Json;
    expect(item).toMatchObject({ name: 'b c.txt', size: 2, file: { mimeType: 'text/plain' } });
    expect((await graph(access, 'GET', '/me/drive/root:/Print/missing.txt')).status).toBe(404);
    const invalid = await graph(access, 'POST', `/me/drive/root:/${encodeURIComponent('a?b.pdf')}:/createUploadSession`, {});
    expect(invalid.status).toBe(400);
  });

  test('removeItem takes a file or a folder out of the drive, as the user moving it away', async () => {
    const upn = 'pia@contoso.example';
    ms.putFile(upn, 'Print', Buffer.from('a file where a folder should be'));
    ms.putFile(upn, 'Old/Deep/a.txt', Buffer.from('a'));
    ms.removeItem(upn, 'print');
    ms.removeItem(upn, 'Old');
    expect(ms.listFolder(upn, '')).toEqual([]);
    expect(ms.fileBytes(upn, 'Old/Deep/a.txt')).toBeUndefined();
    expect(() => ms.removeItem(upn, 'Print')).toThrow(/No item/);
  });

  test('pages children by name with $top and @odata.nextLink, honouring $select', async () => {
    const upn = 'olga@contoso.example';
    const { access } = await tokensFor(upn);
    for (const name of ['c.pdf', 'A.pdf', 'b.pdf']) ms.putFile(upn, `Print/${name}`, Buffer.from(name));
    const print = (await (await graph(access, 'GET', '/me/drive/root:/Print')).json()) as Json;
    const names: string[] = [];
    let next: string | undefined = `/me/drive/items/${print.id}/children?$top=1&$select=name`;
    while (next) {
      const page = (await (await graph(access, 'GET', next)).json()) as Json;
      expect(page.value).toHaveLength(1);
      expect(Object.keys(page.value[0]).sort()).toEqual(['id', 'name']);
      names.push(page.value[0].name);
      next = page['@odata.nextLink'];
    }
    expect(names).toEqual(['A.pdf', 'b.pdf', 'c.pdf']);
    const full = (await (await graph(access, 'GET', `/me/drive/items/${print.id}/children`)).json()) as Json;
    expect(full.value[0]).toHaveProperty('@microsoft.graph.downloadUrl');
  });

  test('download URLs expire with the clock', async () => {
    const upn = 'pia@contoso.example';
    const { access } = await tokensFor(upn);
    const id = ms.putFile(upn, 'x.pdf', PDF);
    const read = (await (await graph(access, 'GET', `/me/drive/items/${id}`)).json()) as Json;
    clockMs += 3601_000;
    expect((await fetch(read['@microsoft.graph.downloadUrl'])).status).toBe(401);
    expect((await fetch(`${ms.url}/download/unknown`)).status).toBe(404);
  });

  test('counts Graph and token requests and logs requests without tokens', async () => {
    const before = { ...ms.stats };
    const { access } = await tokensFor('quinn@contoso.example');
    const uploadUrl = await createSession(access, 'root', 'x.pdf');
    expect(ms.stats.tokenRequests - before.tokenRequests).toBe(1);
    expect(ms.stats.graphRequests - before.graphRequests).toBe(1);
    await fetch(uploadUrl, { method: 'DELETE' });
    const logged = JSON.stringify(ms.requests);
    expect(logged).not.toContain(access);
    expect(logged).not.toContain(new URL(uploadUrl).pathname);
    expect(ms.requests.at(-1)).toEqual({ method: 'DELETE', path: '/upload/{session}', status: 204 });
  });
});

describe('OneDrive after printing: delete and move', () => {
  test('DELETE answers 204 and puts the item in the recycle bin; Graph then finds it no more (404)', async () => {
    const upn = 'rosa@contoso.example';
    const { access } = await tokensFor(upn);
    const id = ms.putFile(upn, 'Print/done.pdf', PDF);
    const deleted = await graph(access, 'DELETE', `/me/drive/items/${id}`);
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    expect(ms.listFolder(upn, 'Print')).toEqual([]);
    expect(ms.recycleBin(upn)).toEqual([{ name: 'done.pdf', deletedFrom: '/Print' }]);
    expect((await graph(access, 'GET', `/me/drive/items/${id}`)).status).toBe(404);
    const again = await graph(access, 'DELETE', `/me/drive/items/${id}`);
    expect(again.status).toBe(404);
    expect(((await again.json()) as Json).error.code).toBe('itemNotFound');
    expect((await graph(access, 'DELETE', '/me/drive/root')).status).toBe(403);
  });

  test('a child folder of an item: created (201), refused again with fail (409), found by path under the item', async () => {
    const upn = 'sam@contoso.example';
    const { access } = await tokensFor(upn);
    const print = (await (await makeFolder(access, 'root', 'Print')).json()) as Json;
    const created = await makeFolder(access, `items/${print.id}`, 'Printed');
    expect(created.status).toBe(201);
    const printed = (await created.json()) as Json;
    expect(printed.parentReference).toMatchObject({ id: print.id, path: '/drive/root:/Print' });
    const conflict = await makeFolder(access, `items/${print.id}`, 'printed');
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as Json).error.code).toBe('nameAlreadyExists');
    const found = await graph(access, 'GET', `/me/drive/items/${print.id}:/Printed?$select=id,name,folder`);
    expect(found.status).toBe(200);
    expect(await found.json()).toEqual({ id: printed.id, name: 'Printed', folder: { childCount: 0 } });
    expect((await graph(access, 'GET', `/me/drive/items/${print.id}:/Nothing`)).status).toBe(404);
  });

  test('PATCH parentReference moves the item (same id); a taken name fails (409) or is renamed with rename in the query', async () => {
    const upn = 'tara@contoso.example';
    const { access } = await tokensFor(upn);
    const id = ms.putFile(upn, 'Print/report.pdf', PDF);
    const earlier = ms.putFile(upn, 'Print/Printed/report.pdf', PDF);
    const folder = (await (await graph(access, 'GET', '/me/drive/root:/Print/Printed')).json()) as Json;
    const refused = await graph(access, 'PATCH', `/me/drive/items/${id}`, { parentReference: { id: folder.id } });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as Json).error.code).toBe('nameAlreadyExists');
    expect(ms.listFolder(upn, 'Print')).toEqual(['Printed', 'report.pdf']);

    const renamed = await graph(access, 'PATCH', `/me/drive/items/${id}?@microsoft.graph.conflictBehavior=rename`, {
      parentReference: { id: folder.id },
    });
    expect(renamed.status).toBe(200);
    expect(await renamed.json()).toMatchObject({
      id,
      name: 'report 1.pdf',
      parentReference: { id: folder.id, path: '/drive/root:/Print/Printed' },
    });
    expect(ms.listFolder(upn, 'Print')).toEqual(['Printed']);
    expect(ms.listFolder(upn, 'Print/Printed')).toEqual(['report 1.pdf', 'report.pdf']);
    expect(ms.fileBytes(upn, 'Print/Printed/report 1.pdf')?.equals(PDF)).toBe(true);
    // Moved where it is already (an answer lost, the move sent again): nothing changes.
    const again = await graph(access, 'PATCH', `/me/drive/items/${id}?@microsoft.graph.conflictBehavior=rename`, {
      parentReference: { id: folder.id },
      name: 'report 1.pdf',
    });
    expect(again.status).toBe(200);
    expect(ms.listFolder(upn, 'Print/Printed')).toEqual(['report 1.pdf', 'report.pdf']);
    expect((await graph(access, 'GET', `/me/drive/items/${earlier}`)).status).toBe(200);

    // A folder into itself, an unknown parent, a property not served here.
    expect((await graph(access, 'PATCH', `/me/drive/items/${folder.id}`, { parentReference: { id: folder.id } })).status).toBe(400);
    expect((await graph(access, 'PATCH', `/me/drive/items/${id}`, { parentReference: { id: 'LOCALNOSUCH' } })).status).toBe(404);
    expect((await graph(access, 'PATCH', `/me/drive/items/${id}`, { description: 'x' })).status).toBe(400);
  });
});
