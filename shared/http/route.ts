import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { HttpMethod } from '@azure/functions';
import { isPrincipalOf, type Principal, type PrincipalKind, type PrincipalOf } from '../auth/principal.js';
import type { Logger } from '../logging/logger.js';
import type { ErrorPages } from './error-rendering.js';
import type { RouteTable } from './route-table.js';
import type { Services } from '../services.js';
import type { UserDoc } from '../users/users.js';

/**
 * One row of the route table. `functions/index.ts` registers each row with `app.http`; the
 * local host serves the same rows; the OpenAPI document is generated from them.
 */
export interface RouteSchemas {
  /** Route parameters, e.g. `{id}` in `regions/{id}`. Values arrive as strings. */
  readonly params?: TObject;
  /** Query string. Routes without one reject any query parameter. */
  readonly query?: TObject;
  /** JSON request body (`application/json`, or the media types of `jsonMediaTypes`). */
  readonly body?: TSchema;
  /**
   * The media types a JSON body may be sent as; default `application/json` alone. SCIM routes
   * take `application/scim+json` and `application/json` (RFC 7644 §3.1).
   */
  readonly jsonMediaTypes?: readonly string[];
  /** The JSON body may be left out entirely (no body, no Content-Type): the handler gets `undefined`. */
  readonly bodyOptional?: boolean;
  /**
   * Form body (`application/x-www-form-urlencoded`), as the OAuth RFCs require. Empty values
   * count as absent and a repeated parameter is an error (RFC 6749 §3.1, §3.2).
   */
  readonly form?: TObject;
}

/**
 * Who may call a route: the token kinds it accepts, and at least one of the scopes / roles.
 * Roles are checked against the stored user (one point read), not the token's claim.
 */
export interface AuthRequirement {
  readonly kinds: readonly PrincipalKind[];
  readonly anyScope?: readonly string[];
  readonly anyRole?: readonly string[];
}

export interface ResponseSpec {
  readonly description: string;
  readonly schema?: TSchema;
  /** Default `application/json`; problem responses are documented with the problem schema. */
  readonly contentType?: string;
}

type StaticOr<T, Fallback> = T extends TSchema ? Static<T> : Fallback;

export interface RouteInput<S extends RouteSchemas> {
  readonly params: StaticOr<S['params'], Record<string, never>>;
  readonly query: StaticOr<S['query'], Record<string, never>>;
  readonly body: S['bodyOptional'] extends true ? StaticOr<S['body'], undefined> | undefined : StaticOr<S['body'], undefined>;
  readonly form: StaticOr<S['form'], undefined>;
  readonly headers: Headers;
  readonly method: string;
  /** Path only, no query string: safe to log. */
  readonly path: string;
}

/** What a handler returns: JSON (or text) body, status, extra headers. */
export interface RouteResult {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Default `application/json`. */
  readonly contentType?: string;
}

export interface RequestContext {
  readonly log: Logger;
  /** The invocation id: names this request in logs and in 500 problems. */
  readonly requestId: string;
  /** The whole table, for the few routes that describe it (404/405, OpenAPI). */
  readonly table: RouteTable;
  /** The authenticated caller; set on every route that declares `auth`. */
  readonly principal?: Principal;
  /**
   * The calling user's item as stored now, read once per request (a point read in the
   * caller's partition). Rejects with 401 when the token names no user (a printer) or a user
   * that no longer exists: an erased user can do nothing with a token that is still valid.
   * Every role decision uses this, never the token's claim.
   */
  readonly currentUser: () => Promise<UserDoc>;
}

export interface RouteDefinition<S extends RouteSchemas = RouteSchemas> {
  /** Function name in Azure: letters, digits, `-` and `_`. */
  readonly name: string;
  readonly methods: readonly HttpMethod[];
  /** Azure Functions route template: literal segments, `{name}`, or a final `{*name}`. */
  readonly route: string;
  /**
   * Functions keys are not used: every route authenticates callers itself (OAuth), so the host
   * lets every request through. `defineRoute` fills this in.
   */
  readonly authLevel: 'anonymous';
  readonly summary: string;
  readonly tags: readonly string[];
  readonly request?: S;
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  /** Bearer-token requirement, checked before the input is read. Unset: anonymous. */
  readonly auth?: AuthRequirement;
  /**
   * How this route's errors are said (shared/http/error-rendering.ts): `oauth`, RFC 6749 §5.2
   * JSON (the /oauth endpoints); `html`, a page (what a browser shows, such as /device); `scim`,
   * the SCIM error schema (RFC 7644 §3.12) as `application/scim+json` (the /scim/v2 endpoints).
   * Default: RFC 9457 problems.
   */
  readonly errorFormat?: 'problem' | 'oauth' | 'html' | 'scim';
  /** `html` routes: the wording of the error pages this route expects, and the way back. */
  readonly errorPages?: ErrorPages;
  /** Left out of the OpenAPI document (the catch-all). */
  readonly internal?: boolean;
  readonly handler: (input: RouteInput<S>, services: Services, context: RequestContext) => Promise<RouteResult>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteDefinition<any>;

/**
 * The caller, narrowed to the kinds the handler serves: `callerOf(context, 'user')`, or
 * `callerOf(context, 'user', 'session')` and a switch on `kind`. The wrapper has already
 * refused tokens of other kinds (`auth.kinds`), so a mismatch here is a route whose `auth`
 * and handler disagree: a bug, answered 500.
 */
export function callerOf<K extends PrincipalKind>(context: RequestContext, ...kinds: readonly [K, ...K[]]): PrincipalOf<K> {
  const caller = context.principal;
  if (!caller) throw new Error('route has no auth requirement');
  if (!isPrincipalOf(caller, kinds)) throw new Error(`route lets a ${caller.kind} token reach a handler for ${kinds.join(' or ')}`);
  return caller;
}

/** A route as written in functions/: `authLevel` may be left out (every route is anonymous to the host). */
export type RouteSpec<S extends RouteSchemas> = Omit<RouteDefinition<S>, 'authLevel'> & { readonly authLevel?: 'anonymous' };

/** Infers the schema types for the handler and fills in the defaults. */
export function defineRoute<S extends RouteSchemas>(route: RouteSpec<S>): RouteDefinition<S> {
  return { ...route, authLevel: 'anonymous' };
}
