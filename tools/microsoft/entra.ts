/**
 * The Microsoft identity platform v2.0 endpoints our app uses: authorization code + PKCE (S256)
 * and refresh tokens, for one confidential client, and admin consent. There is no sign-in UI: an
 * authorize request is approved at once for its login_hint (or the default account). Access and
 * refresh tokens are opaque random strings, kept only as SHA-256 hashes; with the `openid` scope
 * the answer also carries a signed id_token (oidc.ts).
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Account, Directory } from './accounts.js';
import { randomToken, readBody, sendJson, sendText, sha256 } from './http.js';
import { clientInfo, hasOpenId, type Oidc } from './oidc.js';

export interface EntraConfig {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly now: () => number;
  readonly accessTokenLifetimeSeconds: number;
}

/**
 * What the token endpoint answers instead of serving a request (LocalMicrosoft.failTokenNext):
 * throttled (429) or down (503) with Retry-After, `invalid_client` (the app's client secret
 * expired, AADSTS7000222), or `silent` (no answer at all until the client gives up).
 */
export type TokenEndpointFault = 429 | 503 | 'invalid_client' | 'silent';

export type Authentication = { readonly ok: true; readonly account: Account } | { readonly ok: false; readonly message: string };

const CODE_LIFETIME_MS = 10 * 60_000;
/** Entra refresh tokens for confidential clients expire after 90 days without use. */
const REFRESH_LIFETIME_MS = 90 * 24 * 3_600_000;
const FORM_LIMIT = 1024 * 1024;

interface CodeGrant {
  readonly account: Account;
  readonly grantGeneration: number;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly scope: string;
  readonly nonce: string | undefined;
  readonly expiresAtMs: number;
  redeemed: boolean;
}

interface TokenGrant {
  readonly account: Account;
  readonly grantGeneration: number;
  readonly scope: string;
  readonly expiresAtMs: number;
}

/** What a successful grant yields, before tokens are minted. */
interface Issue {
  readonly account: Account;
  readonly grantGeneration: number;
  /** Kept by a rotated refresh token: what the user consented to. */
  readonly grantedScope: string;
  /** Echoed in the answer: the scope asked for now, or the grant's. */
  readonly scope: string;
  readonly withRefreshToken: boolean;
  /** Echoed in the id_token: only the authorization code's, never on refresh. */
  readonly nonce: string | undefined;
  /** The client asked for `client_info=1` (MSAL does). */
  readonly withClientInfo: boolean;
}

interface Failure {
  readonly status: 400 | 401 | 413 | 429 | 503;
  readonly error: string;
  readonly code: number;
  readonly message: string;
}

