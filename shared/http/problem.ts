import { Type } from '@sinclair/typebox';

/**
 * RFC 9457 problem details. Each kind has a stable `type` URI and a fixed title; `detail` says
 * what went wrong this time. Tag URIs (RFC 4151) are used because RFC 9457 §3.1.1 suggests them
 * for types that are identifiers, not pages to fetch.
 */
export const problemKinds = {
  'validation-failed': { status: 400, title: 'The request is not valid' },
  'malformed-json': { status: 400, title: 'The request body is not valid JSON' },
  unauthorized: { status: 401, title: 'Authentication is required' },
  forbidden: { status: 403, title: 'Not allowed' },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict with the current state' },
  'onedrive-not-connected': { status: 409, title: 'OneDrive is not connected' },
  'onedrive-reconnect-required': { status: 409, title: 'OneDrive must be connected again' },
  'onedrive-folder-blocked': { status: 409, title: 'A file is in the way of a OneDrive folder' },
  'managed-by-directory': { status: 409, title: 'Provisioned by the identity provider' },
  'badge-taken': { status: 409, title: 'The badge is already registered' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported content type' },
  'too-many-requests': { status: 429, title: 'Too many requests' },
  'internal-error': { status: 500, title: 'Internal error' },
  'bad-gateway': { status: 502, title: 'An upstream service failed' },
  'service-unavailable': { status: 503, title: 'Service unavailable' },
  'onedrive-not-configured': { status: 503, title: 'OneDrive is not configured in this region' },
  'microsoft-sign-in-not-configured': { status: 503, title: 'Sign in with Microsoft is not configured in this region' },
  'app-not-configured': { status: 503, title: 'The app is not configured' },
  'release-topics-full': { status: 503, title: 'This region has no room for another printer' },
} as const;

export type ProblemKind = keyof typeof problemKinds;

export const problemTypeUri = (kind: ProblemKind) => `tag:roger.cloud,2026:problems/${kind}`;

/**
 * A problem the HTTP layer finds itself (a body it cannot read, a method the path does not take,
 * a missing token) or one an HTTP edge in functions/ decides. Domain code throws the domain's
 * errors (shared/errors.ts) instead; error-rendering.ts says both, in the route's format.
 */
export class HttpProblem extends Error {
  readonly status: number;
  constructor(
    readonly kind: ProblemKind,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
    this.status = problemKinds[kind].status;
  }

  toJSON(instance?: string) {
    return {
      type: problemTypeUri(this.kind),
      title: problemKinds[this.kind].title,
      status: this.status,
      detail: this.detail,
      ...(instance ? { instance } : {}),
      ...this.extensions,
    };
  }
}

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ format: 'uri' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ pointer: Type.String(), detail: Type.String() }))),
    errorId: Type.Optional(Type.String({ description: 'Quote this to support; it names the logged error.' })),
  },
  { additionalProperties: true, description: 'RFC 9457 problem details' },
);