const fail = (error: string, code: number, message: string, status: Failure['status'] = 400): Failure => ({ status, error, code, message });
const missing = (name: string): Failure =>
  fail('invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);

/** Entra's error timestamp format: `2024-05-01 10:20:30Z`. */
function entraTimestamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, 'Z');
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export class Entra {
  /** Id_tokens still to be minted with another nonce than the sign-in's (wrongNonceNext). */
  wrongNonces = 0;
  readonly #codes = new Map<string, CodeGrant>();
  readonly #accessTokens = new Map<string, TokenGrant>();
  readonly #refreshTokens = new Map<string, TokenGrant>();

  constructor(
    private readonly config: EntraConfig,
    private readonly directory: Directory,
    private readonly oidc: Oidc,
  ) {}

  /** GET /{tenant}/oauth2/v2.0/authorize */
  authorize(res: ServerResponse, query: URLSearchParams, tenantSegment: string): void {
    const target = this.#redirectTarget(query);
    if (typeof target === 'string') return sendText(res, 400, target);
    const state = query.get('state') ?? undefined;
    const problem = this.#authorizeProblem(query);
    if (problem) return redirect(res, target, { error: 'invalid_request', error_description: problem, state });
    const account = this.directory.ensure(query.get('login_hint') || this.directory.defaultUpn);
    const tenantProblem = this.#tenantProblem(tenantSegment, account);
    if (tenantProblem) return redirect(res, target, { error: 'invalid_request', error_description: tenantProblem, state });
    if (!account.consented) {
      return redirect(res, target, { error: 'consent_required', error_description: `AADSTS65001: ${this.#noConsent()}`, state });
    }
    const code = randomToken(48);
    this.#codes.set(sha256(code), {
      account,
      grantGeneration: account.grantGeneration,
      redirectUri: query.get('redirect_uri') ?? '',
      codeChallenge: query.get('code_challenge') ?? '',
      scope: query.get('scope') ?? '',
      nonce: query.get('nonce') ?? undefined,
      expiresAtMs: this.config.now() + CODE_LIFETIME_MS,
      redeemed: false,
    });
    redirect(res, target, { code, state });
  }

  /**
   * GET /{tenant}/adminconsent (v1) and /{tenant}/v2.0/adminconsent (with `scope`): an
   * administrator of the signing-in account's tenant (login_hint or the default account) grants
   * the app for the whole tenant, and is sent back with `admin_consent=True&tenant={tid}`.
   */
  adminConsent(res: ServerResponse, query: URLSearchParams, tenantSegment: string, v2: boolean): void {
    const target = this.#redirectTarget(query);
    if (typeof target === 'string') return sendText(res, 400, target);
    const state = query.get('state') ?? undefined;
    const scope = query.get('scope') ?? undefined;
    if (v2 && !scope) {
      return redirect(res, target, { error: 'invalid_request', error_description: missing('scope').message, state });
    }
    const account = this.directory.ensure(query.get('login_hint') || this.directory.defaultUpn);
    const tenantProblem = this.#tenantProblem(tenantSegment, account);
    if (tenantProblem) return redirect(res, target, { error: 'invalid_request', error_description: tenantProblem, state });
    if (!account.admin) {
      return redirect(res, target, {
        error: 'access_denied',
        error_description: `AADSTS90094: ${account.upn} is not an administrator of tenant ${account.tenantId} and cannot grant admin consent.`,
        state,
        tenant: account.tenantId,
      });
    }
    const tenant = this.directory.tenant(account.tenantId);
    if (tenant) tenant.adminConsented = true;
    redirect(res, target, { admin_consent: 'True', tenant: account.tenantId, state, ...(v2 ? { scope } : {}) });
  }

  /** POST /{tenant}/oauth2/v2.0/token */
  async token(req: IncomingMessage, res: ServerResponse, oidc: Oidc = this.oidc): Promise<void> {
    const result = await this.#grant(req);
    if ('error' in result) return this.#sendFailure(res, result);
    sendJson(res, 200, this.#mint(result, oidc), { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' });
  }

  /**
   * Answers a token request with `fault` without looking at it: no code is redeemed and no
   * refresh token used, so the client's retry finds its grant as it was (as after a real outage).
   */
  async fail(
    req: IncomingMessage,
    res: ServerResponse,
    fault: Exclude<TokenEndpointFault, 'silent'>,
    retryAfterSeconds: number,
  ): Promise<void> {
    await readBody(req, FORM_LIMIT);
    if (fault === 'invalid_client') {
      return this.#sendFailure(
        res,
        fail(
          'invalid_client',
          7000222,
          `The provided client secret keys for app '${this.config.clientId}' are expired. Visit the Azure portal to create new keys for your app.`,
          401,
        ),
      );
    }
    const failure =
      fault === 429
        ? fail(
            'temporarily_unavailable',
            50196,
            'The server terminated an operation because it encountered a client request loop (local Entra double, failTokenNext).',
            429,
          )
        : fail(
            'temporarily_unavailable',
            90033,
            'A transient error has occurred. Please try again (local Entra double, failTokenNext).',
            503,
          );
    this.#sendFailure(res, failure, { 'Retry-After': String(retryAfterSeconds) });
  }

  /** Checks a Graph request's `Authorization: Bearer …` header. */
  authenticate(authorization: string | undefined): Authentication {
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
    if (!bearer) return { ok: false, message: 'Access token is empty.' };
    const grant = this.#accessTokens.get(sha256(bearer));
    if (!grant) return { ok: false, message: 'Access token validation failure: the local Entra did not issue this token.' };
    if (this.config.now() >= grant.expiresAtMs) return { ok: false, message: 'Lifetime validation failed, the token is expired.' };
    if (!this.#stillConsented(grant)) return { ok: false, message: 'The user or administrator withdrew consent; this token was revoked.' };
    return { ok: true, account: grant.account };
  }

  /** The redirect URI to answer through, or the text of a 400 page when none can be trusted. */
  #redirectTarget(query: URLSearchParams): URL | string {
    const clientId = query.get('client_id') ?? '';
    if (clientId !== this.config.clientId) {
      return `AADSTS700016: Application with identifier '${clientId}' was not found in the directory (local Entra double).`;
    }
    const raw = query.get('redirect_uri') ?? '';
    const target = URL.canParse(raw) ? new URL(raw) : undefined;
    if (!target || raw.includes('#') || (target.protocol !== 'http:' && target.protocol !== 'https:')) {
      return `AADSTS90102: 'redirect_uri' value must be a valid absolute http(s) URI without a fragment (got '${raw}').`;
    }
    return target;
  }

  /** A tenant-specific authority signs in only that tenant's accounts (guests are not simulated). */
  #tenantProblem(tenantSegment: string, account: Account): string | undefined {
    const segment = tenantSegment.toLowerCase();
    if (segment === 'common' || segment === 'organizations') return undefined;
    if (!this.directory.tenant(segment)) return `AADSTS90002: Tenant '${tenantSegment}' not found (local Entra double).`;
    if (segment !== account.tenantId) {
      return `AADSTS50020: User account '${account.upn}' from identity provider does not exist in tenant '${tenantSegment}' and cannot access the application.`;
    }
    return undefined;
  }

  #authorizeProblem(query: URLSearchParams): string | undefined {
    if (query.get('response_type') !== 'code') return "The local Entra double serves only response_type 'code'.";
    const mode = query.get('response_mode');
    if (mode !== null && mode !== 'query') return "The local Entra double serves only response_mode 'query'.";
    if (!query.get('scope')) return "AADSTS900144: The request body must contain the following parameter: 'scope'.";
    if (!query.get('code_challenge')) return "AADSTS900144: The request body must contain the following parameter: 'code_challenge'.";
    if (query.get('code_challenge_method') !== 'S256') return "The local Entra double requires code_challenge_method 'S256'.";
    if (!/^[A-Za-z0-9_-]{43}$/.test(query.get('code_challenge') ?? '')) return 'AADSTS501491: Invalid size of Code_Challenge parameter.';
    return undefined;
  }

  async #grant(req: IncomingMessage): Promise<Issue | Failure> {
    if (req.method !== 'POST')
      return fail('invalid_request', 900561, `The endpoint only accepts POST requests. Received a ${req.method} request.`);
    const body = await readBody(req, FORM_LIMIT);
    if (!body) return fail('invalid_request', 900144, 'The request body exceeds 1 MB.', 413);
    const isForm = (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
    const form = new URLSearchParams(isForm ? body.toString('utf8') : '');
    const grantType = form.get('grant_type');
    if (!grantType) return missing('grant_type');
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
      return fail('unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
    }
    const clientProblem = this.#clientProblem(form);
    if (clientProblem) return clientProblem;
    return grantType === 'authorization_code' ? this.#redeemCode(form) : this.#redeemRefreshToken(form);
  }

  #clientProblem(form: URLSearchParams): Failure | undefined {
    const clientId = form.get('client_id');
    if (!clientId) return missing('client_id');
    if (clientId !== this.config.clientId) {
      return fail('unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory.`);
    }
    const secret = form.get('client_secret');
    if (!secret)
      return fail(
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        401,
      );
    if (!sameSecret(secret, this.config.clientSecret)) {
      return fail(
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
        401,
      );
    }
    return undefined;
  }

  #redeemCode(form: URLSearchParams): Issue | Failure {
    const code = form.get('code');
    if (!code) return missing('code');
    const grant = this.#codes.get(sha256(code));
    if (!grant || this.config.now() >= grant.expiresAtMs) {
      return fail(
        'invalid_grant',
        70008,
        'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
      );
    }
    if (grant.redeemed)
      return fail(
        'invalid_grant',
        54005,
        'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
      );
    if (form.get('redirect_uri') !== grant.redirectUri) {
      return fail(
        'invalid_grant',
        70000,
        "The provided value for the 'redirect_uri' is not valid. The value must exactly match the redirect URI used to obtain the authorization code.",
      );
    }
    if (s256(form.get('code_verifier') ?? '') !== grant.codeChallenge) {
      return fail('invalid_grant', 501481, 'The Code_Verifier does not match the code_challenge supplied in the authorization request.');
    }
    if (!this.#stillConsented(grant)) return fail('invalid_grant', 65001, this.#noConsent());
    grant.redeemed = true;
    const scope = form.get('scope') || grant.scope;
    return {
      account: grant.account,
      grantGeneration: grant.grantGeneration,
      grantedScope: grant.scope,
      scope,
      withRefreshToken: hasOfflineAccess(grant.scope),
      nonce: grant.nonce,
      withClientInfo: form.get('client_info') === '1',
    };
  }

  /** Entra rotates refresh tokens but does not revoke the one just used. */
  #redeemRefreshToken(form: URLSearchParams): Issue | Failure {
    const token = form.get('refresh_token');
    if (!token) return missing('refresh_token');
    const grant = this.#refreshTokens.get(sha256(token));
    if (!grant) return fail('invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
    if (!this.#stillConsented(grant)) return fail('invalid_grant', 65001, this.#noConsent());
    if (this.config.now() >= grant.expiresAtMs) {
      return fail(
        'invalid_grant',
        700082,
        'The refresh token has expired due to inactivity. The token was issued on a date and was inactive for 90 days.',
      );
    }
    const scope = form.get('scope') || grant.scope;
    return {
      account: grant.account,
      grantGeneration: grant.grantGeneration,
      grantedScope: grant.scope,
      scope,
      withRefreshToken: true,
      nonce: undefined,
      withClientInfo: form.get('client_info') === '1',
    };
  }

  #mint(issue: Issue, oidc: Oidc): Record<string, unknown> {
    const now = this.config.now();
    const lifetime = this.config.accessTokenLifetimeSeconds;
    const accessToken = randomToken(48);
    const { account, grantGeneration } = issue;
    this.#accessTokens.set(sha256(accessToken), { account, grantGeneration, scope: issue.scope, expiresAtMs: now + lifetime * 1000 });
    const answer: Record<string, unknown> = {
      token_type: 'Bearer',
      scope: issue.scope,
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: accessToken,
    };
    if (issue.withRefreshToken) {
      const refreshToken = randomToken(64);
      this.#refreshTokens.set(sha256(refreshToken), {
        account,
        grantGeneration,
        scope: issue.grantedScope,
        expiresAtMs: now + REFRESH_LIFETIME_MS,
      });
      answer.refresh_token = refreshToken;
    }
    if (hasOpenId(issue.grantedScope)) {
      // wrongNonceNext: an id_token for another sign-in (a replayed or swapped token, as a relying party must refuse it).
      let nonce = issue.nonce;
      if (nonce !== undefined && this.wrongNonces > 0) {
        this.wrongNonces -= 1;
        nonce = `${nonce}-other`;
      }
      answer.id_token = oidc.idToken({ account, clientId: this.config.clientId, nonce, nowMs: now });
    }
    if (issue.withClientInfo) answer.client_info = clientInfo(account);
    return answer;
  }

  #stillConsented(grant: { readonly account: Account; readonly grantGeneration: number }): boolean {
    return grant.account.consented && grant.account.grantGeneration === grant.grantGeneration;
  }

  #noConsent(): string {
    return `The user or administrator has not consented to use the application with ID '${this.config.clientId}'. Send an interactive authorization request for this user and resource.`;
  }

  #sendFailure(res: ServerResponse, failure: Failure, headers: Readonly<Record<string, string>> = {}): void {
    const timestamp = entraTimestamp(this.config.now());
    const traceId = randomUUID();
    const correlationId = randomUUID();
    sendJson(
      res,
      failure.status,
      {
        error: failure.error,
        error_description: `AADSTS${failure.code}: ${failure.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
        error_codes: [failure.code],
        timestamp,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `https://login.microsoftonline.com/error?code=${failure.code}`,
      },
      { 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache', ...headers },
    );
  }
}

function hasOfflineAccess(scope: string): boolean {
  return scope.split(/\s+/).some((item) => item.toLowerCase() === 'offline_access');
}

function redirect(res: ServerResponse, target: URL, params: Readonly<Record<string, string | undefined>>): void {
  const location = new URL(target);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) location.searchParams.set(name, value);
  res.writeHead(302, { Location: location.href, 'Cache-Control': 'no-store' });
  res.end();
}
